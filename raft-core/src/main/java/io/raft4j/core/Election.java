package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The elections of one node: its election timer with its randomized timeout, its campaigns (pre-vote
 * and vote), the votes it grants and the ones it counts, and leader stickiness. It decides when the
 * node changes role; the role changes themselves are the node's ({@link Node}).
 */
final class Election {
    private static final Logger LOG = LoggerFactory.getLogger(Election.class);

    /** What elections need of the node they run on. */
    interface Node {
        long term();

        /** The fingerprint of this node's bootstrap, carried by its vote requests (0 while unknown). */
        long bootstrapFingerprint();

        Role role();

        /** The leader known for the current term, or {@code null}. */
        String leaderId();

        /** The vote cast in the current term, or {@code null}. */
        String votedFor();

        /** Votes for {@code candidate} in the current term; the vote is part of the durable hard state. */
        void voteFor(String candidate);

        void becomePreCandidate();

        void becomeCandidate();

        void becomeLeader();

        void becomeFollower(long term, String leader);

        /** On the leader of the current term: {@code voter} answered it. */
        void answered(String voter);

        void send(RaftMessage m);
    }

    private final RaftConfig settings;
    private final String id;
    private final String groupId;
    private final RandomGenerator random;
    private final RaftLog log;
    private final ConfigHistory configs;
    private final Node node;

    private int electionElapsed;
    private int randomizedElectionTimeout;
    /**
     * A leader may be alive that this node knows of no longer, so it neither votes nor grants
     * pre-votes for one election timeout, as if it had just heard from one: otherwise it could help
     * elect a new leader while the old one still holds a read lease. So for a node that just started,
     * and for a follower that moved to a newer term on a message that named no leader while it still
     * refused votes for its leader.
     */
    private boolean leaderMaybeAlive = true;
    private final Map<String, Boolean> votes = new HashMap<>();
    private final RestartRefusal restartRefusal;

    Election(RaftConfig settings, RandomGenerator random, RaftLog log, ConfigHistory configs, Node node,
             RestartRefusal restartRefusal) {
        this.restartRefusal = restartRefusal;
        this.settings = settings;
        this.id = settings.nodeId();
        this.groupId = settings.groupId();
        this.random = random;
        this.log = log;
        this.configs = configs;
        this.node = node;
    }

    // ---- the election timer ------------------------------------------------------------------

    /** A tick on a node that does not lead: campaigns once the (randomized) election timeout passed. */
    void tick() {
        electionElapsed++;
        if (restartRefusal.refusing() && electionElapsed >= settings.electionTimeoutTicks()) {
            // No campaign while the window stored before the restart runs: the timer waits just short
            // of one election timeout, so that the random part of this node's timeout runs from the
            // window's end. Left to run on, it had passed long before in every node restarted with
            // such a window, and all of them campaigned at the tick it ended and split the vote.
            electionElapsed = settings.electionTimeoutTicks() - 1;
        }
        if (electionElapsed >= settings.electionTimeoutTicks()) {
            leaderMaybeAlive = false;
        }
        if (electionElapsed >= randomizedElectionTimeout + standBackTicks() && isPromotable()
                && !restartRefusal.refusing()) {
            electionElapsed = 0;
            campaign(false);
        }
    }

    /** A tick on the leader: whether an election timeout passed since the last (and the count restarts). */
    boolean tickLeader() {
        electionElapsed++;
        if (electionElapsed >= settings.electionTimeoutTicks()) {
            electionElapsed = 0;
            return true;
        }
        return false;
    }

    /**
     * Ticks this node waits past its election timeout before it campaigns: none for a voter of its
     * latest configuration, one election timeout more for one that campaigns only because its
     * removal (or demotion) is not known committed ({@link #isPromotable}). Where the voters that
     * stay can elect one of their own, one of them times out first: the removed node would lead only
     * to commit its removal and step down, one more election before the group serves again.
     */
    private int standBackTicks() {
        return configs.current().isVoter(id) ? 0 : settings.electionTimeoutTicks();
    }

    /** Starts the election timer again, keeping its timeout: heard from the leader, or became it. */
    void restartTimer() {
        electionElapsed = 0;
    }

    /** A new role: forgets the votes and starts the timer again with a new randomized timeout. */
    void reset() {
        votes.clear();
        resetTimer();
    }

    /** Starts the election timer again with a new randomized timeout. */
    void resetTimer() {
        electionElapsed = 0;
        int timeout = settings.electionTimeoutTicks();
        randomizedElectionTimeout = timeout + random.nextInt(timeout);
    }

    // ---- leader stickiness -------------------------------------------------------------------

    /**
     * The term rules for a message of a newer term, as leader stickiness shapes them.
     *
     * @return false if the message must be ignored
     */
    boolean acceptsHigherTerm(RaftMessage m) {
        if (m instanceof RequestVote rv) {
            // Leader stickiness (thesis §4.2.3, §9.6): while we hear from a live leader, a vote
            // request is disruptive (a removed or partitioned node) and is ignored, unless the
            // leader itself asked for this election by a leadership transfer.
            if (refusesVotes() && !rv.leadershipTransfer()) {
                return false;
            }
            if (rv.preVote()) {
                return true; // a pre-vote changes no state
            }
            // Figure 2: only granting the vote restarts the election timer (onVoteRequest).
            // Restarted by every request, voters whose clocks run slow, with the most up-to-date
            // logs, never timed out first while candidates they refuse kept campaigning.
            int elapsed = electionElapsed;
            node.becomeFollower(m.term(), null);
            electionElapsed = elapsed;
            return true;
        }
        if (m instanceof RequestVoteResponse r && r.preVote() && r.granted()) {
            return true; // granted pre-votes carry the term we would campaign in
        }
        boolean fromLeader = m instanceof AppendEntries || m instanceof InstallSnapshot;
        // Dropping its leader for a newer term, a follower that still refused votes for it must go
        // on refusing: its leader may not know of the term yet and still hold a lease. It used to
        // grant the next vote request of the term at once (an answer to an append it sent as a
        // former leader was enough to get there), and another node was elected during the lease.
        boolean stillRefusing = !fromLeader && node.role() == Role.FOLLOWER && refusesVotes();
        node.becomeFollower(m.term(), fromLeader ? m.from() : null);
        leaderMaybeAlive |= stillRefusing;
        return true;
    }

    /**
     * Leader stickiness (thesis §4.2.3, §9.6): whether this node refuses (pre-)votes, as it heard
     * from a live leader less than an election timeout ago, or cannot rule one out; or as the window
     * it may have promised before its restart still runs ({@link RestartRefusal}), whatever its
     * settings now.
     */
    private boolean refusesVotes() {
        return restartRefusal.refusing() || (settings.checkQuorum() && (node.leaderId() != null || leaderMaybeAlive)
                && electionElapsed < settings.electionTimeoutTicks());
    }

    // ---- campaigns ---------------------------------------------------------------------------

    /**
     * Whether this node may campaign: it is a voter of its latest configuration, or, while it does
     * not know that one committed, of the one in force at its commit index or of one appended since.
     * The second case is a leader that appended its own removal (or demotion) and lost its
     * leadership before the change left it: its log is then ahead of the voters', which refuse it
     * theirs while it refuses them its vote, and in a group where its vote is needed (two voters) no
     * one could ever be elected. Restarted, it knows nothing committed beyond its snapshot: hence
     * any configuration since, not only the one at the commit index. Its votes are counted in its
     * latest configuration, as Raft counts every election, so winning without its own vote is safe;
     * it then commits the change and steps down as any leader that removed itself.
     */
    boolean isPromotable() {
        return configs.current().isVoter(id)
                || (configs.currentIndex() > log.committed() && configs.votesSince(log.committed(), id));
    }

    /** Starts an election now, as if the election timeout had elapsed (if this node may vote). */
    void campaignNow() {
        if (isPromotable() && node.role() != Role.LEADER) {
            campaign(false);
        }
    }

    /** The leader hands leadership over to this node: it campaigns at once, skipping the pre-vote. */
    void onTimeoutNow(String from) {
        if (node.role() != Role.LEADER && isPromotable()) {
            LOG.info("{}: leadership transfer from {}: campaigning now in term {}", id, from, node.term() + 1);
            campaign(true);
        }
    }

    private void campaign(boolean transfer) {
        if (settings.preVote() && !transfer) {
            node.becomePreCandidate();
        } else {
            node.becomeCandidate();
        }
        requestVotes(node.role() == Role.PRE_CANDIDATE, transfer);
    }

    private void requestVotes(boolean preVote, boolean transfer) {
        long term = node.term();
        long voteTerm = preVote ? term + 1 : term;
        if (preVote) {
            votes.put(id, true);
            if (tallyVotes()) {
                return;
            }
        } else {
            // Our own vote counts only once term and vote are durable, and the requests leave only
            // then too (Outbox): a term we could forget in a crash must not be won.
            node.send(new RequestVoteResponse(groupId, id, id, term, true, false));
        }
        for (String voter : configs.current().allMembers()) {
            if (!voter.equals(id) && configs.current().isVoter(voter)) {
                node.send(new RequestVote(groupId, id, voter, voteTerm, log.lastIndex(), log.lastTerm(), preVote,
                        transfer, node.bootstrapFingerprint()));
            }
        }
    }

    // ---- votes -------------------------------------------------------------------------------

    void onVoteRequest(RequestVote m) {
        long term = node.term();
        String votedFor = node.votedFor();
        // Figure 2, RequestVote receiver: vote at most once per term (§5.2), and only for a
        // candidate whose log is at least as up to date as ours (§5.4.1).
        boolean canVote = m.from().equals(votedFor)
                || (votedFor == null && node.leaderId() == null && (m.leadershipTransfer() || !refusesVotes()))
                || (m.preVote() && m.term() > term);
        boolean grant = canVote && log.isUpToDate(m.lastLogIndex(), m.lastLogTerm());
        if (grant && !m.preVote()) {
            node.voteFor(m.from());
            electionElapsed = 0;
        }
        long answerTerm = grant && m.preVote() ? m.term() : term;
        node.send(new RequestVoteResponse(groupId, id, m.from(), answerTerm, grant, m.preVote()));
    }

    void onVoteResponse(RequestVoteResponse m) {
        Role role = node.role();
        long term = node.term();
        if (role == Role.LEADER && !m.preVote() && m.term() == term && m.granted()) {
            node.answered(m.from()); // a vote that came after the election was won: it answers all the same
            return;
        }
        boolean relevant = (role == Role.PRE_CANDIDATE && m.preVote())
                || (role == Role.CANDIDATE && !m.preVote() && m.term() == term);
        if (!relevant) {
            return;
        }
        votes.put(m.from(), m.granted());
        tallyVotes();
    }

    /** @return whether the election was decided */
    private boolean tallyVotes() {
        switch (Quorum.voteResult(configs.current(), votes)) {
            case WON -> {
                if (node.role() == Role.PRE_CANDIDATE) {
                    node.becomeCandidate();
                    requestVotes(false, false);
                } else {
                    node.becomeLeader();
                }
                return true;
            }
            case LOST -> {
                node.becomeFollower(node.term(), null);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** The voters that granted this node their vote in its last election (for the leader it became). */
    List<String> grantedVoters() {
        List<String> granted = new ArrayList<>();
        votes.forEach((voter, yes) -> {
            if (yes) {
                granted.add(voter);
            }
        });
        return granted;
    }
}
