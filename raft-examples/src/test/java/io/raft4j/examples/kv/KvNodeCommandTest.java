package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad command lines are refused with a message that names the option (nothing is started). */
class KvNodeCommandTest {
    @TempDir
    Path dir;

    private String run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new NodeCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int code = cl.execute(args);
        assertEquals(2, code, "exit code for a usage error; stderr: " + err);
        return err.toString();
    }

    private String[] with(String... overrides) {
        List<String> args = new ArrayList<>(List.of("--id", "n1", "--raft-address", "127.0.0.1:7001",
                "--client-address", "127.0.0.1:6379", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
                "--data-dir", dir.resolve("n1").toString()));
        for (int i = 0; i < overrides.length; i += 2) {
            int at = args.indexOf(overrides[i]);
            if (at >= 0) {
                args.set(at + 1, overrides[i + 1]);
            } else {
                args.add(overrides[i]);
                args.add(overrides[i + 1]);
            }
        }
        return args.toArray(String[]::new);
    }

    @Test
    void missingOptionsAreNamed() {
        String err = run("--id", "n1");
        assertTrue(err.contains("Missing required options"), err);
        assertTrue(err.contains("--raft-address") && err.contains("--client-address") && err.contains("--peers")
                && err.contains("--data-dir"), err);
    }

    @Test
    void badValuesNameTheOption() {
        assertTrue(run(with("--raft-address", "127.0.0.1")).contains("--raft-address: '127.0.0.1' is not host:port"));
        assertTrue(run(with("--client-address", "h:99999")).contains("--client-address: 'h:99999': port 99999 is outside 1..65535"));
        assertTrue(run(with("--client-address", "127.0.0.1:7001")).contains("--client-address: must differ from --raft-address"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n2")).contains("--peers: 'n2' is not ID=HOST:PORT"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n2=nowhere")).contains("--peers: n2: 'nowhere' is not host:port"));
        assertTrue(run(with("--peers", "n2=127.0.0.1:7002")).contains("--peers: must include this node"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n1=127.0.0.1:7002")).contains("--peers: n1 is listed twice"));
        assertTrue(run(with("--id", "a b")).contains("--id: 'a b' must be non-empty"));
        assertTrue(run(with("--tick-ms", "0")).contains("--tick-ms: 0 is outside 1..10000"));
        assertTrue(run(with("--tick-ms", "abc")).contains("--tick-ms"));
        assertTrue(run(with("--heartbeat-ticks", "10")).contains("--heartbeat-ticks: must be at least 1 and below --election-ticks"));
        assertTrue(run(with("--read-mode", "eventual")).contains("--read-mode: 'eventual' is not linearizable, lease or stale"));
        assertTrue(run(with("--max-request-bytes", "10")).contains("--max-request-bytes: must be at least --max-bulk-bytes"));
        assertTrue(run(with("--request-timeout-ms", "9223372036854775807"))
                .contains("--request-timeout-ms: 9223372036854775807 is outside 10..86400000"));
        assertTrue(run(with("--unknown", "x")).contains("Unknown option"));
    }

    @Test
    void settingsRefuseTimeoutsThatCouldOverflow() {
        KvNode.Settings ok = KvNode.Settings.defaults("n1", Map.of("n1", "127.0.0.1:7001"),
                HostPort.parse("127.0.0.1:6379"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ok.withRequestTimeout(Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("requestTimeoutMs"), e.getMessage());
    }

    @Test
    void aDataDirThatCannotBeCreatedIsNamed() throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("a-file"), "not a directory");
        String err = run(with("--data-dir", file.toString()));
        assertTrue(err.startsWith("--data-dir: " + file + " exists and is not a directory"), err);
        Path below = file.resolve("below");
        String under = run(with("--data-dir", below.toString()));
        assertTrue(under.startsWith("--data-dir: cannot create " + below + ": "), under);
        assertFalse(under.contains("Exception"), "a message, not a stack trace: " + under);
    }
}
