package io.raft4j.examples.kv;

import io.raft4j.examples.kv.bench.BenchCommand;
import picocli.CommandLine;

/**
 * {@code java -jar raft-kv.jar --id n1 --raft-address ... } runs a node;
 * {@code java -jar raft-kv.jar bench ...} runs the benchmark.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code;
        if (args.length > 0 && args[0].equals("bench")) {
            String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            code = commandLine(new BenchCommand()).execute(rest);
        } else {
            code = commandLine(new NodeCommand()).execute(args);
        }
        System.exit(code);
    }

    /** The command line of {@code command} as the jar runs it: usage errors in one line and a hint. */
    public static CommandLine commandLine(Object command) {
        return new CommandLine(command).setParameterExceptionHandler(new ShortUsageErrors());
    }
}
