package io.raft4j.examples.kv;

import io.raft4j.NodeStats;
import io.raft4j.NodeStatus;
import io.raft4j.RaftNode;
import io.raft4j.core.FollowerProgress;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.message.ClusterConfig;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;

/** What a node says about itself and its group: INFO, RAFT.INFO, RAFT.MEMBERS, RAFT.FOLLOWERS, RAFT.SNAPSHOT. */
final class NodeInfo {
    private static final String VERSION = "0.1.0";

    private final String nodeId;
    private final String clientAddress;
    private final RaftNode<Reply> raft;
    private final KvStateMachine sm;
    private final IntSupplier connectedClients;
    private final ClientInputBudget inputBudget;
    /** The last index of this node's newest snapshot, 0 if none. */
    private final java.util.function.LongSupplier snapshotIndex;
    private final long maxMemoryBytes;
    private final long startMillis = System.currentTimeMillis();

    NodeInfo(String nodeId, String clientAddress, RaftNode<Reply> raft, KvStateMachine sm, IntSupplier connectedClients,
             ClientInputBudget inputBudget, java.util.function.LongSupplier snapshotIndex, long maxMemoryBytes) {
        this.snapshotIndex = snapshotIndex;
        this.nodeId = nodeId;
        this.clientAddress = clientAddress;
        this.raft = raft;
        this.sm = sm;
        this.connectedClients = connectedClients;
        this.inputBudget = inputBudget;
        this.maxMemoryBytes = maxMemoryBytes;
    }

    /** RAFT.SNAPSHOT: takes a snapshot now. */
    CompletableFuture<Reply> snapshot() {
        return raft.takeSnapshot().handle((meta, error) -> {
            if (error != null) {
                return Reply.error("ERR snapshot failed: " + Failures.oneLine(Failures.unwrap(error).getMessage()));
            }
            return Reply.simple("OK snapshot at index " + meta.lastIndex() + " term " + meta.lastTerm());
        });
    }

    /** INFO [section ...]: the sections Redis tools read, plus {@code # Raft}. */
    Reply info(List<byte[]> sections) {
        List<String> wanted = new ArrayList<>();
        for (byte[] s : sections) {
            wanted.add(new String(s, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT));
        }
        boolean all = wanted.isEmpty() || wanted.contains("all") || wanted.contains("everything") || wanted.contains("default");
        StringBuilder sb = new StringBuilder();
        if (all || wanted.contains("server")) {
            sb.append("# Server\r\n")
                    .append("redis_version:7.0.0\r\n")
                    .append("raft4j_version:").append(VERSION).append("\r\n")
                    .append("redis_mode:standalone\r\n")
                    .append("process_id:").append(ProcessHandle.current().pid()).append("\r\n")
                    .append("tcp_port:").append(HostPort.parse(clientAddress).port()).append("\r\n")
                    .append("uptime_in_seconds:").append((System.currentTimeMillis() - startMillis) / 1000).append("\r\n")
                    .append("\r\n");
        }
        if (all || wanted.contains("clients")) {
            // client_input_bytes: what clients' unfinished and unanswered requests hold, against
            // max_client_input_bytes (--max-client-input-bytes, 0: no limit); connections closed for it,
            // refused or evicted, and of those the evicted (so refused = closed - evicted).
            sb.append("# Clients\r\n").append("connected_clients:").append(connectedClients.getAsInt()).append("\r\n")
                    .append("client_input_bytes:").append(inputBudget.usedBytes()).append("\r\n")
                    .append("max_client_input_bytes:").append(inputBudget.limitBytes()).append("\r\n")
                    .append("client_input_closed_connections:").append(inputBudget.closedConnections()).append("\r\n")
                    .append("client_input_evicted_connections:").append(inputBudget.evictedConnections()).append("\r\n\r\n");
        }
        if (all || wanted.contains("memory")) {
            // used_memory is the key space's estimate that --maxmemory is compared with, not the heap.
            sb.append("# Memory\r\n").append("used_memory:").append(sm.usedMemory()).append("\r\n")
                    .append("maxmemory:").append(maxMemoryBytes).append("\r\n")
                    .append("maxmemory_policy:noeviction\r\n\r\n");
        }
        if (all || wanted.contains("raft")) {
            sb.append("# Raft\r\n").append(raftInfo()).append("\r\n");
        }
        if (all || wanted.contains("keyspace")) {
            sb.append("# Keyspace\r\n");
            int keys = sm.size();
            if (keys > 0) {
                sb.append("db0:keys=").append(keys).append(",expires=0,avg_ttl=0\r\n");
            }
            sb.append("\r\n");
        }
        return Reply.bulk(sb.toString());
    }

    /** The {@code # Raft} section of INFO, also the answer to RAFT.INFO. */
    String raftInfo() {
        NodeStatus s = raft.status();
        ClusterConfig c = s.config();
        String leader = s.leaderId();
        StringBuilder sb = new StringBuilder();
        line(sb, "node_id", nodeId);
        line(sb, "role", s.role().name().toLowerCase(Locale.ROOT));
        // A node started with --join shows role:follower while it waits to be added: this says so.
        line(sb, "membership", c.isVoter(nodeId) ? "voter" : c.learners().contains(nodeId) ? "learner" : "none");
        line(sb, "term", s.term());
        line(sb, "leader", leader == null ? "" : leader);
        String leaderAddress = sm.clientAddressOf(leader);
        line(sb, "leader_client_address", leaderAddress == null ? "" : leaderAddress);
        line(sb, "commit_index", s.commitIndex());
        line(sb, "applied_index", s.appliedIndex());
        line(sb, "last_index", s.lastIndex());
        line(sb, "snapshot_index", snapshotIndex.getAsLong());
        StringBuilder members = new StringBuilder();
        for (String id : c.allMembers()) {
            if (members.length() > 0) {
                members.append(',');
            }
            members.append(id).append('=').append(c.addresses().getOrDefault(id, ""));
        }
        line(sb, "members", members);
        line(sb, "voters", String.join(",", c.voters()));
        line(sb, "learners", String.join(",", c.learners()));
        line(sb, "joint", c.isJoint() ? "yes" : "no");
        // The same on every member: nodes started with other --peers show another, and drop each other's messages.
        line(sb, "bootstrap_fingerprint", s.bootstrapFingerprint() == 0 ? "" : Long.toHexString(s.bootstrapFingerprint()));
        line(sb, "keys", sm.size());
        line(sb, "sessions", sm.sessionCount());
        line(sb, "snapshot_restores", sm.restores());
        line(sb, "client_address", clientAddress);
        NodeStats stats = raft.stats();
        line(sb, "elections_started", stats.electionsStarted());
        line(sb, "terms_led", stats.termsLed());
        line(sb, "proposals_accepted", stats.proposalsAccepted());
        line(sb, "commands_applied", stats.commandsApplied());
        line(sb, "log_writes", stats.logWrites());
        line(sb, "log_entries_written", stats.entriesWritten());
        line(sb, "log_bytes_written", stats.bytesWritten());
        line(sb, "log_write_mean_us", String.format(Locale.ROOT, "%.1f", stats.meanLogWriteMicros()));
        line(sb, "log_write_max_us", stats.maxLogWriteNanos() / 1_000);
        line(sb, "reads_served", stats.readsServed());
        line(sb, "reads_given_up", stats.readsGivenUp());
        line(sb, "snapshots_taken", stats.snapshotsTaken());
        line(sb, "snapshots_failed", stats.snapshotsFailed());
        line(sb, "snapshots_installed", stats.snapshotsInstalled());
        line(sb, "follower_log_losses", stats.followerLogLosses());
        line(sb, "proposals_refused_overloaded", stats.proposalsRefusedOverloaded());
        line(sb, "reads_refused_overloaded", stats.readsRefusedOverloaded());
        line(sb, "inbound_messages_dropped", stats.inboundMessagesDropped());
        line(sb, "membership_changes_refused", stats.membershipChangesRefused());
        line(sb, "leadership_transfers_refused", stats.leadershipTransfersRefused());
        line(sb, "admin_calls_refused_overloaded", stats.adminCallsRefusedOverloaded());
        line(sb, "lease_reads_from_lease", stats.leaseReadsFromLease());
        line(sb, "lease_reads_by_round", stats.leaseReadsByRound());
        line(sb, "proposal_batches_full", stats.proposalBatchesFull());
        line(sb, "proposal_batches_at_window_end", stats.proposalBatchesAtWindowEnd());
        return sb.toString();
    }

    private static void line(StringBuilder sb, String key, Object value) {
        sb.append(key).append(':').append(value).append("\r\n");
    }

    /** One array per member: id, raft address, voter|learner, client address (or ""), leader|"". */
    Reply members() {
        NodeStatus s = raft.status();
        ClusterConfig c = s.config();
        Map<String, String> clients = sm.clientAddresses();
        List<Reply> rows = new ArrayList<>();
        for (String id : c.allMembers()) {
            rows.add(Reply.array(List.of(
                    Reply.bulk(id),
                    Reply.bulk(c.addresses().getOrDefault(id, "")),
                    Reply.bulk(c.learners().contains(id) ? "learner" : "voter"),
                    Reply.bulk(clients.getOrDefault(id, "")),
                    Reply.bulk(id.equals(s.leaderId()) ? "leader" : ""))));
        }
        return Reply.array(rows);
    }

    /**
     * On the leader, one array per follower: id, voter|learner, match index, entries behind the
     * leader's last index, probe|replicate|snapshot, active|inactive. Empty elsewhere.
     */
    CompletableFuture<Reply> followers() {
        long last = raft.status().lastIndex();
        return raft.followers().handle((followers, error) -> {
            if (error != null) {
                return Reply.error("ERR " + Failures.oneLine(Failures.unwrap(error).getMessage()));
            }
            List<Reply> rows = new ArrayList<>();
            for (FollowerProgress f : followers) {
                rows.add(Reply.array(List.of(
                        Reply.bulk(f.nodeId()),
                        Reply.bulk(f.voter() ? "voter" : "learner"),
                        Reply.integer(f.matchIndex()),
                        Reply.integer(Math.max(0, last - f.matchIndex())),
                        Reply.bulk(f.state().name().toLowerCase(Locale.ROOT)),
                        Reply.bulk(f.recentlyActive() ? "active" : "inactive"))));
            }
            return Reply.array(rows);
        });
    }
}
