package io.raft4j.examples.kv;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The follower's forwarding connections, against a stand-in leader. */
@Timeout(60)
class LeaderForwarderTest {
    /**
     * Found by an adversarial-client sweep: a command was counted as awaiting a reply before its
     * buffer was allocated, so one that could not be encoded (no direct memory left, or larger than a
     * buffer can be) stayed in the queue, never sent: it took the reply of the next command on that
     * connection (a write never sent answered OK), and every later one the reply of the one before.
     */
    @Test
    void aCommandThatCannotBeEncodedFailsAloneAndTheNextGetsItsOwnReply() throws Exception {
        EventLoopGroup group = new NioEventLoopGroup(1);
        try (EchoFirstArgument leader = new EchoFirstArgument();
             LeaderForwarder forwarder = new LeaderForwarder(group, 1, RespLimits.DEFAULT, 1000)) {
            String address = "127.0.0.1:" + leader.port();
            assertEquals(Reply.simple("BEFORE"), forwarder.send(address, 0, args("BEFORE"), 5000).get(10, TimeUnit.SECONDS));
            // Encoded, it would take more bytes than an int counts: no buffer can hold it.
            List<byte[]> unencodable = Collections.nCopies(140_000_000, new byte[0]);
            CompletableFuture<Reply> failed = forwarder.send(address, 0, unencodable, 5000);
            CompletableFuture<Reply> next = forwarder.send(address, 0, args("NEXT"), 5000);
            assertEquals(Reply.simple("NEXT"), next.get(10, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> failed.get(10, TimeUnit.SECONDS));
            LeaderForwarder.ForwardException why = assertInstanceOf(LeaderForwarder.ForwardException.class, e.getCause());
            assertFalse(why.sent, "nothing of it left this node: safe to retry");
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static List<byte[]> args(String... args) {
        return java.util.Arrays.stream(args).map(a -> a.getBytes(StandardCharsets.UTF_8)).toList();
    }

    /** A stand-in leader on one connection: answers each command {@code +<its first argument>}. */
    private static final class EchoFirstArgument implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final Thread thread = new Thread(this::serve, "echo-first-argument");

        EchoFirstArgument() throws IOException {
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            try (Socket s = server.accept()) {
                DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                while (true) {
                    int n = Integer.parseInt(line(in).substring(1));
                    String first = null;
                    for (int i = 0; i < n; i++) {
                        byte[] arg = new byte[Integer.parseInt(line(in).substring(1))];
                        in.readFully(arg);
                        line(in);
                        if (first == null) {
                            first = new String(arg, StandardCharsets.UTF_8);
                        }
                    }
                    out.write(("+" + first + "\r\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                // closed by the test
            }
        }

        private static String line(DataInputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) != '\r') {
                if (c < 0) {
                    throw new IOException("closed");
                }
                sb.append((char) c);
            }
            in.read();
            return sb.toString();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
