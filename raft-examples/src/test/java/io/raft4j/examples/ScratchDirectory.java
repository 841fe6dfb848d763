package io.raft4j.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A temporary directory for a manual scale run, deleted with all it holds when the run ends. */
final class ScratchDirectory implements AutoCloseable {
    final Path path;

    ScratchDirectory(String prefix) throws IOException {
        this.path = Files.createTempDirectory(prefix);
    }

    @Override
    public void close() {
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
