package io.raft4j.examples.kv.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench tool refuses, before starting anything, settings it could never run. */
class BenchCommandTest {
    private static String usageError(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = io.raft4j.examples.kv.Main.commandLine(new BenchCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute(args), "exit code for a usage error; stderr: " + err);
        return err.toString();
    }

    @Test
    void aValueThatCannotFitInOneLogEntryIsRefused() {
        // 8 MiB is the log's entry limit: a SET of an 8 MiB value, with its key, is over it.
        String err = usageError("--size", String.valueOf(8 << 20));
        assertTrue(err.contains("--size: must be in 1.." + BenchCommand.MAX_VALUE_BYTES), err);
        assertTrue(usageError("--size", "0").contains("--size"));
        assertTrue(usageError("--clients", "0").contains("--clients: must be positive"));
    }

    @Test
    void aUsageErrorIsOneLineAndAHintNotTheWholeHelp() {
        String nl = System.lineSeparator();
        assertEquals("--clients: must be positive, was 0" + nl + "Run with --help for usage." + nl,
                usageError("--clients", "0"));
    }
}
