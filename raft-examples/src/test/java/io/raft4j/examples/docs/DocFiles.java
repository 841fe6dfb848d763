package io.raft4j.examples.docs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The repository's markdown documentation: README.md and docs/*.md. Public for the tests of other packages. */
public final class DocFiles {
    private DocFiles() {
    }

    /** The repository root: the first directory above the working directory with README.md and docs/. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isDirectory(dir.resolve("docs")) && Files.isRegularFile(dir.resolve("README.md")))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no README.md and docs/ above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** README.md, then docs/*.md in name order. */
    public static List<Path> markdown() throws IOException {
        Path root = root();
        List<Path> files = new ArrayList<>();
        files.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        return files;
    }

    /** {@code file}'s path from the repository root, with forward slashes (for messages). */
    public static String name(Path file) {
        return root().relativize(file).toString().replace('\\', '/');
    }
}
