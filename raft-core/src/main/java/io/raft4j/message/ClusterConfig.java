package io.raft4j.message;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The membership of a Raft group, as carried in {@link EntryType#CONFIG} log entries and snapshots.
 *
 * <p>In a joint configuration (Raft §6, C<sub>old,new</sub>) {@code outgoingVoters} holds the old
 * voter set and decisions need a majority of both sets; otherwise it is empty. Learners receive the
 * log but neither vote nor count toward commitment. {@code addresses} maps member ids to the
 * network address other members dial; the protocol treats it as opaque.
 *
 * @param voters         the (incoming) voters
 * @param learners       non-voting members; disjoint from both voter sets
 * @param outgoingVoters the old voters while the configuration is joint, otherwise empty
 * @param addresses      transport address per member id; may be partial
 */
public record ClusterConfig(Set<String> voters, Set<String> learners, Set<String> outgoingVoters,
                            Map<String, String> addresses) {
    /** The configuration of a node that knows of no cluster yet (a node waiting to join). */
    public static final ClusterConfig EMPTY = new ClusterConfig(Set.of(), Set.of(), Set.of(), Map.of());

    /** The longest member id, in characters (ids are written in every log entry of a configuration and in logs). */
    public static final int MAX_ID_LENGTH = 256;
    /** The longest member address, in characters. */
    public static final int MAX_ADDRESS_LENGTH = 1024;
    /** The most ids in one set, or addresses: what {@link #decode} accepts, so what every replica can read back. */
    public static final int MAX_MEMBERS = 100_000;

    private static final int ENCODING_VERSION = 1;
    private static final String UNPAIRED_SURROGATE = "%s must be well-formed Unicode: an unpaired surrogate"
            + " (half of a UTF-16 pair) would be written as '?' in UTF-8";

    /**
     * Copies the sets and map into sorted, immutable ones; rejects a learner that is also a voter,
     * and ids or addresses that break {@link #problemWithId} or {@link #problemWithAddress}.
     */
    public ClusterConfig {
        voters = sortedCopy(voters, "voters");
        learners = sortedCopy(learners, "learners");
        outgoingVoters = sortedCopy(outgoingVoters, "outgoingVoters");
        Objects.requireNonNull(addresses, "addresses");
        addresses.forEach((id, address) -> {
            requireValidId(id);
            problemWithAddress(address).ifPresent(problem -> {
                throw new IllegalArgumentException("address of member " + abbreviated(id) + ": " + problem);
            });
        });
        addresses = Collections.unmodifiableMap(new TreeMap<>(addresses));
        if (addresses.size() > MAX_MEMBERS) {
            throw new IllegalArgumentException("at most " + MAX_MEMBERS + " addresses, not " + addresses.size());
        }
        for (String learner : learners) {
            if (voters.contains(learner) || outgoingVoters.contains(learner)) {
                throw new IllegalArgumentException("member " + learner + " is both learner and voter");
            }
        }
    }

    /** A simple (non-joint) configuration of voters only. */
    public static ClusterConfig ofVoters(Map<String, String> votersWithAddresses) {
        return new ClusterConfig(votersWithAddresses.keySet(), Set.of(), Set.of(), votersWithAddresses);
    }

    /** A simple configuration of voters without addresses (in-memory clusters, tests). */
    public static ClusterConfig ofVoters(Set<String> voters) {
        return new ClusterConfig(voters, Set.of(), Set.of(), Map.of());
    }

    /** Whether this is a joint configuration. */
    public boolean isJoint() {
        return !outgoingVoters.isEmpty();
    }

    /** Whether {@code id} votes in either half of the configuration. */
    public boolean isVoter(String id) {
        return voters.contains(id) || outgoingVoters.contains(id);
    }

    /** Whether {@code id} is a voter or a learner. */
    public boolean isMember(String id) {
        return isVoter(id) || learners.contains(id);
    }

    /**
     * This configuration with member {@code id} at {@code address}: the target of a
     * {@code changeMembership} that moves a node (same members, one address changed).
     *
     * @throws IllegalArgumentException if {@code id} is not a member
     */
    public ClusterConfig withAddress(String id, String address) {
        Objects.requireNonNull(id, "id");
        if (!isMember(id)) {
            throw new IllegalArgumentException(id + " is not a member");
        }
        Map<String, String> moved = new TreeMap<>(addresses);
        moved.put(id, address);
        return new ClusterConfig(voters, learners, outgoingVoters, moved);
    }

    /** Every member: voters of both halves and learners, sorted. */
    public Set<String> allMembers() {
        TreeSet<String> all = new TreeSet<>(voters);
        all.addAll(outgoingVoters);
        all.addAll(learners);
        return Collections.unmodifiableSet(all);
    }

    /** Encodes this configuration for a log entry. */
    public Bytes encode() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeByte(ENCODING_VERSION);
            writeSet(out, voters);
            writeSet(out, learners);
            writeSet(out, outgoingVoters);
            out.writeInt(addresses.size());
            for (Map.Entry<String, String> e : addresses.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Bytes.wrap(buffer.toByteArray());
    }

    /**
     * Decodes a configuration written by {@link #encode()}.
     *
     * @throws IllegalArgumentException if the bytes are not a valid encoding
     */
    public static ClusterConfig decode(Bytes bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.unsafeArray()))) {
            int version = in.readUnsignedByte();
            if (version != ENCODING_VERSION) {
                throw new IllegalArgumentException("unknown cluster config encoding version " + version);
            }
            Set<String> voters = readSet(in);
            Set<String> learners = readSet(in);
            Set<String> outgoing = readSet(in);
            int addressCount = checkedCount(in.readInt());
            Map<String, String> addresses = new TreeMap<>();
            for (int i = 0; i < addressCount; i++) {
                addresses.put(in.readUTF(), in.readUTF());
            }
            if (in.available() != 0) {
                throw new IllegalArgumentException("trailing bytes after cluster config");
            }
            return new ClusterConfig(voters, learners, outgoing, addresses);
        } catch (IOException e) {
            // e's message alone was "null" for bytes that end early (an EOFException has none).
            throw new IllegalArgumentException("malformed cluster config: " + e, e);
        }
    }

    /**
     * What is wrong with {@code id} as the id of a member (or of a group), if anything. An id must be
     * non-empty, at most {@link #MAX_ID_LENGTH} characters, without control characters (ids appear
     * in log lines and error messages), without unpaired surrogates (UTF-8 cannot carry them: the
     * network transport and the RocksDB store would turn each into {@code '?'}) and without
     * whitespace at either end (which would make {@code "n1 "} a member distinct from {@code "n1"}).
     * Ids are otherwise opaque to the protocol.
     *
     * @return a description of the problem, empty if {@code id} is a valid id
     */
    public static Optional<String> problemWithId(String id) {
        if (id == null || id.isEmpty()) {
            return Optional.of("an id must be non-empty");
        }
        if (id.length() > MAX_ID_LENGTH) {
            return Optional.of("an id must be at most " + MAX_ID_LENGTH + " characters, not " + id.length());
        }
        if (id.chars().anyMatch(Character::isISOControl)) {
            return Optional.of("an id must not contain control characters");
        }
        if (hasUnpairedSurrogate(id)) {
            return Optional.of(UNPAIRED_SURROGATE.formatted("an id"));
        }
        if (Character.isWhitespace(id.charAt(0)) || Character.isWhitespace(id.charAt(id.length() - 1))) {
            return Optional.of("an id must not begin or end with whitespace");
        }
        return Optional.empty();
    }

    /**
     * What is wrong with {@code address} as a member's address, if anything: it must be non-null
     * (empty means none), at most {@link #MAX_ADDRESS_LENGTH} characters, without control characters
     * or unpaired surrogates.
     *
     * @return a description of the problem, empty if {@code address} is a valid address
     */
    public static Optional<String> problemWithAddress(String address) {
        if (address == null) {
            return Optional.of("an address must not be null (use \"\" for none)");
        }
        if (address.length() > MAX_ADDRESS_LENGTH) {
            return Optional.of("an address must be at most " + MAX_ADDRESS_LENGTH + " characters, not "
                    + address.length());
        }
        if (address.chars().anyMatch(Character::isISOControl)) {
            return Optional.of("an address must not contain control characters");
        }
        if (hasUnpairedSurrogate(address)) {
            return Optional.of(UNPAIRED_SURROGATE.formatted("an address"));
        }
        return Optional.empty();
    }

    /**
     * Whether {@code s} holds a surrogate that is not half of a pair: not text, and UTF-8 (which the
     * network transport and the RocksDB store write ids in) turns every such one into {@code '?'}, so
     * two such ids would become one, and an id would not come back as itself.
     */
    private static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static void requireValidId(String id) {
        problemWithId(id).ifPresent(problem -> {
            throw new IllegalArgumentException("member id " + abbreviated(id) + ": " + problem);
        });
    }

    /** {@code s} quoted for an error message, cut short if long (an id can be a client's input). */
    private static String abbreviated(String s) {
        if (s == null) {
            return "null";
        }
        String shown = s.length() <= 40 ? s : s.substring(0, 40) + "...";
        return "'" + shown.codePoints()
                .collect(StringBuilder::new, (b, cp) -> {
                    if (Character.isISOControl(cp)) {
                        b.append(String.format("\\u%04x", cp));
                    } else {
                        b.appendCodePoint(cp);
                    }
                }, StringBuilder::append) + "'";
    }

    private static Set<String> sortedCopy(Set<String> set, String name) {
        Objects.requireNonNull(set, name);
        if (set.size() > MAX_MEMBERS) {
            throw new IllegalArgumentException("at most " + MAX_MEMBERS + " members in a set, not " + set.size());
        }
        set.forEach(ClusterConfig::requireValidId);
        return Collections.unmodifiableSet(new TreeSet<>(set));
    }

    private static void writeSet(DataOutputStream out, Set<String> set) throws IOException {
        out.writeInt(set.size());
        for (String s : set) {
            out.writeUTF(s);
        }
    }

    private static Set<String> readSet(DataInputStream in) throws IOException {
        int n = checkedCount(in.readInt());
        Set<String> set = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            set.add(in.readUTF());
        }
        return set;
    }

    private static int checkedCount(int n) {
        if (n < 0 || n > MAX_MEMBERS) {
            throw new IllegalArgumentException("implausible member count " + n);
        }
        return n;
    }
}
