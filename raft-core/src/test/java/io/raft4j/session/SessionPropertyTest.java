package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.session.SessionResult.Status;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random histories of what a log may hold for sessions (new commands, retries in any order,
 * commands finished with or without a result, stray old retries, snapshots restored on a fresh
 * replica), checked against the contract: no command applies twice, a duplicate is answered with
 * the first result, and a restored replica answers everything after exactly as the original does.
 */
class SessionPropertyTest {
    private static final int SEEDS = Integer.getInteger("raft.session.seeds", 300);
    private static final int CLIENTS = 5;
    private static final int MAX_UNFINISHED = 6;

    /** Records every payload it applies; the state is their sum, so a repeat shows in results too. */
    static final class Recorder implements StateMachine<String> {
        final Set<Long> applied = new HashSet<>();
        long sum;

        @Override
        public String apply(long index, Bytes command) {
            long id = Long.parseLong(command.toUtf8());
            if (!applied.add(id)) {
                throw new AssertionError("payload " + id + " applied twice");
            }
            sum += id;
            return index + ":" + sum;
        }

        @Override
        public Snapshot snapshot() {
            List<Long> ids = List.copyOf(applied);
            long frozenSum = sum;
            return out -> {
                DataOutputStream data = new DataOutputStream(out);
                data.writeLong(frozenSum);
                data.writeInt(ids.size());
                for (long id : ids) {
                    data.writeLong(id);
                }
                data.flush();
            };
        }

        @Override
        public void restore(InputStream in) throws IOException {
            DataInputStream data = new DataInputStream(in);
            sum = data.readLong();
            applied.clear();
            for (int n = data.readInt(); n > 0; n--) {
                applied.add(data.readLong());
            }
        }
    }

    @Test
    void randomHistoriesKeepTheContract() {
        for (int seed = 1; seed <= SEEDS; seed++) {
            try {
                run(seed);
            } catch (AssertionError | IOException e) {
                fail("seed " + seed + " (rerun with -Draft.session.seeds=" + seed + "): " + e, e);
            }
        }
    }

    private static void run(long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        Recorder recorder = new Recorder();
        SessionStateMachine<String> replica = new SessionStateMachine<>(recorder, SessionStateMachine.ResultCodec.UTF8,
                CLIENTS, MAX_UNFINISHED);
        SessionStateMachine<String> restored = null;
        List<ClientSession> clients = new ArrayList<>();
        List<List<ClientSession.Command>> outstanding = new ArrayList<>();
        List<List<ClientSession.Command>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(new ClientSession(new UUID(seed, c)));
            outstanding.add(new ArrayList<>());
            done.add(new ArrayList<>());
        }
        Map<ClientSession.Command, String> firstResult = new HashMap<>();
        Set<Integer> endedClients = new HashSet<>();
        long payload = 0;
        long index = 0;
        for (int step = 0; step < 400; step++) {
            int c = random.nextInt(CLIENTS);
            double dice = random.nextDouble();
            ClientSession.Command command;
            if (dice < 0.05 && restored == null) {
                byte[] snapshot = write(replica.snapshot());
                restored = new SessionStateMachine<>(new Recorder(), SessionStateMachine.ResultCodec.UTF8, CLIENTS, MAX_UNFINISHED);
                restored.restore(new ByteArrayInputStream(snapshot));
                continue;
            } else if (dice < 0.15 && !outstanding.get(c).isEmpty()) {
                // The client stops waiting: with its result (usually) or giving up.
                ClientSession.Command finished = outstanding.get(c).remove(random.nextInt(outstanding.get(c).size()));
                clients.get(c).finished(finished);
                done.get(c).add(finished);
                continue;
            } else if (dice < 0.20 && !done.get(c).isEmpty()) {
                command = done.get(c).get(random.nextInt(done.get(c).size()));          // a stray old retry
            } else if (dice < 0.55 && !outstanding.get(c).isEmpty()) {
                command = outstanding.get(c).get(random.nextInt(outstanding.get(c).size())); // a retry
            } else {
                command = clients.get(c).command(Bytes.ofUtf8(Long.toString(++payload)));
                outstanding.get(c).add(command);
                if (random.nextInt(4) == 0) {
                    continue;                                   // lost before it reached a leader
                }
            }
            index++;
            SessionResult<String> result = replica.apply(index, command.bytes());
            if (restored != null) {
                assertEquals(result, restored.apply(index, command.bytes()), "the restored replica answers alike at " + index);
            }
            check(command, result, firstResult, done.get(c), endedClients, c);
        }
    }

    private static void check(ClientSession.Command command, SessionResult<String> result,
                              Map<ClientSession.Command, String> firstResult, List<ClientSession.Command> finished,
                              Set<Integer> endedClients, int client) {
        switch (result.status()) {
            case APPLIED -> {
                assertTrue(!firstResult.containsKey(command), "applied again: " + command.sequence());
                firstResult.put(command, result.value());
            }
            case DUPLICATE -> {
                assertTrue(firstResult.containsKey(command), "a duplicate of what never applied: " + command.sequence());
                assertEquals(firstResult.get(command), result.value(), "a duplicate answered with another result");
            }
            case STALE -> assertTrue(finished.contains(command), "stale, but its client still waits: " + command.sequence());
            case SESSION_EXPIRED -> endedClients.add(client);   // too many unfinished: refused from now on
            case MALFORMED -> fail("well-formed command answered as malformed: " + result.detail());
        }
        if (endedClients.contains(client)) {
            assertNotEquals(Status.APPLIED, result.status(), "an ended session's command applied");
        }
    }

    private static byte[] write(StateMachine.Snapshot snapshot) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshot.writeTo(out);
        snapshot.release();
        return out.toByteArray();
    }
}
