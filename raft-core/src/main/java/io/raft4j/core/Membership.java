package io.raft4j.core;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;

/**
 * The membership side of the node: whether a membership change may start and which entry starts it
 * (Raft §6, planned by {@link MembershipPlanner}), finishing a change once its entry commits, and
 * whether this node was removed from the group ({@link RaftCore#isRemoved()}).
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** The most members (voters and learners) a membership change may give a group. */
    static final int MAX_GROUP_MEMBERS = 1024;

    /** What the membership side needs of the node it runs on. */
    interface Node {
        Role role();

        /** See {@link RaftCore#hasCommittedInTerm()}. */
        boolean hasCommittedInTerm();

        /** The voter this leader hands leadership to, or {@code null}. */
        String transferTarget();

        /** See {@link RaftCore#quorumAnswersIn}. */
        boolean quorumAnswersIn(ClusterConfig target);

        /** Why {@link #quorumAnswersIn} does not hold for {@code target}, for the rejection. */
        String whyNoQuorumIn(ClusterConfig target);

        /** Appends a configuration entry as leader; its index, or 0 on a node that does not lead. */
        long appendConfig(Bytes config);

        /** Steps down to follower in the current term, with no leader known. */
        void stepDown();
    }

    private final String id;
    private final RaftConfig settings;
    private final RaftLog log;
    private final ConfigHistory configs;
    private final Node node;

    /** This node led when a configuration without it committed. */
    private boolean removedItselfAsLeader;

    /**
     * Whether this node has seen itself in a configuration. A node being added may first install a
     * snapshot whose configuration predates its addition: it is not removed, it is not there yet.
     * Noted for every configuration received, not only for the one in force when a batch ends: a
     * node that caught up in one append holding both its addition and its removal took itself for
     * one not added yet, and never stopped.
     */
    private boolean everMember;

    /** Starts from the configuration in force, as recovered from storage (or bootstrapped). */
    Membership(RaftConfig settings, RaftLog log, ConfigHistory configs, Node node) {
        this.id = settings.nodeId();
        this.settings = settings;
        this.log = log;
        this.configs = configs;
        this.node = node;
        this.everMember = configs.current().isMember(id);
    }

    /** Notes whether the configuration in force lists this node. */
    void noteCurrentConfig() {
        everMember |= configs.current().isMember(id);
    }

    /** Entries just appended hold a configuration that lists this node ({@code listed}) or not. */
    void noteListed(boolean listed) {
        everMember |= listed;
    }

    /** See {@link RaftCore#isRemoved()}; {@code leaderSaysRemoved} is what the leader's last append said. */
    boolean isRemoved(boolean leaderSaysRemoved) {
        ClusterConfig config = configs.current();
        return everMember && !config.voters().isEmpty() && !config.isMember(id)
                && configs.currentIndex() <= log.committed()
                && (leaderSaysRemoved || removedItselfAsLeader);
    }

    /** See {@link RaftCore#changeMembership}: checks the change, then appends its first entry. */
    MembershipChange change(ClusterConfig target) {
        if (node.role() != Role.LEADER) {
            return MembershipChange.rejected("not the leader");
        }
        if (target.isJoint() || target.voters().isEmpty()) {
            return MembershipChange.rejected("the target configuration must be simple and have at least one voter");
        }
        if (target.allMembers().size() > MAX_GROUP_MEMBERS) {
            // A leader sends every member its appends and heartbeats: with tens of thousands of
            // learners (which the strict checks let through: they do not vote) it stalled and lost
            // its leadership. Well above any group's need; etcd allows one learner by default.
            return MembershipChange.rejected("a group of " + target.allMembers().size() + " members: at most "
                    + MAX_GROUP_MEMBERS);
        }
        // First: until the leader commits an entry of its term, even a configuration of an earlier
        // term may look uncommitted to it, and "another change in progress" would mislead.
        if (!node.hasCommittedInTerm()) {
            return MembershipChange.rejected("the leader has not yet committed an entry of its term; retry shortly");
        }
        ClusterConfig current = configs.current();
        if (current.isJoint() || configs.currentIndex() > log.committed()) {
            return MembershipChange.rejected("another membership change is in progress");
        }
        if (node.transferTarget() != null) {
            return MembershipChange.rejected("a leadership transfer is in progress");
        }
        if (!node.quorumAnswersIn(target)) {
            return MembershipChange.rejected(node.whyNoQuorumIn(target));
        }
        boolean joint = MembershipPlanner.needsJoint(current, target);
        Set<String> demoted = MembershipPlanner.votersMadeLearners(current, target);
        if (joint && !demoted.isEmpty()) {
            // In C_old,new they would be outgoing voters and learners at once, which no configuration
            // holds: building it threw here, on the loop, and the leader stopped.
            return MembershipChange.rejected("voters " + demoted + " cannot become learners in a change that goes"
                    + " through a joint configuration: make one voter a learner per change");
        }
        Bytes firstStep;
        try {
            firstStep = MembershipPlanner.firstStep(current, target).encode(); // the larger of the two steps
        } catch (IllegalArgumentException e) {
            // The joint configuration adds the outgoing voters' addresses to the target's, and may not
            // hold (over ClusterConfig.MAX_MEMBERS addresses): thrown here, on the loop, it stopped the leader.
            return MembershipChange.rejected("the joint configuration of this change cannot be made: " + e.getMessage());
        }
        if (firstStep.length() > settings.maxEntryBytes()) {
            // No message could carry the entry: replication would stop at it.
            return MembershipChange.rejected("the configuration takes " + firstStep.length()
                    + " bytes in the log, more than maxEntryBytes (" + settings.maxEntryBytes() + ")");
        }
        long index = node.appendConfig(firstStep);
        LOG.info("{}: membership change to voters {} learners {}{} at index {}", id, target.voters(), target.learners(),
                joint ? " through a joint configuration" : "", index);
        return new MembershipChange(index, joint, null);
    }

    /** The leader's commit index advanced: finish a membership change whose entry it committed. */
    void onCommitAdvanced() {
        ClusterConfig config = configs.current();
        if (configs.currentIndex() > log.committed()) {
            return;
        }
        if (config.isJoint()) {
            // C_old,new is committed: move on to C_new (Raft §6).
            ClusterConfig next = MembershipPlanner.leaveJoint(config);
            node.appendConfig(next.encode());
            LOG.info("{}: joint configuration committed; leaving it for voters {}", id, next.voters());
        } else if (!config.isVoter(id) && node.role() == Role.LEADER) {
            // A leader that removed itself leads until the change commits, then steps down (thesis §4.2.2).
            LOG.info("{}: removed from the configuration; stepping down", id);
            removedItselfAsLeader = !config.isMember(id);
            node.stepDown();
        }
    }
}
