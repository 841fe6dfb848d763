package io.raft4j.examples.kv;

import io.raft4j.examples.docs.DocFiles;
import io.raft4j.examples.kv.bench.BenchCommand;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code raft-kv.jar} command line in README.md and docs/*.md parses as the jar parses it
 * (picocli, the options and their types), and a node's passes the node's own checks
 * ({@link NodeCommand#validate}): a documented command that the jar refuses is a doc bug.
 * {@code [--opt a|b]} (usage notation) is read as {@code --opt a}.
 */
class DocCommandLinesTest {

    private static final Pattern INVOCATION = Pattern.compile("raft-kv\\.jar((?: +[^ `]+)+)");

    /** One documented command line: where it is and its arguments. */
    record DocCommand(String where, List<String> args) {
    }

    @Test
    void everyDocumentedCommandLineIsAccepted() throws IOException {
        List<DocCommand> commands = commands();
        assertTrue(commands.size() >= 8, "found only " + commands + ": are the docs still read?");
        List<String> refused = new ArrayList<>();
        for (DocCommand c : commands) {
            try {
                check(c.args());
            } catch (RuntimeException e) {
                refused.add(c.where() + ": " + String.join(" ", c.args()) + "\n    " + e.getMessage());
            }
        }
        assertEquals(List.of(), refused);
    }

    @Test
    void aRefusedCommandLineIsReported() {
        CommandLine.ParameterException unknown = org.junit.jupiter.api.Assertions.assertThrows(
                CommandLine.ParameterException.class, () -> check(List.of("bench", "--threads", "4")));
        assertTrue(unknown.getMessage().contains("--threads"), unknown.getMessage());
        RuntimeException invalid = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> check(List.of("--id", "n1", "--raft-address", "127.0.0.1:7001", "--client-address", "127.0.0.1:6379",
                        "--peers", "n2=127.0.0.1:7002", "--data-dir", "no-such-dir/n1")));
        assertTrue(invalid.getMessage().contains("--peers"), invalid.getMessage());
    }

    private static void check(List<String> args) {
        if (!args.isEmpty() && args.get(0).equals("bench")) {
            Main.commandLine(new BenchCommand()).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
            return;
        }
        NodeCommand node = new NodeCommand();
        CommandLine.ParseResult parsed = Main.commandLine(node).parseArgs(args.toArray(String[]::new));
        if (!parsed.isUsageHelpRequested() && !parsed.isVersionHelpRequested()) {
            node.validate();
        }
    }

    /** The invocations of raft-kv.jar with arguments, lines continued with a backslash joined. */
    private static List<DocCommand> commands() throws IOException {
        List<DocCommand> out = new ArrayList<>();
        for (Path file : DocFiles.markdown()) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                StringBuilder text = new StringBuilder(lines.get(i));
                int first = i;
                while (text.toString().stripTrailing().endsWith("\\") && i + 1 < lines.size()) {
                    String joined = text.toString().stripTrailing();
                    text.setLength(0);
                    text.append(joined, 0, joined.length() - 1).append(' ').append(lines.get(++i).strip());
                }
                String usage = text.toString().replaceAll("\\[(--[a-z-]+) ([^]|]+)[^]]*]", "$1 $2");
                Matcher m = INVOCATION.matcher(usage);
                while (m.find()) {
                    List<String> args = Arrays.stream(m.group(1).strip().split(" +"))
                            .takeWhile(a -> !a.startsWith("#") && !a.equals(">") && !a.equals("&&")).toList();
                    out.add(new DocCommand(DocFiles.name(file) + ":" + (first + 1), args));
                }
            }
        }
        return out;
    }
}
