package io.raft4j.transport.netty;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

/**
 * Resolves the host names of dialled peers on threads of its own, never on an event loop.
 *
 * <p>Why: Netty's default resolver calls the JDK's blocking lookup ({@code InetAddress}) on the
 * event loop of the channel being dialled. A slow or unreachable DNS server (seconds per lookup,
 * times its retries) then stalls every connection on that loop, and the Raft nodes that run there:
 * with the default one or two loops, the whole process stops talking because one peer's name is
 * slow to resolve. Here the loop only hands the name over; the dial continues on the loop once the
 * lookup is done. (Netty's asynchronous DNS resolver would also avoid the blocking, but it needs
 * another module and speaks DNS only, bypassing the system's name service configuration (nsswitch)
 * and the JDK's; a peer is looked up once per dial, so a thread per lookup in flight is cheap.)
 *
 * <p>Lookups run on a cached pool, so a lookup that hangs holds one thread and delays only its own
 * peer's dial, not other peers' lookups. A peer has at most one dial in flight, so the pool holds
 * about one thread per peer being dialled at once; idle threads end after a minute.
 */
final class OffLoopResolver extends AddressResolverGroup<InetSocketAddress> {

    /** A blocking name lookup: {@link InetAddress#getAllByName} unless a test substitutes a slow one. */
    @FunctionalInterface
    interface Lookup {
        InetAddress[] lookup(String host) throws UnknownHostException;
    }

    private final Lookup lookup;
    private final ExecutorService lookups;

    OffLoopResolver(Lookup lookup) {
        this.lookup = lookup;
        this.lookups = Executors.newCachedThreadPool(new DefaultThreadFactory("raft-resolver", true));
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor loop) {
        return new Resolver(loop).asAddressResolver();
    }

    /** Stops taking lookups; one in flight cannot be interrupted, its daemon thread ends after it. */
    @Override
    public void close() {
        super.close();
        lookups.shutdownNow();
    }

    /** The resolver of one event loop: its promises complete, and notify the dial, on that loop. */
    private final class Resolver extends InetNameResolver {
        Resolver(EventExecutor loop) {
            super(loop);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            lookUp(host, promise, addresses -> addresses[0]);
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            lookUp(host, promise, List::of);
        }

        private <T> void lookUp(String host, Promise<T> promise, Function<InetAddress[], T> result) {
            try {
                lookups.execute(() -> {
                    T resolved = null;
                    Exception failure = null;
                    try {
                        resolved = result.apply(lookup.lookup(host));
                    } catch (Exception e) {
                        failure = e;   // UnknownHostException or any other: the dial fails and backs off
                    }
                    if (executor().isShuttingDown()) {
                        // The transport closed during the lookup: nobody waits for the dial any
                        // more, and notifying a stopped loop would only log an error.
                        return;
                    }
                    if (failure == null) {
                        promise.trySuccess(resolved);
                    } else {
                        promise.tryFailure(failure);
                    }
                });
            } catch (RejectedExecutionException e) {
                promise.tryFailure(new UnknownHostException(host + ": transport closed"));
            }
        }
    }
}
