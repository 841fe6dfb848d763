package io.raft4j.examples.docs;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Wraps the samples of markdown files into Java sources and compiles them with the test class
 * path, reporting each error at the markdown file and line it comes from.
 *
 * <p>Each markdown file becomes the package {@code docsamples.<file>}: its {@code type} samples
 * are top-level types there, its {@code members} samples fill an abstract class {@code Members},
 * and each {@code statements} or {@code expression} sample is the method {@code sample()} of a
 * class {@code Sample_L<line>} extending {@code Members}, with its givens as members (a
 * {@code run} sample's class extends nothing, so that it can be made and run: its givens must be
 * complete, with values); a
 * {@code unit} sample is a compilation unit of its own. Every source starts with the JDK
 * imports below ({@link SampleChecks} too, for {@code then:} parts) and the {@code imports}
 * samples. A line that is only {@code ...}, and
 * {@code { ... }}, stand for code left out (they become comments).
 */
final class DocSampleCompiler {

    private static final List<String> JDK_IMPORTS = List.of(
            "import java.io.*;", "import java.nio.*;", "import java.nio.file.*;",
            "import java.util.*;", "import java.util.concurrent.*;", "import io.raft4j.examples.docs.SampleChecks;");

    /** What the compiler said: errors at their markdown lines, and the classes of runnable samples. */
    record Result(List<String> errors, Map<DocSample, String> runnable, Map<DocSample, String> excerpts) {
    }

    private static final Pattern PUBLIC_TYPE =
            Pattern.compile("public\\s+(?:(?:final|abstract|sealed)\\s+)*(?:class|interface|enum|record)\\s+(\\w+)");

    private DocSampleCompiler() {
    }

    static Result compile(List<DocSample> samples, Path outputDir) {
        List<DocSample> imports = samples.stream().filter(s -> s.skip() == null && s.kind() == DocSample.Kind.IMPORTS).toList();
        Map<String, List<DocSample>> byFile = new LinkedHashMap<>();
        for (DocSample s : samples) {
            if (s.skip() == null && s.kind() != DocSample.Kind.IMPORTS) {
                byFile.computeIfAbsent(s.file(), f -> new ArrayList<>()).add(s);
            }
        }
        List<Source> sources = new ArrayList<>();
        Map<DocSample, String> runnable = new LinkedHashMap<>();
        Map<DocSample, String> excerpts = new LinkedHashMap<>();
        for (Map.Entry<String, List<DocSample>> e : byFile.entrySet()) {
            String pkg = "docsamples." + slug(e.getKey());
            Source main = new Source(pkg.replace('.', '/') + "/Samples.java", e.getKey() + ":1");
            main.add("package " + pkg + ";", null, 0);
            prelude(main, imports);
            for (DocSample s : e.getValue()) {
                if (s.kind() == DocSample.Kind.TYPE) {
                    main.code(s);
                }
            }
            main.add("abstract class Members {", null, 0);
            for (DocSample s : e.getValue()) {
                if (s.kind() == DocSample.Kind.MEMBERS) {
                    main.given(s);
                    main.code(s);
                }
            }
            main.add("}", null, 0);
            for (DocSample s : e.getValue()) {
                switch (s.kind()) {
                    case STATEMENTS, EXPRESSION -> {
                        String name = "Sample_L" + s.line();
                        main.add(s.run() ? "class " + name + " {" : "abstract class " + name + " extends Members {", s, s.markerLine());
                        main.given(s);
                        main.add("void sample() throws Exception {", s, s.markerLine());
                        if (s.kind() == DocSample.Kind.EXPRESSION) {
                            main.add("Object value =", s, s.markerLine());
                            main.code(s);
                            main.add(";", s, s.line() + s.code().size() - 1);
                        } else {
                            main.code(s);
                        }
                        if (!s.then().isEmpty()) {
                            main.add(s.then(), s, s.markerLine());
                        }
                        main.add("}}", s, s.markerLine());
                        if (s.run()) {
                            runnable.put(s, pkg + "." + name);
                        }
                    }
                    case UNIT -> {
                        String unitPkg = pkg + "_L" + s.line();
                        Source unit = new Source(unitPkg.replace('.', '/') + "/" + publicType(s) + ".java", s.where());
                        unit.add("package " + unitPkg + ";", s, s.markerLine());
                        prelude(unit, imports);
                        unit.code(s);
                        sources.add(unit);
                        if (!s.excerptOf().isEmpty()) {
                            excerpts.put(s, unitPkg + "." + publicType(s));
                        }
                    }
                    default -> {
                    }
                }
            }
            sources.add(main);
        }
        return new Result(run(sources, outputDir), runnable, excerpts);
    }

    private static void prelude(Source source, List<DocSample> imports) {
        for (String line : JDK_IMPORTS) {
            source.add(line, null, 0);
        }
        for (DocSample s : imports) {
            source.code(s);
        }
    }

    private static List<String> run(List<Source> sources, Path outputDir) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no system Java compiler: run the tests on a JDK, not a JRE");
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<String> options = List.of("-classpath", System.getProperty("java.class.path"),
                "-d", outputDir.toString(), "-proc:none", "-nowarn", "-Xlint:none", "-encoding", "UTF-8");
        javac.getTask(null, null, diagnostics, options, null, sources).call();
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() != Diagnostic.Kind.ERROR) {
                continue;
            }
            Source source = (Source) d.getSource();
            String where = source == null ? "?" : source.where((int) d.getLineNumber());
            errors.add(where + ": " + d.getMessage(Locale.ROOT).replace("\n", "\n    ")
                    + (source == null ? "" : "\n    in: " + source.line((int) d.getLineNumber()).strip()));
        }
        return errors;
    }

    /** The name of the unit's public type, which javac wants as its file's name. */
    private static String publicType(DocSample s) {
        Matcher m = PUBLIC_TYPE.matcher(String.join("\n", s.code()));
        return m.find() ? m.group(1) : "Unit";
    }

    private static String slug(String file) {
        return file.replaceAll("[^A-Za-z0-9]", "_");
    }

    /** A generated source that remembers the markdown line of each of its lines. */
    private static final class Source extends SimpleJavaFileObject {
        private final String fallback;
        private final List<String> lines = new ArrayList<>();
        private final List<String> origins = new ArrayList<>();

        Source(String path, String fallback) {
            super(URI.create("string:///" + path), Kind.SOURCE);
            this.fallback = fallback;
        }

        void add(String text, DocSample origin, int line) {
            lines.add(text);
            origins.add(origin == null ? fallback : origin.file() + ":" + line);
        }

        void code(DocSample s) {
            for (int i = 0; i < s.code().size(); i++) {
                String text = s.code().get(i);
                text = text.strip().equals("...") ? "// ..." : text.replace("{ ... }", "{ /* ... */ }");
                add(text, s, s.line() + i);
            }
        }

        void given(DocSample s) {
            if (!s.given().isEmpty()) {
                add(s.given().endsWith(";") || s.given().endsWith("}") ? s.given() : s.given() + ";", s, s.markerLine());
            }
        }

        String where(int line) {
            return line >= 1 && line <= origins.size() ? origins.get(line - 1) : fallback;
        }

        String line(int line) {
            return line >= 1 && line <= lines.size() ? lines.get(line - 1) : "";
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return String.join("\n", lines) + "\n";
        }
    }
}
