package io.raft4j.spi;

/**
 * The durable store failed: a write may not be durable, or stored data is unreadable or corrupt.
 * A node that sees this stops; it never carries on as if the write had succeeded.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
