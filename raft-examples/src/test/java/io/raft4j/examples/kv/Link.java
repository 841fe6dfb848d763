package io.raft4j.examples.kv;

/**
 * What the network does with the bytes one node sends another (one direction of a pair): passes
 * them, holds them (a blackhole, like a firewall's DROP: connections stay open, nothing arrives), or
 * refuses (like REJECT: connections are reset and new ones refused).
 */
final class Link {
    enum Mode { OPEN, BLACKHOLE, REFUSE }

    private final String from;
    private final String to;
    private Mode mode = Mode.OPEN;

    Link(String from, String to) {
        this.from = from;
        this.to = to;
    }

    synchronized Mode mode() {
        return mode;
    }

    synchronized void set(Mode next) {
        mode = next;
        notifyAll();
    }

    /** Blocks while bytes may not pass (the proxy pumps' wait: a fault lasts as long as the nemesis says). */
    synchronized void awaitOpen() throws InterruptedException {
        while (mode != Mode.OPEN) {
            wait();
        }
    }

    @Override
    public String toString() {
        return from + "->" + to;
    }
}
