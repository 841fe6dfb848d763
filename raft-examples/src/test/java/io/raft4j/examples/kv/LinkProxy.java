package io.raft4j.examples.kv;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on one directed link: node {@code from} dials node {@code to} through it, at its Raft
 * port (the transport carries a node's messages out on the connections it dials, so these
 * connections carry what {@code from} sends {@code to}) or at its client port (the commands
 * {@code from} forwards to {@code to} while {@code to} leads, the replies coming back). What passes is decided by two {@link Link}s: {@code out} for
 * the bytes {@code from} sends, {@code back} for the bytes coming back on the same connections.
 *
 * <p>While a link is blackholed its bytes are held, not dropped: the pump stops reading, the
 * sender's socket buffers fill up, and on heal what was held arrives late, in order, as TCP would
 * deliver it once a firewall's DROP rule is lifted. Dropping bytes in the middle of a stream instead
 * would cut frames in half, which TCP never does. A refused link resets its connections and every
 * new one at once, like a REJECT rule.
 */
final class LinkProxy implements AutoCloseable {
    private static final int CHUNK = 64 * 1024;

    private final Link out;
    private final Link back;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final AtomicInteger relayed = new AtomicInteger();
    private volatile boolean closed;

    LinkProxy(Link out, Link back, int targetPort) throws IOException {
        this.out = out;
        this.back = back;
        this.targetPort = targetPort;
        this.server = new ServerSocket(InMemoryKvCluster.freePort(), 50, InetAddress.getLoopbackAddress());
        start("proxy-" + out + "-accept", this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections passed on to the target so far: what shows that a node dials through this proxy. */
    int relayedConnections() {
        return relayed.get();
    }

    /** Resets every connection (the link was refused): both nodes see it break at once. */
    void resetConnections() {
        for (Socket s : sockets) {
            reset(s);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket dialler;
            try {
                dialler = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (out.mode() == Link.Mode.REFUSE) {
                reset(dialler);
                continue;
            }
            Socket target = new Socket();
            try {
                target.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
            } catch (IOException e) {
                reset(dialler); // the node is down: refused, as a direct dial would be
                closeQuietly(target);
                continue;
            }
            relayed.incrementAndGet();
            sockets.add(dialler);
            sockets.add(target);
            start("proxy-" + out, () -> pump(dialler, target, out));
            start("proxy-" + back + "-back", () -> pump(target, dialler, back));
        }
    }

    /**
     * Copies {@code src} to {@code dst} while {@code link} lets bytes through, holding them while
     * it does not; an end of stream is passed on (as a close of both) only once the link lets it.
     */
    private void pump(Socket src, Socket dst, Link link) {
        byte[] buf = new byte[CHUNK];
        try {
            InputStream in = src.getInputStream();
            OutputStream os = dst.getOutputStream();
            while (true) {
                int n = in.read(buf);
                link.awaitOpen();
                if (n < 0) {
                    break;
                }
                os.write(buf, 0, n);
                os.flush();
            }
        } catch (IOException | InterruptedException e) {
            // reset by a refusal, closed by the other pump, or the proxy closing
        } finally {
            closeQuietly(src);
            closeQuietly(dst);
            sockets.remove(src);
            sockets.remove(dst);
        }
    }

    private void start(String name, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } finally {
                threads.remove(Thread.currentThread());
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST, not FIN: "connection reset", as a REJECT rule answers
        } catch (IOException e) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        resetConnections();
        threads.forEach(Thread::interrupt);
    }
}
