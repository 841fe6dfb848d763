package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A plain blocking-socket RESP2 client for tests: no Netty, no client library. */
final class RespSocket implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RespSocket(int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends one command and waits for its reply. */
    Reply call(String... args) throws IOException {
        send(args);
        return read();
    }

    void send(String... args) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        buf.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String a : args) {
            byte[] b = a.getBytes(StandardCharsets.UTF_8);
            buf.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            buf.writeBytes(b);
            buf.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(buf.toByteArray());
        out.flush();
    }

    void sendRaw(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** Half-closes the connection: says nothing more will be sent, as {@code nc -N} does at the end of its input. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Sends a request the server is expected to refuse part-way, and reads its answer: the server
     * closes the connection with the rest of the request unread, and a close with unread input makes
     * the kernel reset the connection, which may fail this sending or discard the refusal before it is
     * read (more likely on a loaded machine). Returns the refusal, or null when the reset came first.
     */
    Reply sendRefused(byte[] raw) throws IOException {
        try {
            sendRaw(raw);
        } catch (SocketException resetWhileSending) {
            // the server closed already: its refusal may still be readable
        }
        try {
            return read();
        } catch (SocketException | EOFException reset) {
            return null;
        }
    }

    Reply read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed");
        }
        String line = line();
        switch (type) {
            case '+':
                return Reply.simple(line);
            case '-':
                return new Reply.Error(line);
            case ':':
                return Reply.integer(Long.parseLong(line));
            case '$': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return Reply.NIL;
                }
                byte[] b = in.readNBytes(n);
                if (b.length != n || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("truncated bulk reply");
                }
                return Reply.bulk(b);
            }
            case '*': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return new Reply.Array(null);
                }
                List<Reply> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(read());
                }
                return new Reply.Array(items);
            }
            default:
                throw new IOException("not a RESP reply: " + (char) type);
        }
    }

    /** Whether (the start of) a reply has arrived and can be read without waiting. */
    boolean replyWaiting() throws IOException {
        return in.available() > 0;
    }

    /** Whether the server closed the connection (reads EOF within the socket timeout). */
    boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new EOFException("connection closed mid-line");
            }
            b.write(c);
        }
        if (in.read() != '\n') {
            throw new IOException("expected LF");
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    static String text(Reply r) {
        if (r instanceof Reply.Bulk b && b.value() != null) {
            return new String(b.value(), StandardCharsets.UTF_8);
        }
        if (r instanceof Reply.Simple s) {
            return s.text();
        }
        if (r instanceof Reply.Error e) {
            return "-" + e.text();
        }
        if (r instanceof Reply.Int i) {
            return Long.toString(i.value());
        }
        return String.valueOf(r);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
