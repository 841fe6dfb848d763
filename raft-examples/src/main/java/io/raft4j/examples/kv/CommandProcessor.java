package io.raft4j.examples.kv;

import io.raft4j.RaftNode;
import io.raft4j.ReadConsistency;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.message.Bytes;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * Parses client commands and runs them: local ones at once; writes through {@code propose} and
 * reads through {@code query} (ReadIndex) on the leader; on a follower, forwarded to the leader (or
 * answered {@code -NOTLEADER <address>} in redirect mode) by the {@link LeaderRouter}.
 *
 * <h2>Errors, never hangs</h2>
 * Every routed command has a deadline ({@code requestTimeout}). While no leader is known (or its
 * client address is not), the node retries with a short back-off; at the deadline it answers
 * {@code -TRYAGAIN}: nothing was done. A write that was handed to Raft (or sent to the leader) and
 * whose outcome is not known by the deadline is answered {@code -TIMEOUT}; one whose leader lost
 * leadership first is answered {@code -UNCERTAIN}: in both cases it may or may not have been
 * applied. A {@code NotLeaderException} means nothing was done, so it is retried. A leader whose
 * uncommitted writes are at its bound ({@code OverloadedException}) answers {@code -TRYAGAIN
 * overloaded: ...} at once, and a follower that forwarded the write passes that on: nothing was
 * done, and the client backs off.
 *
 * <h2>Memory</h2>
 * The key space lives in the heap. With {@code --maxmemory}, a command that may add data (SET,
 * MSET, INCR and its kin) is refused with Redis's {@code -OOM} while the keys and values hold more
 * than that ({@link KvStateMachine#usedMemory}, the same estimate on every node); DEL still runs,
 * so a client can make room. The check is made where the command arrives, before it is proposed:
 * what is in the log is always applied, so replicas never disagree about a refusal.
 */
final class CommandProcessor {
    private final String nodeId;
    /** This node's client limits, announced to nodes that forward to it (see {@link LeaderLimits}). */
    private final RespLimits limits;
    private final String clientAddress;
    private final RaftNode<Reply> raft;
    private final KvStateMachine sm;
    private final LeaderRouter router;
    private final long requestTimeoutMs;
    private final long adminTimeoutMs;
    private static final String TRANSFER_UNKNOWN = "the leadership transfer may or may not have happened: INFO raft shows"
            + " the leader";
    /** 0: no limit. */
    private final long maxMemoryBytes;
    private final NodeInfo about;

    CommandProcessor(String nodeId, String clientAddress, RaftNode<Reply> raft, KvStateMachine sm,
                     LeaderForwarder forwarder, long requestTimeoutMs, long adminTimeoutMs, long maxMemoryBytes,
                     IntSupplier connectedClients, ClientInputBudget inputBudget,
                     java.util.function.LongSupplier snapshotIndex, Map<String, String> forwardTo, RespLimits limits) {
        this.limits = limits;
        this.nodeId = nodeId;
        this.clientAddress = clientAddress;
        this.raft = raft;
        this.sm = sm;
        this.router = new LeaderRouter(nodeId, clientAddress, raft, sm, forwarder, forwardTo);
        this.requestTimeoutMs = requestTimeoutMs;
        this.adminTimeoutMs = adminTimeoutMs;
        this.maxMemoryBytes = maxMemoryBytes;
        this.about = new NodeInfo(nodeId, clientAddress, raft, sm, connectedClients, inputBudget, snapshotIndex,
                maxMemoryBytes);
    }

    // ---- parsing ---------------------------------------------------------------------------------

    /** Parses one command; syntax errors become immediate error replies. */
    Command parse(List<byte[]> args) {
        String name = ascii(args.get(0)).toLowerCase(Locale.ROOT);
        int argc = args.size();
        switch (name) {
            case "ping":
                if (argc > 2) {
                    return arity(name);
                }
                return Command.immediate(argc == 1 ? Reply.PONG : Reply.bulk(args.get(1)));
            case "echo":
                return argc != 2 ? arity(name) : Command.immediate(Reply.bulk(args.get(1)));
            case "quit":
                return Command.closing(Reply.OK);
            case "get":
                return argc != 2 ? arity(name) : read(args, KvCodec.get(args.get(1)));
            case "mget":
                return argc < 2 ? arity(name) : read(args, KvCodec.mget(args.subList(1, argc)));
            case "exists":
                return argc < 2 ? arity(name) : read(args, KvCodec.exists(args.subList(1, argc)));
            case "dbsize":
                return argc != 1 ? arity(name) : read(args, KvCodec.dbsize());
            case "set":
            case "del":
            case "incr":
            case "decr":
            case "incrby":
            case "decrby":
            case "mset":
                return toCommand(args, WriteParser.parse(name, args));
            case "raft.session":
                return argc != 1 ? arity(name) : write(args, KvCodec.openSession());
            case "raft.once":
                return toCommand(args, WriteParser.parseOnce(args));
            case "info":
                return local(s -> about.info(args.subList(1, argc)));
            case "command":
                return command(args);
            case "config":
                return config(args);
            case "client":
                return client(args);
            case "hello":
                return hello(args);
            case "select":
                if (argc != 2) {
                    return arity(name);
                }
                Long db = KvStateMachine.parseStrictLong(args.get(1));
                if (db == null) {
                    return error("ERR value is not an integer or out of range");
                }
                return error(db == 0 ? null : "ERR DB index is out of range");
            case "raft.info":
                return argc != 1 ? arity(name) : local(s -> Reply.bulk(about.raftInfo()));
            case "raft.members":
                return argc != 1 ? arity(name) : local(s -> about.members());
            case "raft.followers":
                return argc != 1 ? arity(name) : asyncLocal(s -> about.followers());
            case "raft.redirect":
                if (argc != 2) {
                    return arity(name);
                }
                return onOff(args.get(1), on -> s -> {
                    if (s.followerMode != Session.FollowerMode.FORWARDED) {
                        s.followerMode = on ? Session.FollowerMode.REDIRECT : Session.FollowerMode.FORWARD;
                    }
                    return Reply.OK;
                });
            case "raft.readmode": {
                if (argc != 2) {
                    return arity(name);
                }
                String mode = ascii(args.get(1)).toLowerCase(Locale.ROOT);
                if (!mode.equals("linearizable") && !mode.equals("lease") && !mode.equals("stale")) {
                    return error("ERR RAFT.READMODE takes LINEARIZABLE, LEASE or STALE");
                }
                return local(s -> {
                    s.readMode = Session.ReadMode.valueOf(mode.toUpperCase(Locale.ROOT));
                    return Reply.OK;
                });
            }
            case "raft.forwarded":
                return argc != 1 ? arity(name) : local(s -> {
                    s.forwarded(); // and never evicted for the client input budget
                    return LeaderLimits.announce(limits);
                });
            case "raft.snapshot":
                return argc != 1 ? arity(name) : asyncLocal(s -> about.snapshot());
            case "raft.addnode": {
                if (argc != 3) {
                    return arity(name);
                }
                String id = utf8(args.get(1));
                String address = utf8(args.get(2));
                if (!NodeCommand.isValidId(id)) {
                    // Quoted in full only if short: the id is a client's input, of any size.
                    String quoted = id.length() <= 64 ? " '" + id + "'" : " (" + id.length() + " characters)";
                    return error("ERR invalid node id" + quoted + ": it " + NodeCommand.ID_RULE);
                }
                HostPort endpoint;
                try {
                    if (address.chars().anyMatch(Character::isWhitespace)) {
                        // The members' addresses are compared and dialled as written: " x" is not "x".
                        throw new IllegalArgumentException("'" + address + "' holds whitespace");
                    }
                    endpoint = HostPort.parse(address);
                } catch (IllegalArgumentException e) {
                    return error("ERR invalid raft address: " + e.getMessage());
                }
                String problem = HostPort.problemAsMemberAddress(endpoint);
                if (problem != null) {
                    return error("ERR invalid raft address: " + problem);
                }
                // The core refuses an address another member has as written; an alias of it
                // (localhost for 127.0.0.1) is caught here, off the event loop, since names may
                // need a lookup. Accepted, the newcomer's frames would reach that member, which
                // refuses them: a learner that never catches up.
                String addUnknown = "RAFT.ADDNODE " + id + " may or may not have taken effect: RAFT.MEMBERS shows whether "
                        + id + " is a learner (added, not caught up: is it running, with the leader among its --peers?)"
                        + " or a voter; the same RAFT.ADDNODE goes on from there";
                return admin(args, addUnknown, r -> CompletableFuture.supplyAsync(() -> aliasedMember(address, endpoint, id, r))
                        .thenCompose(owner -> owner == null
                                ? r.addVoter(id, address).thenApply(c -> Reply.OK)
                                : CompletableFuture.completedFuture(Reply.error("ERR address " + address
                                        + " reaches the same endpoint as " + owner + ": two members cannot share one"))));
            }
            case "raft.removenode": {
                if (argc != 2) {
                    return arity(name);
                }
                String id = utf8(args.get(1));
                return admin(args, "RAFT.REMOVENODE " + id + " may or may not have taken effect: RAFT.MEMBERS shows whether "
                        + id + " is still a member", r -> r.removeMember(id).thenApply(c -> {
                            if (!c.isMember(id)) {
                                // Best effort: if this fails (leadership lost), the next leader does it.
                                r.propose(KvCodec.forget(id));
                            }
                            return Reply.OK;
                        }));
            }
            case "raft.transfer": {
                if (argc == 1) {
                    return admin(args, TRANSFER_UNKNOWN, r -> r.transferLeadership().thenApply(Reply::bulk));
                }
                if (argc != 2) {
                    return arity(name);
                }
                String id = utf8(args.get(1));
                return admin(args, TRANSFER_UNKNOWN, r -> r.transferLeadership(id).thenApply(v -> Reply.OK));
            }
            default:
                return unknown(args);
        }
    }

    private Command toCommand(List<byte[]> args, WriteParser.Write write) {
        if (write.refusal() != null) {
            return Command.immediate(write.refusal());
        }
        return write.grows() ? growingWrite(args, write.command()) : write(args, write.command());
    }

    /**
     * The member other than {@code id} whose Raft address is written otherwise than {@code address}
     * but names the same socket ({@code endpoint}), described; or null. Addresses written alike, and
     * re-adding a member, the core judges itself.
     */
    private static String aliasedMember(String address, HostPort endpoint, String id, RaftNode<Reply> raft) {
        for (Map.Entry<String, String> member : raft.status().config().addresses().entrySet()) {
            if (member.getKey().equals(id) || member.getValue().equals(address)) {
                continue;
            }
            try {
                if (endpoint.sameEndpointAs(HostPort.parse(member.getValue()))) {
                    return member.getKey() + "'s " + member.getValue();
                }
            } catch (IllegalArgumentException e) {
                // a member without a dialable address (none in this node's clusters): nothing to compare
            }
        }
        return null;
    }

    // ---- command kinds ---------------------------------------------------------------------------

    private Command read(List<byte[]> args, Bytes query) {
        Command linearizable = router.routed(Command.Kind.READ, args, requestTimeoutMs, r -> r.query(query));
        return Command.of(Command.Kind.READ, session -> switch (session.readMode) {
            case STALE -> CompletableFuture.completedFuture(sm.queryLocal(query));
            case LEASE -> router.routed(Command.Kind.READ, args, requestTimeoutMs,
                    r -> r.query(query, ReadConsistency.LEASE)).run(session);
            case LINEARIZABLE -> linearizable.run(session);
        });
    }

    /** Redis's reply to a command that may add data while the key space is over {@code maxmemory}. */
    static final String OOM = "OOM command not allowed when used memory > 'maxmemory'.";

    /** A write that may add data: refused while the key space is over {@code --maxmemory}. */
    private Command growingWrite(List<byte[]> args, Bytes command) {
        if (maxMemoryBytes > 0 && sm.usedMemory() > maxMemoryBytes) {
            return error(OOM);
        }
        return write(args, command);
    }

    private Command write(List<byte[]> args, Bytes command) {
        return router.routed(Command.Kind.WRITE, args, requestTimeoutMs, r -> r.propose(command));
    }

    /** {@code unknownOutcome}: what may have happened, and where to look, should the outcome stay unknown. */
    private Command admin(List<byte[]> args, String unknownOutcome, Function<RaftNode<Reply>, CompletableFuture<Reply>> action) {
        return router.routedAdmin(args, adminTimeoutMs, action, unknownOutcome);
    }

    private static Command local(Function<Session, Reply> body) {
        return Command.of(Command.Kind.LOCAL, session -> CompletableFuture.completedFuture(body.apply(session)));
    }

    /** A local command whose answer comes later (RAFT.SNAPSHOT). */
    private static Command asyncLocal(Function<Session, CompletableFuture<Reply>> body) {
        return Command.of(Command.Kind.LOCAL, body);
    }

    private static Command error(String text) {
        return Command.immediate(text == null ? Reply.OK : Reply.error(text));
    }

    private static Command arity(String name) {
        return error(WriteParser.wrongArity(name));
    }

    /** Redis's text: {@code ERR unknown command 'x', with args beginning with: 'a' 'b' }. */
    private static Command unknown(List<byte[]> args) {
        StringBuilder shown = new StringBuilder();
        for (int i = 1; i < args.size() && shown.length() < 128; i++) {
            shown.append('\'').append(clip(utf8(args.get(i)), 128 - shown.length())).append("' ");
        }
        return error("ERR unknown command '" + clip(utf8(args.get(0)), 128) + "', with args beginning with: " + shown);
    }

    private static Command onOff(byte[] arg, Function<Boolean, Function<Session, Reply>> body) {
        String v = ascii(arg).toLowerCase(Locale.ROOT);
        if (!v.equals("on") && !v.equals("off")) {
            return error("ERR expected ON or OFF");
        }
        return local(body.apply(v.equals("on")));
    }

    private Command command(List<byte[]> args) {
        if (args.size() == 1) {
            return Command.immediate(Reply.EMPTY_ARRAY);
        }
        String sub = ascii(args.get(1)).toLowerCase(Locale.ROOT);
        return switch (sub) {
            case "docs", "info", "list" -> Command.immediate(Reply.EMPTY_ARRAY);
            case "count" -> args.size() != 2 ? arity("command|count") : Command.immediate(Reply.integer(0));
            default -> error("ERR unknown subcommand '" + clip(utf8(args.get(1)), 128) + "'. Try COMMAND HELP.");
        };
    }

    private Command config(List<byte[]> args) {
        if (args.size() < 2) {
            return arity("config");
        }
        String sub = ascii(args.get(1)).toLowerCase(Locale.ROOT);
        switch (sub) {
            case "get": {
                if (args.size() < 3) {
                    return arity("config|get");
                }
                // What redis-benchmark asks for; every other parameter is unknown (empty answer).
                List<Reply> out = new ArrayList<>();
                for (byte[] p : args.subList(2, args.size())) {
                    String name = ascii(p).toLowerCase(Locale.ROOT);
                    String value = switch (name) {
                        case "save" -> "";
                        case "maxmemory" -> Long.toString(maxMemoryBytes);
                        case "maxmemory-policy" -> "noeviction";
                        case "appendonly" -> "no";
                        case "databases" -> "1";
                        default -> null;
                    };
                    if (value != null) {
                        out.add(Reply.bulk(name));
                        out.add(Reply.bulk(value));
                    }
                }
                return Command.immediate(Reply.array(out));
            }
            case "set":
                return error("ERR CONFIG SET is not supported; the node is configured by its command line");
            case "resetstat":
                return args.size() != 2 ? arity("config|resetstat") : Command.immediate(Reply.OK);
            default:
                return error("ERR unknown subcommand '" + clip(utf8(args.get(1)), 128) + "'. Try CONFIG HELP.");
        }
    }

    private Command client(List<byte[]> args) {
        if (args.size() < 2) {
            return arity("client");
        }
        String sub = ascii(args.get(1)).toLowerCase(Locale.ROOT);
        switch (sub) {
            case "setname":
                if (args.size() != 3) {
                    return arity("client|setname");
                }
                // As Redis: printable ASCII but space only. Control characters were taken, and a
                // name went as is into CLIENT INFO's line and the node's log.
                if (!isValidClientName(args.get(2))) {
                    return error("ERR Client names cannot contain spaces, newlines or special characters.");
                }
                String name = utf8(args.get(2));
                return local(s -> {
                    s.name = name;
                    return Reply.OK;
                });
            // As Redis, a subcommand given the wrong number of arguments is refused: CLIENT ID x
            // answered an id, and a client could not tell the mistake.
            case "getname":
                return args.size() != 2 ? arity("client|getname")
                        : local(s -> s.name.isEmpty() ? Reply.NIL : Reply.bulk(s.name));
            case "id":
                return args.size() != 2 ? arity("client|id") : local(s -> Reply.integer(s.id));
            case "setinfo":
                return args.size() != 4 ? arity("client|setinfo") : Command.immediate(Reply.OK);
            case "info":
                return args.size() != 2 ? arity("client|info")
                        : local(s -> Reply.bulk("id=" + s.id + " addr=" + s.remoteAddress + " name=" + s.name + "\n"));
            default:
                return error("ERR unknown subcommand '" + clip(utf8(args.get(1)), 128) + "'. Try CLIENT HELP.");
        }
    }

    private Command hello(List<byte[]> args) {
        if (args.size() >= 2) {
            Long version = KvStateMachine.parseStrictLong(args.get(1));
            if (version == null) {
                return error("ERR Protocol version is not an integer or out of range");
            }
            if (version != 2) {
                return error("NOPROTO sorry, this protocol version is not supported");
            }
        }
        // Redis's options, HELLO <protover> [AUTH <username> <password>] [SETNAME <clientname>]: both
        // were ignored, so SETNAME silently left the connection unnamed (CLIENT GETNAME said nil where
        // Redis says the name) and any misspelt option was taken. AUTH is taken as every command is
        // here, without authentication.
        String setName = null;
        for (int i = 2; i < args.size(); i++) {
            String opt = ascii(args.get(i)).toUpperCase(Locale.ROOT);
            if (opt.equals("AUTH") && i + 2 < args.size()) {
                i += 2;
            } else if (opt.equals("SETNAME") && i + 1 < args.size()) {
                byte[] clientName = args.get(++i);
                if (!isValidClientName(clientName)) {
                    return error("ERR Client names cannot contain spaces, newlines or special characters.");
                }
                setName = utf8(clientName);
            } else {
                return error("ERR Syntax error in HELLO option '" + clip(utf8(args.get(i)), 128) + "'");
            }
        }
        String name = setName;
        return local(s -> {
            if (name != null) {
                s.name = name;
            }
            return helloReply(s);
        });
    }

    private static Reply helloReply(Session s) {
        return Reply.array(List.of(
                Reply.bulk("server"), Reply.bulk("redis"),
                Reply.bulk("version"), Reply.bulk("7.0.0"),
                Reply.bulk("proto"), Reply.integer(2),
                Reply.bulk("id"), Reply.integer(s.id),
                Reply.bulk("mode"), Reply.bulk("standalone"),
                Reply.bulk("role"), Reply.bulk("master"),
                Reply.bulk("modules"), Reply.EMPTY_ARRAY));
    }

    /** As Redis: printable ASCII but space only. */
    private static boolean isValidClientName(byte[] name) {
        for (byte b : name) {
            if (b < '!' || b > '~') {
                return false;
            }
        }
        return true;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String clip(String s, int max) {
        String one = Failures.oneLine(s);
        return one.length() <= Math.max(0, max) ? one : one.substring(0, Math.max(0, max));
    }
}
