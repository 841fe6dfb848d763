package io.raft4j.examples.docs;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Compares a doc's abridged copy of an API type with the type itself: every method the copy
 * declares (in nested types too) must exist in the real type with the same parameter and return
 * types, and be a default method in both or in neither. What the copy leaves out is not checked.
 */
final class ExcerptCheck {
    private ExcerptCheck() {
    }

    /** The differences, one line each; empty when the copy is true to the type. */
    static List<String> differences(Class<?> copy, Class<?> real) {
        List<String> out = new ArrayList<>();
        compare(copy, real, copy.getName(), real.getName(), out);
        return out;
    }

    private static void compare(Class<?> copy, Class<?> real, String copyRoot, String realRoot, List<String> out) {
        for (Method m : copy.getDeclaredMethods()) {
            if (m.isSynthetic()) {
                continue;
            }
            Method match = Arrays.stream(real.getDeclaredMethods())
                    .filter(r -> r.getName().equals(m.getName())
                            && names(r.getParameterTypes(), realRoot, realRoot)
                                .equals(names(m.getParameterTypes(), copyRoot, realRoot)))
                    .findFirst().orElse(null);
            String shown = real.getSimpleName() + "." + m.getName()
                    + "(" + names(m.getParameterTypes(), copyRoot, realRoot) + ")";
            if (match == null) {
                out.add(shown + " is not a method of " + real.getName());
            } else if (!name(match.getReturnType(), realRoot, realRoot).equals(name(m.getReturnType(), copyRoot, realRoot))) {
                out.add(shown + " returns " + match.getReturnType().getName() + ", not " + m.getReturnType().getName());
            } else if (match.isDefault() != m.isDefault() || Modifier.isStatic(match.getModifiers()) != Modifier.isStatic(m.getModifiers())) {
                out.add(shown + ": default or static differs from " + real.getName());
            }
        }
        for (Class<?> nested : copy.getDeclaredClasses()) {
            Class<?> realNested = Arrays.stream(real.getDeclaredClasses())
                    .filter(r -> r.getSimpleName().equals(nested.getSimpleName())).findFirst().orElse(null);
            if (realNested == null) {
                out.add(nested.getSimpleName() + " is not a nested type of " + real.getName());
            } else {
                compare(nested, realNested, copyRoot, realRoot, out);
            }
        }
    }

    private static String names(Class<?>[] types, String from, String to) {
        return Arrays.stream(types).map(t -> name(t, from, to)).collect(Collectors.joining(", "));
    }

    /** A type's name, with the copy's own types named as the real ones they stand for. */
    private static String name(Class<?> type, String from, String to) {
        String n = type.getName();
        return n.startsWith(from) ? to + n.substring(from.length()) : n;
    }
}
