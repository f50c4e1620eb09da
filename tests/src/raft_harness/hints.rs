//! What usually causes the failures that report a consequence (a committed entry that
//! changed, no agreement, no leader) rather than the rule that was broken: the rules of
//! Figure 2, Figure 13 and §5 of the extended Raft paper whose breach typically leads to
//! it, most likely first. A failure message says its own facts first (in the course's
//! words, where the course has the check), then one of these. Each names only rules whose
//! breach can cause that symptom.

/// Two servers applied different commands at one index (State Machine Safety): an entry
/// was committed, then lost or overwritten.
pub(crate) const ENTRY_CHANGED: &str = "Usually caused by (most likely first): a vote \
    granted to a candidate whose log is less up-to-date (§5.4.1: compare last log terms, \
    then lengths), so a leader lacks committed entries (Leader Completeness); an earlier \
    term's entry committed by counting replicas (§5.4.2: only if log[N].term == \
    currentTerm); AppendEntries accepted from an older term (receiver rule 1), or deleting \
    entries that match (rule 3: only from the first conflict, so a late copy never cuts \
    acknowledged entries); matchIndex set past what the follower acknowledged \
    (prevLogIndex + entries sent); log[], currentTerm or votedFor not persisted before \
    replying (Figure 2); commitIndex kept across a restart (it is volatile); \
    InstallSnapshot dropping the entries after a matching last included entry (Figure 13, \
    rule 6).";

/// A server applied an index other than the next one.
pub(crate) const APPLY_ORDER: &str = "Usually caused by: lastApplied not set to the \
    snapshot's last included index when a snapshot is installed or a server restarts \
    (Figure 13, §7); commitIndex moved backwards by a late AppendEntries or InstallSnapshot \
    (only ever raise it; ignore a snapshot not ahead of it); entries sent on the apply \
    channel by more than one task at a time (one applier, in index order).";

/// What usually keeps a command a leader accepted from being applied by enough servers in
/// time, given how many terms had a leader meanwhile (0 if unknown): with many, leaders
/// replaced over and over come first.
pub(crate) fn no_agreement(leader_terms: usize) -> String {
    if leader_terms >= CHURN_TERMS {
        format!(
            "Leaders of {leader_terms} terms in turn: usually caused by {LEADER_CHURN}. \
             Else: {NO_AGREEMENT}."
        )
    } else {
        format!("Usually caused by: {NO_AGREEMENT}; {LEADER_CHURN}.")
    }
}

/// Leaders of this many terms during one `one()` (at most 12 s) suggest that followers
/// start elections although a leader is alive.
const CHURN_TERMS: usize = 5;

/// Why a command is not agreed on, but leaders replaced over and over.
const NO_AGREEMENT: &str = "nextIndex not backed up on a refused AppendEntries, backed up \
    past the conflict, or too slowly (Figure 2, Rules for Leaders; end of §5.3: a whole \
    conflicting term per refusal, retried at once); entries not sent again until \
    acknowledged; a wrong check of prevLogIndex and prevLogTerm (AppendEntries receiver \
    rule 2); commitIndex not advanced to the highest N with matchIndex ≥ N on a majority \
    and log[N].term == currentTerm (Rules for Leaders), or not followed by the followers \
    (rule 5: min(leaderCommit, index of last new entry)); entries not applied whenever \
    commitIndex > lastApplied (Rules for All Servers), also right after a restart \
    (commitIndex is volatile: it restarts at the snapshot's index, or 0)";

/// Leaders replaced over and over.
const LEADER_CHURN: &str = "followers starting elections although the leader is alive (a \
    follower resets its election timer on every AppendEntries from the current leader: \
    Figure 2, Rules for Followers; a new leader sends heartbeats at once, then often \
    enough: §5.2)";

/// No connected server claimed leadership.
pub(crate) const NO_LEADER: &str = "Usually caused by: votedFor not reset when currentTerm \
    rises (Figure 2, Rules for All Servers), so a voter refuses every later candidate; \
    election timeouts not randomized per election (§5.2), so votes keep splitting; the \
    election timer reset other than on granting a vote or on an AppendEntries from the \
    current leader (Rules for Followers); a higher term in a request or reply not adopted, \
    with a step down to follower (§5.1); votes miscounted (a majority of all servers, its \
    own vote included). Also: timers on the wall clock (std::time, std::thread::sleep) \
    instead of labrpc::now and labrpc::sleep; RequestVotes sent one after another, each \
    waiting up to 7 s on a cut-off server, instead of concurrently in tasks spawned with \
    labrpc::spawn.";

/// Two servers claimed to lead one term (Election Safety).
pub(crate) const TWO_LEADERS: &str = "Usually caused by: a server voting twice in one term \
    (votedFor must hold for the whole term, be reset only when the term changes, and be \
    persisted before the vote is sent: Figure 2); a granted vote counted in an election \
    other than the one it was requested for (a reply counts only if the candidate is still \
    in the term it asked in: §5.2); a leader that adopts a higher term without stepping \
    down to follower (§5.1).";

/// A connected server leads although no majority of the servers is connected.
pub(crate) const LEADER_WITHOUT_MAJORITY: &str = "Usually caused by: votes miscounted (a \
    candidate needs granted votes from a majority of all the servers, its own included, \
    each counted once; a RequestVote that failed, timed out or was refused is no vote: \
    §5.2); a deposed leader still leading its old term (a request or reply with a higher \
    term must make it adopt the term and step down: §5.1).";

/// Connected servers are in different terms while a leader is alive and nothing fails.
pub(crate) const TERMS_DIFFER: &str = "Usually caused by: a server not adopting a higher \
    term it sees in a request or reply (Figure 2, Rules for All Servers); a follower \
    starting an election although the leader is alive (it resets its election timer on \
    every AppendEntries from the current leader: Rules for Followers; a leader sends \
    heartbeats at once upon election, then often enough: §5.2).";

/// The servers send messages without end while virtual time stands still.
pub(crate) const MESSAGE_STORM: &str = "Usually a leader that sends AppendEntries again at \
    once after every reply and never gets anywhere: nextIndex never settles on the \
    follower's log, because it is backed up past the conflict (Figure 2, Rules for \
    Leaders; §5.3) or moved past what the follower acknowledged (on success, matchIndex = \
    prevLogIndex + entries sent, nextIndex = matchIndex + 1); or a follower deletes entries \
    that match (AppendEntries rule 3: only from the first conflict), so that one \
    AppendEntries undoes another. More generally: any RPC retried at once on a refusal.";
