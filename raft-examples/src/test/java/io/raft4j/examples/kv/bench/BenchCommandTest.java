package io.raft4j.examples.kv.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench tool refuses, before starting anything, settings it could never run; and it runs. */
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
        assertTrue(usageError("--clients", "0").contains("--clients: must be in 1.."));
        assertTrue(usageError("--connections", "-1").contains("--connections: must be positive"));
    }

    /**
     * Found in a sweep: --clients 2147483647 passed, started the cluster, and then asked for a queue
     * of that many clients: an OutOfMemoryError ("Requested array size exceeds VM limit") with a
     * stack trace, exit 1 and no JSON line.
     */
    @Test
    void moreClientsThanItCanHoldAreRefused() {
        String err = usageError("--clients", "2147483647");
        assertTrue(err.startsWith("--clients: must be in 1.." + BenchCommand.MAX_CLIENTS + ", was 2147483647"), err);
        assertTrue(usageError("--clients", String.valueOf(BenchCommand.MAX_CLIENTS + 1)).startsWith("--clients: "));
    }

    /**
     * Found in a sweep: --tick-ms 0 or -1 was refused by Raft only as the nodes were built (a stack
     * trace, exit 1); --duration NaN passed the check "duration <= 0" and ran a benchmark.
     */
    @Test
    void timingsItCouldNeverRunAreRefused() {
        assertTrue(usageError("--tick-ms", "-1").startsWith("--tick-ms: -1 is outside 1..10000"));
        assertTrue(usageError("--tick-ms", "0").startsWith("--tick-ms: 0 is outside 1..10000"));
        assertTrue(usageError("--tick-ms", "9223372036854775807").startsWith("--tick-ms: 9223372036854775807 is outside"));
        assertTrue(usageError("--duration", "NaN").startsWith("--warmup must be >= 0 and --duration > 0"));
        assertTrue(usageError("--duration", "Infinity").startsWith("--warmup must be >= 0 and --duration > 0"));
        assertTrue(usageError("--warmup", "NaN").startsWith("--warmup must be >= 0 and --duration > 0"));
        assertTrue(usageError("--warmup-max", "NaN").startsWith("--warmup must be >= 0 and --duration > 0"));
    }

    /**
     * Found in a sweep: --duration 1e10 (or --warmup, --warmup-max of as much) passed, and its
     * deadline in nanoseconds overflowed: the measured window was over as it began, and the run
     * printed ops_per_s 0 and p50_ms 0 with exit status 0.
     */
    @Test
    void timesWhoseDeadlinesWouldOverflowAreRefused() {
        for (String option : new String[] {"--duration", "--warmup", "--warmup-max"}) {
            String err = usageError(option, "1e10");
            assertTrue(err.startsWith("--warmup, --warmup-max and --duration: at most " + BenchCommand.MAX_SECONDS
                    + " s each"), err);
        }
    }

    @Test
    void theClientPathPipelinesSeveralClientsOnOneConnection() {
        // 8 clients on 2 connections: 4 commands in flight on each. The run must end with no error
        // and every node agreeing; that each reply completes its own command is checked against
        // the front directly (KvServerTest.aRespClientOnEitherEventLoopPipelines...).
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int code;
        try {
            System.setOut(new PrintStream(json, true, StandardCharsets.UTF_8));
            code = io.raft4j.examples.kv.Main.commandLine(new BenchCommand()).execute("--path", "client", "--clients", "8",
                    "--connections", "2", "--size", "64", "--warmup", "0", "--duration", "1", "--fsync", "false");
        } finally {
            System.setOut(stdout);
        }
        String line = json.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, line);
        assertTrue(line.contains("\"replicated\": true"), line);
        assertTrue(line.contains("\"errors_total\": 0,"), line);
        assertTrue(line.contains("(2 connections, pipelined)"), line);
    }

    /**
     * Found in a sweep: a run whose values did not fit in the heap (--size 8000000 with 64 clients
     * under -Xmx96m) ended with an OutOfMemoryError's stack trace and no JSON line, where every run
     * prints one (../shared/BENCHMARK.md), with its error when it failed. Run in a JVM of its own.
     */
    @Test
    void aRunThatRunsOutOfMemoryStillPrintsItsJsonLine() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process run = new ProcessBuilder(javaBin, "-Xmx96m", "-cp", System.getProperty("java.class.path"),
                io.raft4j.examples.kv.Main.class.getName(), "bench", "--size", "8000000", "--clients", "64",
                "--fsync", "false", "--warmup", "0", "--duration", "1")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(run.waitFor(120, TimeUnit.SECONDS), "still running");
            // Typically {"system": "ours", ..., "error": "java.lang.OutOfMemoryError: Java heap space", ...}
            // with status 1; the line is what must be there, whichever thread ran out first.
            assertTrue(out.startsWith("{\"system\": \"ours\"") && out.endsWith("}" + System.lineSeparator()),
                    "stdout: " + out);
        } finally {
            run.destroyForcibly();
        }
    }

    @Test
    void aUsageErrorIsOneLineAndAHintNotTheWholeHelp() {
        String nl = System.lineSeparator();
        assertEquals("--clients: must be in 1.." + BenchCommand.MAX_CLIENTS + ", was 0" + nl + "Run with --help for usage." + nl,
                usageError("--clients", "0"));
    }
}
