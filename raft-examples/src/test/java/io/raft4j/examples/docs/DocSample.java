package io.raft4j.examples.docs;

import java.util.List;

/**
 * One {@code ```java} block of a markdown file, with what its marker comment says about it.
 *
 * @param file     the markdown file, relative to the repository root (for messages)
 * @param line     the line of the block's first code line in that file (1-based)
 * @param markerLine the line of its marker comment, or {@code line - 1} when it has none
 * @param kind     how the block is wrapped to compile
 * @param given    member declarations the block assumes (fields, abstract methods, types)
 * @param then     statements run after a {@code run} sample, in its scope: checks and clean-up
 * @param excerptOf for a {@code unit} that abridges a real type of the API, that type's name: its
 *                 methods must be the real type's, or {@code ""}
 * @param run      whether the sample is also run (its givens then carry values)
 * @param skip     why the block is not compiled, or {@code null}
 * @param code     the block's lines
 */
record DocSample(String file, int line, int markerLine, Kind kind, String given, String then,
                 String excerptOf, boolean run, String skip, List<String> code) {

    /** How a block is placed in the generated source. */
    enum Kind {
        /** Import declarations: the prelude of every other sample. */
        IMPORTS,
        /** A type declaration, nested in its file's class so that the file's other samples see it. */
        TYPE,
        /** Fields and methods of its file's class, so that the file's other samples can call them. */
        MEMBERS,
        /** The body of a method (the default). */
        STATEMENTS,
        /** One expression, assigned to a variable. */
        EXPRESSION,
        /** A whole compilation unit after the prelude, compiled on its own. */
        UNIT
    }

    String where() {
        return file + ":" + line;
    }
}
