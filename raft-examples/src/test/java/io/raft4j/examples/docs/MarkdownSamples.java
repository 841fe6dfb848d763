package io.raft4j.examples.docs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds the {@code ```java} blocks of a markdown text and reads the marker comment before each.
 *
 * <p>A marker is an HTML comment ending on the line right before the fence (it may span lines):
 * <pre>
 * &lt;!-- sample: statements run | given: RaftConfig config; LogStorage log | then: node.close(); --&gt;
 * </pre>
 * The first part names the {@link DocSample.Kind kind} (default {@code statements}), optionally
 * followed by {@code run}; then, separated by {@code " | "}: {@code given:} member declarations
 * the block assumes, {@code then:} statements run after a {@code run} block in its scope, or
 * {@code skip:} why the block is not compiled (the kind is then {@code skip}), or, for a
 * {@code unit} that abridges a type of the API, {@code excerpt of:} that type's name.
 */
final class MarkdownSamples {

    private static final String MARKER = "<!-- sample:";

    private MarkdownSamples() {
    }

    static List<DocSample> read(String file, String markdown) {
        String[] lines = markdown.split("\n", -1);
        List<DocSample> samples = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].strip().equals("```java")) {
                continue;
            }
            int start = i + 1;
            int end = start;
            while (end < lines.length && !lines[end].strip().equals("```")) {
                end++;
            }
            if (end == lines.length) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": a ```java block is never closed");
            }
            samples.add(sample(file, lines, i, List.of(lines).subList(start, end)));
            i = end;
        }
        return samples;
    }

    private static DocSample sample(String file, String[] lines, int fence, List<String> code) {
        int line = fence + 2;
        int markerEnd = fence - 1;
        if (markerEnd < 0 || !lines[markerEnd].strip().endsWith("-->")) {
            return new DocSample(file, line, fence + 1, DocSample.Kind.STATEMENTS, "", "", "", false, null, code);
        }
        int markerStart = markerEnd;
        while (markerStart > 0 && !lines[markerStart].contains("<!--")) {
            markerStart--;
        }
        StringBuilder text = new StringBuilder();
        for (int j = markerStart; j <= markerEnd; j++) {
            text.append(lines[j].strip()).append(' ');
        }
        String comment = text.toString().strip();
        if (!comment.startsWith(MARKER)) {
            return new DocSample(file, line, fence + 1, DocSample.Kind.STATEMENTS, "", "", "", false, null, code);
        }
        String body = comment.substring(MARKER.length(), comment.length() - "-->".length()).strip();
        String[] parts = body.split(" \\| ");
        String[] head = parts[0].strip().split("\\s+");
        int markerLine = markerStart + 1;
        String given = "";
        String then = "";
        String skip = null;
        String excerptOf = "";
        for (int p = 1; p < parts.length; p++) {
            String part = parts[p].strip();
            if (part.startsWith("given:")) {
                given = part.substring("given:".length()).strip();
            } else if (part.startsWith("excerpt of:")) {
                excerptOf = part.substring("excerpt of:".length()).strip();
            } else if (part.startsWith("then:")) {
                then = part.substring("then:".length()).strip();
            } else {
                throw new IllegalArgumentException(file + ":" + markerLine + ": unknown marker part '" + part + "'");
            }
        }
        if (head[0].startsWith("skip:")) {
            skip = body.substring("skip:".length()).strip();
            if (skip.isEmpty()) {
                throw new IllegalArgumentException(file + ":" + markerLine + ": a skipped sample must say why");
            }
            return new DocSample(file, line, markerLine, DocSample.Kind.STATEMENTS, "", "", "", false, skip, code);
        }
        DocSample.Kind kind;
        try {
            kind = DocSample.Kind.valueOf(head[0].toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ":" + markerLine + ": unknown sample kind '" + head[0] + "'");
        }
        boolean run = head.length > 1 && head[1].equals("run");
        if (head.length > (run ? 2 : 1)) {
            throw new IllegalArgumentException(file + ":" + markerLine + ": unknown marker words " + parts[0]);
        }
        return new DocSample(file, line, markerLine, kind, given, then, excerptOf, run, null, code);
    }
}
