package io.raft4j.core;

/**
 * The outcome of asking the core for a membership change.
 *
 * @param index     the index of the configuration entry appended (the joint one, for a joint change),
 *                  or 0 if the change was refused
 * @param joint     whether the change goes through a joint configuration (C_old,new then C_new)
 * @param rejection why the change was refused, or {@code null}
 */
public record MembershipChange(long index, boolean joint, String rejection) {
    static MembershipChange rejected(String reason) {
        return new MembershipChange(0, false, reason);
    }

    /** Whether the change was accepted (its first entry appended). */
    public boolean accepted() {
        return rejection == null;
    }
}
