package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The protocol core and its messages stay pure: no threads, sockets, files, clocks or global
 * randomness. Checked on the sources so a violation names the file and line.
 */
class CorePurityTest {
    private static final Pattern FORBIDDEN = Pattern.compile(
            "java\\.net\\.|java\\.nio\\.channels|java\\.io\\.File\\b|java\\.nio\\.file|\\bThread\\b|"
                    + "System\\.currentTimeMillis|System\\.nanoTime|java\\.time\\.Clock|Instant\\.now|"
                    + "Math\\.random|new Random\\(|ThreadLocalRandom|java\\.util\\.concurrent");

    @Test
    void coreAndMessagesUseNoThreadsSocketsFilesClocksOrGlobalRandomness() throws IOException {
        List<String> violations = new ArrayList<>();
        int scanned = 0;
        for (String pkg : List.of("io/raft4j/core", "io/raft4j/message")) {
            Path dir = Path.of("src/main/java").resolve(pkg);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    scanned++;
                    List<String> lines = Files.readAllLines(file);
                    for (int i = 0; i < lines.size(); i++) {
                        if (FORBIDDEN.matcher(lines.get(i)).find()) {
                            violations.add(file.getFileName() + ":" + (i + 1) + ": " + lines.get(i).trim());
                        }
                    }
                }
            }
        }
        assertTrue(scanned > 10, "scanned too few sources: " + scanned);
        assertEquals(List.of(), violations);
    }
}
