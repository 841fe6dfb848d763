package io.raft4j.transport.netty;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.nio.ByteBuffer;

/**
 * Runs, in memory, a TLS handshake of this member's client context with its own server context
 * before the transport starts: what every peer with the same trusted authorities will do. A key that
 * is not the certificate's, a certificate that has expired or is not valid yet, or one that no
 * trusted authority signed, used to be accepted at start: the member started, every handshake with
 * it failed, and the reason was only in its peers' logs. Now the start fails, naming it.
 */
final class TlsSelfCheck {
    /** Far more steps than a handshake takes: a bound in case an engine stops making progress. */
    private static final int MAX_STEPS = 200;

    private TlsSelfCheck() {
    }

    /**
     * @return the node ids this member's certificate names, as its peers will read them
     * @throws IllegalArgumentException if the handshake fails, with its root cause and the files, or
     *                                  if the certificate names no node id and the settings check them
     */
    static CertifiedNodeIds verify(TlsSettings tls, SslContext server, SslContext client) {
        SSLEngine serverEngine = server.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine clientEngine = client.newEngine(ByteBufAllocator.DEFAULT);
        CertifiedNodeIds ids;
        try {
            handshake(clientEngine, serverEngine);
            // What the server end received: the certificate peers see, whatever else the chain file holds.
            ids = CertifiedNodeIds.of(serverEngine.getSession().getPeerCertificates()[0]);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("TLS: this member's certificate " + tls.certificateChain()
                    + " with key " + tls.privateKey() + " fails a handshake with itself, so peers trusting "
                    + tls.trustedCertificates() + " would refuse it too: " + Causes.rootMessage(e) + " (is the key the"
                    + " certificate's, the certificate valid now, and signed by a trusted authority?)", e);
        } finally {
            clientEngine.closeOutbound();
            serverEngine.closeOutbound();
        }
        if (tls.checkNodeIds() && ids.ids().isEmpty()) {
            throw new IllegalArgumentException("TLS: this member's certificate " + tls.certificateChain()
                    + " names no node id, and with checkNodeIds (the default) peers refuse every frame it sends:"
                    + " issue it with a URI subject alternative name " + CertifiedNodeIds.URI_PREFIX + "<id> for each"
                    + " node id this process runs, or, for certificates issued without them, turn the check off"
                    + " (TlsSettings.withoutNodeIdCheck(), see docs/transport.md)");
        }
        return ids;
    }

    private static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
        int packet = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
        int application = Math.max(client.getSession().getApplicationBufferSize(),
                server.getSession().getApplicationBufferSize());
        ByteBuffer toServer = ByteBuffer.allocate(4 * packet);
        ByteBuffer toClient = ByteBuffer.allocate(4 * packet);
        ByteBuffer plain = ByteBuffer.allocate(application);
        client.beginHandshake();
        server.beginHandshake();
        for (int step = 0; step < MAX_STEPS; step++) {
            boolean moved = step(client, toServer, toClient, plain) | step(server, toClient, toServer, plain);
            boolean done = !handshaking(client) && !handshaking(server);
            if (done && toServer.position() == 0 && toClient.position() == 0) {
                return;   // both finished, and each has read all the other wrote (TLS 1.3's last checks included)
            }
            if (!moved) {
                throw new SSLException("handshake stalled");
            }
        }
        throw new SSLException("handshake did not finish in " + MAX_STEPS + " steps");
    }

    /** One move of {@code engine}: it writes to {@code out}, reads from {@code in}. Whether it did anything. */
    private static boolean step(SSLEngine engine, ByteBuffer out, ByteBuffer in, ByteBuffer plain) throws SSLException {
        Runnable task;
        boolean moved = false;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
            moved = true;
        }
        HandshakeStatus status = engine.getHandshakeStatus();
        if (status == HandshakeStatus.NEED_WRAP) {
            engine.wrap(ByteBuffer.allocate(0), out);
            return true;
        }
        if (in.position() > 0) {
            in.flip();
            int before = in.remaining();
            engine.unwrap(in, plain);
            moved |= in.remaining() != before;
            in.compact();
            plain.clear();
        }
        return moved;
    }

    private static boolean handshaking(SSLEngine engine) {
        HandshakeStatus s = engine.getHandshakeStatus();
        return s != HandshakeStatus.NOT_HANDSHAKING && s != HandshakeStatus.FINISHED;
    }
}
