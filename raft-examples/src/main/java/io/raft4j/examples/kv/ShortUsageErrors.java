package io.raft4j.examples.kv;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;

/**
 * Prints a usage error as its one line (and picocli's "did you mean" for a mistyped option), then
 * a hint where the help is. picocli's default prints the whole help after the error: some sixty
 * lines that push the one line that matters off the screen. A {@link StartRefused} is its line alone.
 */
final class ShortUsageErrors implements CommandLine.IParameterExceptionHandler {
    static final String HINT = "Run with --help for usage.";

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(cmd.getColorScheme().errorText(ex.getMessage()));
        if (!(ex instanceof StartRefused)) {
            UnmatchedArgumentException.printSuggestions(ex, err);
            err.println(HINT);
        }
        err.flush();
        return cmd.getExitCodeExceptionMapper() != null
                ? cmd.getExitCodeExceptionMapper().getExitCode(ex)
                : cmd.getCommandSpec().exitCodeOnInvalidInput();
    }
}
