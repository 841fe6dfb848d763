package io.raft4j.examples.kv.bench;

import io.raft4j.examples.kv.KvStateMachine;

import java.util.List;
import java.util.Locale;

/**
 * The end of a run's {@code replicated}: every node's state machine has applied the same number
 * of commands, the same last one (its CRC) and holds as many keys as the leader's, and the leader
 * has applied at least every acknowledged request. No leader, no agreement.
 */
final class ReplicationCheck {
    private ReplicationCheck() {
    }

    /** What one node's state machine has applied, read once. */
    record Machine(String nodeId, long applied, long lastCrc, int keys) {
        static Machine of(String nodeId, KvStateMachine sm) {
            return new Machine(nodeId, sm.commandsApplied(), sm.lastCommandCrc(), sm.size());
        }

        boolean agreesWith(Machine other) {
            return applied == other.applied && lastCrc == other.lastCrc && keys == other.keys;
        }
    }

    /** Whether they agree, and the line the bench logs about each. */
    record Outcome(boolean ok, String report) {
    }

    /**
     * @param leader     index of the leader in {@code machines}, or -1 if there is none
     * @param clientAcks requests acknowledged to the bench's clients over the whole run
     */
    static Outcome compare(List<Machine> machines, int leader, long clientAcks) {
        Machine ref = leader >= 0 ? machines.get(leader) : null;
        boolean ok = ref != null && ref.applied() >= clientAcks;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < machines.size(); i++) {
            Machine m = machines.get(i);
            boolean same = ref != null && m.agreesWith(ref);
            ok &= same;
            sb.append(String.format(Locale.ROOT, " %s%s applied=%d last_crc=%08x keys=%d%s;", m.nodeId(),
                    i == leader ? "(leader)" : "", m.applied(), m.lastCrc(), m.keys(), same ? "" : " MISMATCH"));
        }
        sb.append(" client_acks=").append(clientAcks).append(" -> ").append(ok ? "OK" : "FAILED");
        return new Outcome(ok, sb.toString());
    }
}
