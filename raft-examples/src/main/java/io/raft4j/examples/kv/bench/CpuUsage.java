package io.raft4j.examples.kv.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Cores used over an interval: by this JVM, and by the whole host (Linux {@code /proc/stat}), to
 * see how much of a shared machine the benchmark had.
 */
final class CpuUsage {
    private final long startNanos = System.nanoTime();
    private final long startProcess = processCpuNanos();
    private final long startHost = hostBusyTicks();

    /** Cores used by this JVM since construction. */
    double ownCores() {
        long p = processCpuNanos();
        return p < 0 || startProcess < 0 ? Double.NaN : (p - startProcess) / (double) (System.nanoTime() - startNanos);
    }

    /** Cores used by the whole host since construction (NaN where /proc/stat is missing). */
    double hostCores() {
        long h = hostBusyTicks();
        if (h < 0 || startHost < 0) {
            return Double.NaN;
        }
        return (h - startHost) / 100.0 / ((System.nanoTime() - startNanos) / 1e9);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Busy time of all CPUs in USER_HZ ticks: everything but idle and iowait. */
    private static long hostBusyTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Milliseconds the JIT compilers have worked so far, or 0 if unknown. */
    static long jitMillis() {
        var c = ManagementFactory.getCompilationMXBean();
        return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : 0;
    }
}
