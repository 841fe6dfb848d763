package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.session.SessionResult.Status;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random histories of what a log may hold for sessions (registrations, retried ones too; new
 * commands; retries in any order; commands finished with or without a result; stray old retries;
 * more clients than sessions kept, so sessions are evicted and clients register again; snapshots
 * restored on a fresh replica), checked against the contract: no command applies twice, a
 * duplicate is answered with the first result, an expired session stays expired, and a restored
 * replica answers everything after exactly as the original does.
 */
class SessionPropertyTest {
    private static final int SEEDS = Integer.getInteger("raft.session.seeds", 300);
    private static final int CLIENTS = 5;
    private static final int MAX_SESSIONS = 3;
    private static final int MAX_RESULTS = 6;

    /** Records every payload it applies; its result names the index and the running sum. */
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

    /** One client: its current session (null until registered) and its commands. */
    private static final class Client {
        ClientSession session;
        final List<ClientSession.Command> outstanding = new ArrayList<>();
        final List<ClientSession.Command> finished = new ArrayList<>();
    }

    @Test
    void randomHistoriesKeepTheContract() {
        for (int seed = 1; seed <= SEEDS; seed++) {
            try {
                new History(seed).run();
            } catch (AssertionError | IOException e) {
                fail("seed " + seed + " (rerun with -Draft.session.seeds=" + seed + "): " + e, e);
            }
        }
    }

    private static final class History {
        final SplittableRandom random;
        final SessionStateMachine<String> replica = machine();
        SessionStateMachine<String> restored;
        final List<Client> clients = new ArrayList<>();
        final Map<ClientSession.Command, String> firstResult = new HashMap<>();
        final Set<Long> expired = new HashSet<>();
        /** Every command its client declared finished. */
        final Set<ClientSession.Command> finished = new HashSet<>();
        /** Commands of sessions their clients replaced: stray copies of them may still commit. */
        final List<ClientSession.Command> retired = new ArrayList<>();
        long payload;
        long index;
        int registrations;

        History(long seed) {
            random = new SplittableRandom(seed);
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(new Client());
            }
        }

        static SessionStateMachine<String> machine() {
            return new SessionStateMachine<>(new Recorder(), SessionStateMachine.ResultCodec.UTF8, MAX_SESSIONS, MAX_RESULTS);
        }

        void run() throws IOException {
            for (int step = 0; step < 400; step++) {
                Client client = clients.get(random.nextInt(CLIENTS));
                double dice = random.nextDouble();
                if (client.session == null || (dice < 0.02 && registrations < 40)) {
                    register(client);
                } else if (dice < 0.06 && restored == null) {
                    restored = machine();
                    restored.restore(new ByteArrayInputStream(SessionStateMachineTest.write(replica.snapshot())));
                } else if (dice < 0.16 && !client.outstanding.isEmpty()) {
                    // The client stops waiting: with its result (usually) or giving up.
                    ClientSession.Command done = client.outstanding.remove(random.nextInt(client.outstanding.size()));
                    client.session.finished(done);
                    client.finished.add(done);
                    finished.add(done);
                } else if (dice < 0.19 && !retired.isEmpty()) {
                    commit(client, retired.get(random.nextInt(retired.size())));        // a stray of an old session
                } else if (dice < 0.23 && !client.finished.isEmpty()) {
                    commit(client, client.finished.get(random.nextInt(client.finished.size())));   // a stray old copy
                } else if (dice < 0.55 && !client.outstanding.isEmpty()) {
                    commit(client, client.outstanding.get(random.nextInt(client.outstanding.size()))); // a retry
                } else {
                    ClientSession.Command command = client.session.command(Bytes.ofUtf8(Long.toString(++payload)));
                    client.outstanding.add(command);
                    if (random.nextInt(4) != 0) {                   // else lost before it reached a leader
                        commit(client, command);
                    }
                }
            }
        }

        /** Registers a session for {@code client}, sometimes twice over (a retried registration). */
        void register(Client client) {
            registrations++;
            SessionResult<String> answer = apply(ClientSession.registration());
            assertEquals(Status.REGISTERED, answer.status());
            if (random.nextInt(5) == 0) {
                apply(ClientSession.registration());                // a second copy committed: an unused session
            }
            client.session = ClientSession.registered(answer);
            retired.addAll(client.outstanding);
            retired.addAll(client.finished);
            client.outstanding.clear();
            client.finished.clear();
        }

        void commit(Client client, ClientSession.Command command) {
            SessionResult<String> result = apply(command.bytes());
            switch (result.status()) {
                case APPLIED -> {
                    assertTrue(!firstResult.containsKey(command), "applied again: " + command);
                    assertTrue(!expired.contains(command.session()), "applied in an expired session: " + command);
                    firstResult.put(command, result.value());
                }
                case DUPLICATE -> {
                    assertTrue(firstResult.containsKey(command), "a duplicate of what never applied: " + command);
                    assertEquals(firstResult.get(command), result.value(), "a duplicate answered with another result");
                }
                case STALE -> assertTrue(finished.contains(command), "stale, but its client still waits: " + command);
                case SESSION_EXPIRED -> {
                    expired.add(command.session());
                    if (client.session != null && command.session() == client.session.id()) {
                        client.session = null;                      // it registers again next time
                    }
                }
                default -> fail("answered " + result + " to " + command);
            }
        }

        SessionResult<String> apply(Bytes command) {
            index++;
            SessionResult<String> result = replica.apply(index, command);
            if (restored != null) {
                assertEquals(result, restored.apply(index, command), "the restored replica answers alike at " + index);
            }
            return result;
        }
    }
}
