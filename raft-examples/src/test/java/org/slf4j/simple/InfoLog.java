package org.slf4j.simple;

import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * For tests: what one class logs at INFO and above while an action runs. The tests' logging
 * (simplelogger.properties) shows WARN and above only, and slf4j-simple fixes a logger's level when
 * it is made, so this sets it on the logger itself, from its package (the level field is not public).
 * slf4j-simple writes to System.err, which is captured meanwhile.
 */
public final class InfoLog {
    private InfoLog() {
    }

    /** Runs {@code action} with {@code source} logging at INFO; returns what was written to System.err. */
    public static String of(Class<?> source, Callable<?> action) throws Exception {
        SimpleLogger logger = (SimpleLogger) LoggerFactory.getLogger(source);
        int level = logger.currentLogLevel;
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        logger.currentLogLevel = SimpleLogger.LOG_LEVEL_INFO;
        try {
            action.call();
        } finally {
            logger.currentLogLevel = level;
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
