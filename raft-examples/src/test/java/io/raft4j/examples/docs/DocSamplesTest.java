package io.raft4j.examples.docs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The {@code ```java} blocks of README.md and docs/*.md compile against the current API, and
 * those marked {@code run} run: a sample that does not compile is the first thing a new user
 * hits. {@link MarkdownSamples} describes the marker comment that says how a block is wrapped;
 * {@link DocSampleCompiler} how it is wrapped.
 */
class DocSamplesTest {

    @TempDir
    static Path classes;

    private static List<DocSample> samples;
    private static DocSampleCompiler.Result result;

    @BeforeAll
    static void compileTheDocs() throws IOException {
        samples = new ArrayList<>();
        for (Path file : DocFiles.markdown()) {
            samples.addAll(MarkdownSamples.read(DocFiles.name(file), Files.readString(file, StandardCharsets.UTF_8)));
        }
        result = DocSampleCompiler.compile(samples, classes);
    }

    @Test
    void everyJavaSampleCompiles() {
        long compiled = samples.stream().filter(s -> s.skip() == null).count();
        assertTrue(compiled >= 14, "found only " + compiled + " samples: is the markdown still read?");
        if (!result.errors().isEmpty()) {
            fail(result.errors().size() + " compiler errors in the docs' samples:\n" + String.join("\n", result.errors()));
        }
    }

    /** Skipping is the exception: each says why, and they stay few. */
    @Test
    void fewSamplesAreSkipped() {
        List<DocSample> skipped = samples.stream().filter(s -> s.skip() != null).toList();
        assertTrue(skipped.size() <= 2, "skipped samples: " + skipped);
    }

    @Test
    void runnableSamplesRun() throws Exception {
        assertTrue(result.errors().isEmpty(), "the samples do not compile (see everyJavaSampleCompiles)");
        assertFalse(result.runnable().isEmpty(), "no sample is marked run");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                DocSamplesTest.class.getClassLoader())) {
            for (Map.Entry<DocSample, String> e : result.runnable().entrySet()) {
                Class<?> type = loader.loadClass(e.getValue());
                Constructor<?> constructor = type.getDeclaredConstructor();
                constructor.setAccessible(true);
                Object sample = constructor.newInstance();
                Method method = type.getDeclaredMethod("sample");
                method.setAccessible(true);
                assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                    try {
                        method.invoke(sample);
                    } catch (InvocationTargetException failure) {
                        throw new AssertionError(e.getKey().where() + " failed when run", failure.getCause());
                    }
                }, e.getKey().where());
            }
        }
    }

    /** A doc's abridged copy of an API type declares only methods the type has, as the type has them. */
    @Test
    void excerptsMatchTheirTypes() throws Exception {
        assertTrue(result.errors().isEmpty(), "the samples do not compile (see everyJavaSampleCompiles)");
        assertFalse(result.excerpts().isEmpty(), "no sample is marked as an excerpt");
        List<String> differences = new ArrayList<>();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                DocSamplesTest.class.getClassLoader())) {
            for (Map.Entry<DocSample, String> e : result.excerpts().entrySet()) {
                Class<?> copy = loader.loadClass(e.getValue());
                Class<?> real = Class.forName(e.getKey().excerptOf());
                ExcerptCheck.differences(copy, real).forEach(d -> differences.add(e.getKey().where() + ": " + d));
            }
        }
        assertEquals(List.of(), differences);
    }

    /** The harness itself: a broken sample is reported at its markdown line, with javac's message. */
    @Test
    void aBrokenSampleIsReportedAtItsFileAndLine(@TempDir Path out) {
        String markdown = """
                # A doc

                <!-- sample: statements | given: RaftConfig config -->
                ```java
                RaftNode<String> node = RaftNode.builder(config, null)
                        .noSuchSetting(3)
                        .build();
                ```
                """;
        List<DocSample> broken = new ArrayList<>(MarkdownSamples.read("docs/x.md", markdown));
        broken.addAll(MarkdownSamples.read("docs/imports.md", """
                <!-- sample: imports -->
                ```java
                import io.raft4j.*;
                import io.raft4j.core.RaftConfig;
                ```
                """));
        List<String> errors = DocSampleCompiler.compile(broken, out).errors();
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("docs/x.md:6: cannot find symbol"), errors.get(0));
    }
}
