package io.raft4j.examples.kv;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** What went wrong with a path, in words: the JDK's exceptions often carry only the path. */
final class PathErrors {
    private PathErrors() {
    }

    static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String reason = fs.getReason() != null ? fs.getReason()
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? existing(fs.getFile())
                    : e.getClass().getSimpleName();
            return fs.getFile() + ": " + reason;
        }
        return e.toString();
    }

    /** Why a directory could not be created where something is: a link to nothing reads as one too. */
    private static String existing(String file) {
        Path path = file == null ? null : Path.of(file);
        if (path != null && Files.isSymbolicLink(path) && !Files.exists(path)) {
            try {
                return "a symbolic link to " + Files.readSymbolicLink(path) + ", which does not exist (a disk not mounted?)";
            } catch (IOException e) {
                return "a symbolic link to nothing";
            }
        }
        return "exists and is not a directory";
    }
}
