package io.raft4j.examples.kv;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** What went wrong with a path, in words: the JDK's exceptions often carry only the path. */
final class PathErrors {
    private PathErrors() {
    }

    static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String reason = fs.getReason() != null ? fs.getReason()
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "exists and is not a directory"
                    : e.getClass().getSimpleName();
            return fs.getFile() + ": " + reason;
        }
        return e.toString();
    }
}
