package io.raft4j.examples.kv.resp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A valid client pipeline for {@link RespRequestDecoderFuzzTest}, drawn from a seed within given
 * {@link RespLimits}: RESP arrays of bulk strings, inline commands, and the empty requests the
 * decoder skips ({@code *0}, {@code *-1}, blank lines). It remembers where each command ends (the
 * decoder must emit it once those bytes have arrived, not before) and where the length headers are
 * (so that mutations can aim at them).
 */
final class RespPipeline {
    /** Bytes of an argument that need no quoting in an inline command. */
    private static final byte[] WORD = "abcxyzABCXYZ0123456789-_:.*$+!?@#".getBytes(StandardCharsets.US_ASCII);
    /** Bytes that matter to the decoder, drawn more often than chance would draw them. */
    static final byte[] SPECIAL = {'\r', '\n', '*', '$', ':', '+', '-', ' ', '\t', '"', '\'', '\\', 'x', '0', '9', 0, (byte) 0xff};
    private static final byte[] SEPARATORS = {' ', ' ', ' ', '\t', 0x0b, '\f', '\r'};

    final byte[] bytes;
    final List<List<byte[]>> commands;
    /** {@code commandEnds[i]} is the offset just past command {@code i}'s last byte. */
    final int[] commandEnds;
    /** Each {@code *} or {@code $} header as {index of its type byte, index of its CR}. */
    final List<int[]> headers;

    private RespPipeline(byte[] bytes, List<List<byte[]>> commands, int[] commandEnds, List<int[]> headers) {
        this.bytes = bytes;
        this.commands = commands;
        this.commandEnds = commandEnds;
        this.headers = headers;
    }

    /** The commands that end at or before {@code offset}: what the decoder must emit from that many bytes. */
    List<List<byte[]>> commandsWithin(int offset) {
        int n = 0;
        while (n < commandEnds.length && commandEnds[n] <= offset) {
            n++;
        }
        return commands.subList(0, n);
    }

    static RespPipeline generate(SplittableRandom r, RespLimits limits) {
        return new Builder(r, limits).build(1 + r.nextInt(6));
    }

    private static final class Builder {
        private final SplittableRandom r;
        private final RespLimits limits;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final List<List<byte[]>> commands = new ArrayList<>();
        private final List<Integer> ends = new ArrayList<>();
        private final List<int[]> headers = new ArrayList<>();

        Builder(SplittableRandom r, RespLimits limits) {
            this.r = r;
            this.limits = limits;
        }

        RespPipeline build(int items) {
            for (int i = 0; i < items; i++) {
                int kind = r.nextInt(20);
                if (kind < 10) {
                    arrayCommand();
                } else if (kind < 16) {
                    inlineCommand();
                } else if (kind < 18) {
                    header('*', r.nextBoolean() ? 0 : -1); // an empty request, skipped
                } else {
                    write(pick(List.of("\r\n", "\n", "  \r\n", "\t\n"))); // a blank inline line, skipped
                }
            }
            return new RespPipeline(out.toByteArray(), commands, ends.stream().mapToInt(Integer::intValue).toArray(), headers);
        }

        private void arrayCommand() {
            List<byte[]> args = randomArgs(Math.min(limits.maxArrayLength(), 6), 64);
            header('*', args.size());
            for (byte[] arg : args) {
                header('$', arg.length);
                out.writeBytes(arg);
                write("\r\n");
            }
            commandDone(args);
        }

        private void inlineCommand() {
            // A few tries at a random line that fits maxInlineBytes; one byte always fits.
            for (int attempt = 0; ; attempt++) {
                List<byte[]> args = attempt < 4 ? randomArgs(Math.min(limits.maxArrayLength(), 4), 12) : List.of(new byte[] {'x'});
                byte[] line = renderInline(args);
                if (line.length <= limits.maxInlineBytes()) {
                    out.writeBytes(line);
                    write("\n");
                    commandDone(args);
                    return;
                }
            }
        }

        /** 1..maxArgs arguments within maxBulkBytes each and maxRequestBytes together, now and then exactly at them. */
        private List<byte[]> randomArgs(int maxArgs, int usualMaxLength) {
            int count = r.nextInt(4) == 0 ? maxArgs : 1 + r.nextInt(maxArgs);
            List<byte[]> args = new ArrayList<>();
            long budget = limits.maxRequestBytes();
            for (int i = 0; i < count; i++) {
                int cap = (int) Math.min(limits.maxBulkBytes(), budget);
                int length = cap <= usualMaxLength && r.nextInt(5) == 0 ? cap : r.nextInt(Math.min(cap, usualMaxLength) + 1);
                args.add(randomBytes(length));
                budget -= length;
            }
            return args;
        }

        private byte[] randomBytes(int length) {
            byte[] b = new byte[length];
            boolean word = r.nextBoolean(); // half the arguments are plain words, as commands mostly are
            for (int i = 0; i < length; i++) {
                b[i] = word ? WORD[r.nextInt(WORD.length)]
                        : r.nextInt(3) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (byte) r.nextInt(256);
            }
            return b;
        }

        /** An inline line (no LF) that {@link RespRequestDecoder#splitInline} turns back into {@code args}. */
        private byte[] renderInline(List<byte[]> args) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int i = 0, lead = r.nextInt(3); i < lead; i++) {
                line.write(r.nextBoolean() ? ' ' : '\t');
            }
            for (int i = 0; i < args.size(); i++) {
                if (i > 0) {
                    for (int j = 0, gap = 1 + r.nextInt(2); j < gap; j++) {
                        line.write(SEPARATORS[r.nextInt(SEPARATORS.length)]);
                    }
                }
                renderToken(args.get(i), line);
            }
            for (int i = 0, trail = r.nextInt(3); i < trail; i++) {
                line.write(' ');
            }
            byte[] body = line.toByteArray();
            if (body.length > 0 && body[0] == '*') {
                body = concat(new byte[] {' '}, body); // a line starting with '*' is an array header, not inline
            }
            // Now and then exactly as long as the limit allows (spaces before the line end are ignored).
            int cr = r.nextBoolean() ? 1 : 0;
            if (r.nextInt(6) == 0 && body.length + cr < limits.maxInlineBytes() && limits.maxInlineBytes() <= 4096) {
                body = concat(body, " ".repeat(limits.maxInlineBytes() - body.length - cr).getBytes(StandardCharsets.US_ASCII));
            }
            return cr == 1 ? concat(body, new byte[] {'\r'}) : body;
        }

        private void renderToken(byte[] token, ByteArrayOutputStream line) {
            boolean bare = token.length > 0;
            boolean singleOk = token.length == 0 || token[token.length - 1] != '\\';
            for (byte b : token) {
                bare &= b != '"' && b != '\'' && !isSpace(b);
                singleOk &= b != '\n';
            }
            int style = r.nextInt(3);
            if (bare && style == 0) {
                line.writeBytes(token);
            } else if (singleOk && style == 1) {
                line.write('\'');
                for (byte b : token) {
                    if (b == '\'') {
                        line.write('\\');
                    }
                    line.write(b);
                }
                line.write('\'');
            } else {
                line.write('"');
                boolean escapeAll = r.nextBoolean();
                for (byte b : token) {
                    writeDoubleQuoted(b, escapeAll, line);
                }
                line.write('"');
            }
        }

        private void writeDoubleQuoted(byte b, boolean escapeAll, ByteArrayOutputStream line) {
            switch (b) {
                case '"', '\\' -> line.writeBytes(new byte[] {'\\', b});
                case '\n' -> line.writeBytes(new byte[] {'\\', 'n'});
                default -> {
                    if (!escapeAll || (b >= 0x20 && b < 0x7f)) {
                        line.write(b);
                    } else if (b == '\r' || b == '\t' || b == 7 || b == 8) {
                        line.writeBytes(new byte[] {'\\', (byte) (b == '\r' ? 'r' : b == '\t' ? 't' : b == 7 ? 'a' : 'b')});
                    } else {
                        String hex = String.format("%02x", b & 0xff);
                        line.writeBytes(("\\x" + (r.nextBoolean() ? hex : hex.toUpperCase())).getBytes(StandardCharsets.US_ASCII));
                    }
                }
            }
        }

        private void header(char type, long n) {
            headers.add(new int[] {out.size(), out.size() + 1 + Long.toString(n).length()});
            write(type + Long.toString(n) + "\r\n");
        }

        private void commandDone(List<byte[]> args) {
            commands.add(args);
            ends.add(out.size());
        }

        private void write(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
        }

        private <T> T pick(List<T> choices) {
            return choices.get(r.nextInt(choices.size()));
        }
    }

    static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == '\f';
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
