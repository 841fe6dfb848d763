package io.raft4j.examples.kv;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The options are well-formed, but the node refuses to start on what it found: an address in use,
 * a data directory that is another node's, damaged or cannot be recovered. Reported like a usage
 * error (one line naming the option, exit status 2) but without the hint to read the usage, which
 * would not help: the message itself says what to do.
 */
final class StartRefused extends ParameterException {
    StartRefused(CommandLine commandLine, String message) {
        super(commandLine, message);
    }
}
