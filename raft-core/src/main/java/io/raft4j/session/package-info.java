/**
 * Exactly-once commands across retries: client sessions (Raft thesis §6.3).
 *
 * <p>A proposal that fails with {@link io.raft4j.IndeterminateException} (the leader lost its
 * leadership before it knew the outcome) may or may not have been applied. Retrying it is safe only
 * for idempotent commands. Sessions make every command safe to retry: a {@link ClientSession}
 * numbers its commands, and a {@link SessionStateMachine} wrapped around the application's state
 * machine applies each number at most once, answering a retry of a command already applied with
 * the result of its first application.
 *
 * <pre>{@code
 * RaftNode<SessionResult<String>> node = RaftNode.builder(config,
 *                 new SessionStateMachine<>(bank, SessionStateMachine.ResultCodec.UTF8))
 *         .transport(transport).storage(log).snapshots(snapshots).build();
 * ClientSession session = ClientSession.registered(untilAnswered(ClientSession.registration()));
 * ClientSession.Command cmd = session.command(Bytes.ofUtf8("transfer 10 alice bob"));
 * SessionResult<String> r = untilAnswered(cmd.bytes());    // the same bytes on every retry, on any leader
 *                                                          // (see docs/embedding.md for such a loop)
 * session.finished(cmd);
 * }</pre>
 */
package io.raft4j.session;
