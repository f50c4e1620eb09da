//! The rules of the Raft paper, checked one by one on the pure core, without a
//! simulation: each test builds a server's [`State`], feeds it an RPC, a reply or a
//! timeout, and looks at the reply, the new state and the
//! [`Effects`](super::state::Effects) it asks for. Each test's name ends with the section
//! of the extended paper it checks, and its doc quotes the rule.
//!
//! Every transition also checks the invariants stated on `State`'s fields (debug builds),
//! so these tests check those too.

use super::config::Configuration;
use super::leader::{Message, Replicate};
use super::log::tests::{entry, log_of};
use super::persist::{self, Saved};
use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, Entries, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
use super::state::{Outgoing, Role, State};
use crate::ApplyMsg;

// --- Building servers and messages ---

/// Server `me` of `servers`, a follower in `term` that has voted for no one, whose log
/// holds entries of `terms` (indices 1, 2, ...), none of them known committed.
fn follower(me: usize, servers: usize, term: u64, terms: &[u64]) -> State {
    let saved = Saved {
        current_term: term,
        voted_for: None,
        log: log_of(terms),
    };
    State::new(me, servers, saved, Vec::new())
}

/// Server 0 of `servers`, just elected leader of `term` with the log `terms`.
fn leader(servers: usize, term: u64, terms: &[u64]) -> State {
    let mut state = follower(0, servers, term - 1, terms);
    let _ = state.become_candidate();
    let granted = RequestVoteReply {
        term,
        vote_granted: true,
    };
    for voter in 1..servers / 2 + 1 {
        let _ = state.request_vote_reply(term, voter, &granted);
    }
    assert!(state.is_leader() && state.current_term() == term);
    state
}

/// Server 0 of `servers`, a candidate in `term` with the log `terms`.
fn candidate(servers: usize, term: u64, terms: &[u64]) -> State {
    let mut state = follower(0, servers, term - 1, terms);
    let _ = state.become_candidate();
    state
}

/// The terms of the entries after the snapshot.
fn terms_of(state: &State) -> Vec<u64> {
    let first = state.log.snapshot_index() + 1;
    state
        .log
        .entries_from(first)
        .iter()
        .map(|e| e.term)
        .collect()
}

fn is_follower(state: &State) -> bool {
    matches!(state.role(), Role::Follower)
}

fn vote_request(
    term: u64,
    candidate: usize,
    last_log_index: u64,
    last_log_term: u64,
) -> RequestVoteArgs {
    RequestVoteArgs {
        term,
        candidate,
        last_log_index,
        last_log_term,
        leadership_transfer: false,
    }
}

fn append(term: u64, prev: (u64, u64), terms: &[u64], leader_commit: u64) -> AppendEntriesArgs {
    AppendEntriesArgs {
        term,
        leader: 1,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries: Entries::Decoded(terms.iter().map(|&t| entry(t)).collect()),
        leader_commit,
    }
}

fn install(term: u64, last_included_index: u64, last_included_term: u64) -> InstallSnapshotArgs {
    InstallSnapshotArgs {
        term,
        leader: 1,
        last_included_index,
        last_included_term,
        config: Configuration::all(3),
        data: vec![9; 4],
    }
}

fn rejection(term: u64, conflict_term: Option<u64>, conflict_index: u64) -> AppendEntriesReply {
    AppendEntriesReply {
        term,
        success: false,
        conflict_term,
        conflict_index,
    }
}

fn success(term: u64) -> AppendEntriesReply {
    AppendEntriesReply {
        term,
        success: true,
        conflict_term: None,
        conflict_index: 0,
    }
}

fn next_index(state: &State, server: usize) -> u64 {
    let Role::Leader(leader) = state.role() else {
        panic!("not a leader");
    };
    leader.next_index[server]
}

fn match_index(state: &State, server: usize) -> u64 {
    let Role::Leader(leader) = state.role() else {
        panic!("not a leader");
    };
    leader.match_index[server]
}

/// Whether the leader has woken `server`'s replicator since the last look.
fn replicator_woken(state: &State, server: usize) -> bool {
    let Role::Leader(leader) = state.role() else {
        panic!("not a leader");
    };
    leader.wake[server].take()
}

// --- §5.1: terms ---

/// §5.1, Figure 2 (Rules for All Servers): "If RPC request or response contains term T >
/// currentTerm: set currentTerm = T, convert to follower". Checked for each role and
/// each of the three requests; the vote of the old term does not carry over.
#[test]
fn a_request_with_a_higher_term_makes_any_server_a_follower_of_it_5_1() {
    type Make = fn() -> State;
    let roles: [(&str, Make); 3] = [
        ("follower", || {
            let mut state = follower(0, 3, 3, &[1, 2]);
            state.voted_for = Some(2);
            state
        }),
        ("candidate", || candidate(3, 3, &[1, 2])),
        ("leader", || leader(3, 3, &[1, 2])),
    ];
    for (role, make) in roles {
        // A candidate whose log is behind: refused, so voted_for shows the reset.
        let mut state = make();
        let (reply, effects) = state.request_vote(&vote_request(5, 1, 0, 0));
        assert!(!reply.vote_granted, "{role}");
        assert_eq!((reply.term, state.current_term()), (5, 5), "{role}");
        assert!(is_follower(&state), "{role}");
        assert_eq!(state.voted_for, None, "{role}: the old term's vote is gone");
        assert!(effects.persist, "{role}: the new term must be saved");

        let mut state = make();
        let (reply, effects) = state.append_entries(append(5, (2, 2), &[], 0));
        assert!(reply.success, "{role}");
        assert_eq!((reply.term, state.current_term()), (5, 5), "{role}");
        assert!(is_follower(&state) && state.voted_for.is_none(), "{role}");
        assert!(effects.persist, "{role}");

        let mut state = make();
        let (reply, effects) = state.install_snapshot(install(5, 1, 1));
        assert_eq!((reply.term, state.current_term()), (5, 5), "{role}");
        assert!(is_follower(&state) && state.voted_for.is_none(), "{role}");
        assert!(effects.persist, "{role}");
    }
}

/// §5.1: the same rule for replies: a candidate learns of a newer term from a vote
/// reply, a leader from an AppendEntries or InstallSnapshot reply, and becomes a follower
/// of that term (a deposed leader stops its replicators).
#[test]
fn a_reply_with_a_higher_term_makes_a_follower_of_it_5_1() {
    let mut state = candidate(3, 2, &[1]);
    let refused = RequestVoteReply {
        term: 4,
        vote_granted: false,
    };
    let effects = state.request_vote_reply(2, 1, &refused);
    assert!(is_follower(&state) && state.current_term() == 4 && state.voted_for.is_none());
    assert!(effects.persist);

    let mut state = leader(3, 2, &[1]);
    let args = append(2, (1, 1), &[], 0);
    let effects = state.append_entries_reply(1, &args, 0, Some(rejection(4, None, 0)));
    assert!(is_follower(&state) && state.current_term() == 4 && state.voted_for.is_none());
    assert!(effects.persist);

    let mut state = leader(3, 2, &[1]);
    let Role::Leader(old) = state.role() else {
        unreachable!()
    };
    let wake = old.wake[2].clone();
    wake.take(); // the first heartbeat's
    let reply = InstallSnapshotReply { term: 4 };
    let effects = state.install_snapshot_reply(1, &install(2, 1, 1), 0, Some(reply));
    assert!(is_follower(&state) && state.current_term() == 4 && state.voted_for.is_none());
    assert!(effects.persist);
    assert!(wake.take(), "the old term's replicators are told to stop");
}

/// §5.1, Figure 2 (each receiver's rule 1): a request from an older term is refused, and
/// changes nothing: not the term, not the vote, not the log, not the election timer.
#[test]
fn requests_of_an_older_term_are_rejected_5_1() {
    let mut state = follower(0, 3, 5, &[1, 5]);
    let (reply, effects) = state.request_vote(&vote_request(4, 1, 9, 4));
    assert!(!reply.vote_granted);
    assert_eq!(reply.term, 5);
    assert_eq!(state.voted_for, None);
    assert!(!effects.persist && !effects.reset_election_timer);

    let (reply, effects) = state.append_entries(append(4, (2, 5), &[4], 2));
    assert!(!reply.success);
    assert_eq!(reply.term, 5);
    assert_eq!(terms_of(&state), [1, 5]);
    assert_eq!(state.commit_index, 0);
    assert!(!effects.persist && !effects.reset_election_timer);

    let (reply, effects) = state.install_snapshot(install(4, 5, 4));
    assert_eq!(reply.term, 5);
    assert_eq!((state.log.snapshot_index(), state.log.last_index()), (0, 2));
    assert!(!effects.persist && !effects.reset_election_timer && !state.snapshot_to_apply);

    // And a leader is not deposed by one.
    let mut state = leader(3, 5, &[1]);
    let (reply, _) = state.append_entries(append(4, (1, 1), &[], 0));
    assert!(!reply.success && state.is_leader() && state.current_term() == 5);
}

// --- §5.2: leader election ---

/// §5.2, Figure 2 (Rules for Followers and Candidates): when the election timeout elapses,
/// a follower becomes a candidate: it increments its term, votes for itself, saves both,
/// and asks every server for its vote with its last log index and term. A leader has no
/// election timeout.
#[test]
fn an_election_timeout_starts_an_election_5_2() {
    let mut state = follower(0, 3, 3, &[1, 3]);
    let effects = state.election_timeout();
    assert!(matches!(state.role(), Role::Candidate(_)));
    assert_eq!((state.current_term(), state.voted_for), (4, Some(0)));
    assert!(effects.persist && effects.reset_election_timer);
    let Some(Outgoing::RequestVotes(args)) = effects.send else {
        panic!("asks for votes")
    };
    assert_eq!((args.term, args.candidate), (4, 0));
    assert_eq!((args.last_log_index, args.last_log_term), (2, 3));

    // A candidate whose election timed out starts another, in the next term.
    let effects = state.election_timeout();
    assert_eq!(state.current_term(), 5);
    assert!(matches!(effects.send, Some(Outgoing::RequestVotes(a)) if a.term == 5));

    let mut state = leader(3, 2, &[1]);
    let effects = state.election_timeout();
    assert!(state.is_leader() && state.current_term() == 2);
    assert!(effects.send.is_none() && !effects.persist);

    // A cluster of one is its own majority.
    let mut state = follower(0, 1, 0, &[]);
    let effects = state.election_timeout();
    assert!(state.is_leader() && effects.start_replicators);
}

/// §5.2: "Each server will vote for at most one candidate in a given term, on a
/// first-come-first-served basis", and saves the vote before granting it (Figure 2).
#[test]
fn a_server_votes_for_at_most_one_candidate_per_term_5_2() {
    // Already in term 2, so that the vote alone needs saving, not a new term.
    let mut state = follower(0, 5, 2, &[1]);
    let (reply, effects) = state.request_vote(&vote_request(2, 1, 1, 1));
    assert!(reply.vote_granted);
    assert_eq!(state.voted_for, Some(1));
    assert!(
        effects.persist,
        "the vote must be saved before it is granted"
    );

    let (reply, effects) = state.request_vote(&vote_request(2, 2, 1, 1));
    assert!(!reply.vote_granted, "second candidate of the same term");
    assert_eq!(state.voted_for, Some(1));
    assert!(!effects.persist && !effects.reset_election_timer);

    // A new term brings a new vote.
    let (reply, _) = state.request_vote(&vote_request(3, 2, 1, 1));
    assert!(reply.vote_granted);
    assert_eq!(state.voted_for, Some(2));
}

/// §5.2, Figure 2 (RequestVote rule 2: "votedFor is null or candidateId"): a candidate
/// that asks again (its first reply was lost) gets the same vote again.
#[test]
fn the_same_candidate_asking_again_gets_the_vote_again_5_2() {
    let mut state = follower(0, 3, 1, &[]);
    let (first, _) = state.request_vote(&vote_request(2, 1, 0, 0));
    let (again, effects) = state.request_vote(&vote_request(2, 1, 0, 0));
    assert!(first.vote_granted && again.vote_granted);
    assert!(!effects.persist, "nothing new to save");
    assert!(effects.reset_election_timer);
}

/// §5.2, Figure 2 (Rules for Followers: the timeout runs "without receiving AppendEntries
/// RPC from current leader or granting vote to candidate"): granting a vote resets the
/// election timer; refusing one does not.
#[test]
fn granting_a_vote_resets_the_election_timer_5_2() {
    let mut state = follower(0, 3, 1, &[1, 1]);
    let (reply, effects) = state.request_vote(&vote_request(2, 1, 2, 1));
    assert!(reply.vote_granted && effects.reset_election_timer);

    let mut state = follower(0, 3, 1, &[1, 1]);
    let (reply, effects) = state.request_vote(&vote_request(2, 1, 1, 1));
    assert!(!reply.vote_granted && !effects.reset_election_timer);
}

/// §5.2: "A candidate wins an election if it receives votes from a majority of the
/// servers in the full cluster for the same term." A duplicated vote counts once, a
/// refusal or a vote from an earlier election not at all.
#[test]
fn a_candidate_wins_with_votes_from_a_majority_5_2() {
    let mut state = candidate(5, 3, &[1, 2]);
    let granted = |term| RequestVoteReply {
        term,
        vote_granted: true,
    };
    let refused = RequestVoteReply {
        term: 3,
        vote_granted: false,
    };
    assert!(
        !state
            .request_vote_reply(3, 1, &granted(3))
            .start_replicators
    );
    assert!(
        !state
            .request_vote_reply(3, 1, &granted(3))
            .start_replicators
    );
    assert!(!state.request_vote_reply(3, 2, &refused).start_replicators);
    assert!(
        !state
            .request_vote_reply(2, 3, &granted(2))
            .start_replicators
    );
    assert!(matches!(state.role(), Role::Candidate(_)), "2 votes of 5");

    let effects = state.request_vote_reply(3, 4, &granted(3));
    assert!(state.is_leader() && effects.start_replicators);
    // "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server."
    for server in 1..5 {
        assert_eq!(next_index(&state, server), 3);
        assert_eq!(match_index(&state, server), 0);
        assert!(replicator_woken(&state, server));
    }
    assert_eq!(match_index(&state, 0), 2);
}

/// §5.2: "If the leader's term is at least as large as the candidate's current term,
/// then the candidate recognizes the leader as legitimate and returns to follower state."
#[test]
fn a_candidate_yields_to_a_leader_of_its_own_term_5_2() {
    let mut state = candidate(3, 3, &[1]);
    let (reply, effects) = state.append_entries(append(3, (1, 1), &[3], 0));
    assert!(reply.success && is_follower(&state));
    assert_eq!((state.current_term(), state.voted_for), (3, Some(0)));
    assert!(effects.reset_election_timer);
}

// --- §5.4.1: the election restriction ---

/// §5.4.1: "If the logs have last entries with different terms, then the log with the
/// later term is more up-to-date. If the logs end with the same term, then whichever log
/// is longer is more up-to-date." A voter grants only a candidate at least as up-to-date.
#[test]
fn votes_go_only_to_candidates_at_least_as_up_to_date_5_4_1() {
    // The voter's log: last index 3, last term 2.
    let cases = [
        ((1, 3), true, "later last term, shorter log"),
        ((10, 1), false, "earlier last term, longer log"),
        ((3, 2), true, "same last term, same length"),
        ((4, 2), true, "same last term, longer"),
        ((2, 2), false, "same last term, shorter"),
    ];
    for ((last_log_index, last_log_term), granted, case) in cases {
        let mut voter = follower(0, 3, 2, &[1, 1, 2]);
        let args = vote_request(4, 1, last_log_index, last_log_term);
        let (reply, _) = voter.request_vote(&args);
        assert_eq!(reply.vote_granted, granted, "{case}");
        assert_eq!(voter.voted_for, granted.then_some(1), "{case}");
    }
}

// --- §5.3: log replication, follower side ---

/// §5.3, Figure 2 (AppendEntries rule 2): the consistency check fails if the follower has
/// no entry at prevLogIndex; the reply's hint sends the leader just past the follower's
/// log (the fast backup at the end of §5.3). The leader was still heard from.
#[test]
fn append_is_rejected_when_prev_is_missing_5_3() {
    let mut state = follower(0, 3, 2, &[1, 1]);
    let (reply, effects) = state.append_entries(append(2, (5, 2), &[2], 0));
    assert_eq!(reply, rejection(2, None, 3));
    assert_eq!(terms_of(&state), [1, 1]);
    assert!(!effects.persist && effects.reset_election_timer);
}

/// §5.3, Figure 2 (AppendEntries rule 2): the check fails if the entry at prevLogIndex has
/// another term; the hint names that term and the first index the follower holds of it,
/// so the leader can skip the whole term at once (end of §5.3).
#[test]
fn append_is_rejected_on_a_mismatched_prev_term_with_conflict_hints_5_3() {
    let mut state = follower(0, 3, 3, &[1, 2, 2, 2]);
    let (reply, effects) = state.append_entries(append(3, (4, 3), &[3], 0));
    assert_eq!(reply, rejection(3, Some(2), 2));
    assert_eq!(terms_of(&state), [1, 2, 2, 2]);
    assert!(!effects.persist);
}

/// §5.3, Figure 2 (AppendEntries rule 4): once the logs agree at prevLogIndex, new entries
/// are appended, and saved before the reply (Figure 2, Persistent state).
#[test]
fn append_adds_new_entries_after_a_matching_prev_5_3() {
    let mut state = follower(0, 3, 2, &[1]);
    let (reply, effects) = state.append_entries(append(2, (1, 1), &[1, 2], 0));
    assert!(reply.success);
    assert_eq!(terms_of(&state), [1, 1, 2]);
    assert!(effects.persist && effects.reset_election_timer);

    // A heartbeat changes nothing that needs saving.
    let (reply, effects) = state.append_entries(append(2, (3, 2), &[], 0));
    assert!(reply.success && !effects.persist);
}

/// §5.3, Figure 2 (AppendEntries rule 3): "If an existing entry conflicts with a new one
/// (same index but different terms), delete the existing entry and all that follow it."
#[test]
fn append_deletes_a_conflicting_entry_and_all_that_follow_it_5_3() {
    let mut state = follower(0, 3, 3, &[1, 1, 2, 2, 2]);
    let (reply, effects) = state.append_entries(append(3, (2, 1), &[1, 3], 0));
    assert!(reply.success);
    assert_eq!(terms_of(&state), [1, 1, 1, 3]);
    assert!(effects.persist);
}

/// §5.3, Figure 2 (AppendEntries rule 3 deletes only on a conflict): a delayed or
/// duplicated AppendEntries carrying fewer entries must not cut off the matching entries
/// after them, which the follower has acknowledged and the leader may have counted.
#[test]
fn a_stale_shorter_append_keeps_the_matching_suffix_5_3() {
    let mut state = follower(0, 3, 1, &[]);
    let (reply, _) = state.append_entries(append(1, (0, 0), &[1, 1, 1, 1], 0));
    assert!(reply.success);
    let (reply, effects) = state.append_entries(append(1, (1, 1), &[1], 0));
    assert!(reply.success);
    assert_eq!(terms_of(&state), [1, 1, 1, 1]);
    assert!(!effects.persist, "nothing changed");
}

/// §5.3, Figure 2 (AppendEntries rule 5): "set commitIndex = min(leaderCommit, index of
/// last new entry)". Not the follower's last index: entries past what this AppendEntries
/// covered are not known to match the leader's.
#[test]
fn a_follower_commits_up_to_the_last_new_entry_at_most_5_3() {
    // Entries 3..=5 came from a leader of term 2 and were never committed; the leader of
    // term 3 has others there, so it says nothing about them yet.
    let mut state = follower(0, 3, 3, &[1, 1, 2, 2, 2]);
    let (reply, effects) = state.append_entries(append(3, (2, 1), &[], 4));
    assert!(reply.success);
    assert_eq!(state.commit_index, 2, "min(4, 2), not min(4, 5)");
    assert!(effects.wake_applier);

    let (_, effects) = state.append_entries(append(3, (2, 1), &[3], 4));
    assert_eq!(state.commit_index, 3);
    assert_eq!(terms_of(&state), [1, 1, 3]);
    assert!(effects.wake_applier);

    // A delayed AppendEntries with an older leaderCommit never moves it back.
    let (_, effects) = state.append_entries(append(3, (2, 1), &[3], 1));
    assert_eq!(state.commit_index, 3);
    assert!(!effects.wake_applier);
}

/// §5.2, Figure 2 (Rules for Followers): any AppendEntries from the current leader resets
/// the election timer, accepted or rejected by the consistency check.
#[test]
fn append_from_the_current_leader_resets_the_election_timer_5_2() {
    let mut state = follower(0, 3, 2, &[1]);
    let (_, effects) = state.append_entries(append(2, (1, 1), &[], 0));
    assert!(effects.reset_election_timer);
    let (reply, effects) = state.append_entries(append(2, (7, 2), &[], 0));
    assert!(!reply.success && effects.reset_election_timer);
}

// --- §5.3: log replication, leader side ---

/// §5.3, Figure 2 (Rules for Leaders): on a rejection the leader backs nextIndex up, with
/// the follower's hints skipping a whole term at once (end of §5.3): to just past its own
/// last entry of the conflicting term if it has one, else to the follower's first index
/// of it, or just past the follower's log. Never below matchIndex + 1, never past its own
/// log; and the follower's replicator is woken to retry.
#[test]
fn the_leader_backs_up_next_index_with_the_conflict_hints_5_3() {
    let terms = [1, 1, 2, 2, 4, 4];
    let args = append(5, (6, 4), &[], 0);
    let cases = [
        (
            Some(2),
            2,
            5,
            "the leader has term 2: just past its last entry of it",
        ),
        (
            Some(3),
            3,
            3,
            "the leader has no term 3: the follower's first index of it",
        ),
        (None, 2, 2, "the follower's log is short: just past it"),
        (None, 100, 7, "never past the leader's log"),
    ];
    for (conflict_term, conflict_index, next, case) in cases {
        let mut state = leader(3, 5, &terms);
        assert_eq!(next_index(&state, 1), 7);
        replicator_woken(&state, 1); // the first heartbeat's
        let _ = state.append_entries_reply(
            1,
            &args,
            0,
            Some(rejection(5, conflict_term, conflict_index)),
        );
        assert_eq!(next_index(&state, 1), next, "{case}");
        assert!(replicator_woken(&state, 1), "{case}");
    }

    // After a success up to index 4, a late rejection can't send nextIndex below 5.
    let mut state = leader(3, 5, &terms);
    let _ = state.append_entries_reply(1, &append(5, (3, 2), &[2], 0), 0, Some(success(5)));
    assert_eq!((match_index(&state, 1), next_index(&state, 1)), (4, 7));
    let _ = state.append_entries_reply(1, &args, 0, Some(rejection(5, None, 2)));
    assert_eq!(next_index(&state, 1), 5);
}

/// §5.3, Figure 2 (Rules for Leaders): "If successful: update nextIndex and matchIndex for
/// follower", to what that AppendEntries carried (not to the leader's log at reply time);
/// replies arriving out of order never move either back.
#[test]
fn the_leader_updates_match_index_to_what_the_append_carried_5_3() {
    let mut state = leader(3, 2, &[1, 1]);
    let long = append(2, (0, 0), &[1, 1], 0);
    let short = append(2, (0, 0), &[1], 0);
    let _ = state.start(vec![7]); // index 3, not in either message
    let _ = state.append_entries_reply(1, &long, 0, Some(success(2)));
    assert_eq!((match_index(&state, 1), next_index(&state, 1)), (2, 3));
    let _ = state.append_entries_reply(1, &short, 0, Some(success(2)));
    assert_eq!((match_index(&state, 1), next_index(&state, 1)), (2, 3));
}

/// §5.3 (and the lab's limit of ten heartbeats a second): a replicator sends new entries
/// at once when nothing is in flight to its follower, waits for the outcome otherwise,
/// and always sends when a heartbeat is due; a replicator of another term stops.
#[test]
fn a_replicator_sends_news_when_idle_and_heartbeats_when_due_5_3() {
    let mut state = leader(3, 2, &[1]);
    assert!(
        matches!(state.replicate(2, 1, false), Replicate::Wait),
        "nothing new"
    );
    let (index, _, _) = state.start(vec![1]).unwrap();
    let Replicate::Send(Message::Append(args), _) = state.replicate(2, 1, false) else {
        panic!("news for an idle follower goes out at once");
    };
    assert_eq!((args.prev_log_index, args.entries.len()), (index - 1, 1));
    let _ = state.start(vec![2]);
    assert!(
        matches!(state.replicate(2, 1, false), Replicate::Wait),
        "one in flight"
    );
    assert!(
        matches!(state.replicate(2, 1, true), Replicate::Send(..)),
        "heartbeat due"
    );
    assert!(
        matches!(state.replicate(1, 1, true), Replicate::Stop),
        "an old term"
    );
}

// --- §5.4.2: committing ---

/// §5.4.2, Figure 2 (Rules for Leaders, last rule): a leader commits an entry of its own
/// term once a majority stores it, counting itself.
#[test]
fn the_leader_commits_an_entry_of_its_term_once_a_majority_stores_it_5_4_2() {
    let mut state = leader(5, 2, &[1]);
    let (index, term, effects) = state.start(vec![1]).unwrap();
    assert_eq!((index, term), (2, 2));
    assert!(
        effects.persist,
        "the leader saves its new entry before sending it"
    );
    let args = append(2, (1, 1), &[2], 0);
    let effects = state.append_entries_reply(1, &args, 0, Some(success(2)));
    assert_eq!(state.commit_index, 0, "2 of 5");
    assert!(!effects.wake_applier);
    let effects = state.append_entries_reply(2, &args, 0, Some(success(2)));
    assert_eq!(state.commit_index, 2, "3 of 5");
    assert!(effects.wake_applier);
}

/// §5.4.2 and Figure 8: "Raft never commits log entries from previous terms by counting
/// replicas"; they commit only when an entry of the current term after them does.
#[test]
fn the_leader_never_commits_earlier_terms_by_counting_replicas_5_4_2() {
    let mut state = leader(5, 4, &[1, 2]);
    let old = append(4, (0, 0), &[1, 2], 0);
    let _ = state.append_entries_reply(1, &old, 0, Some(success(4)));
    let _ = state.append_entries_reply(2, &old, 0, Some(success(4)));
    assert_eq!(match_index(&state, 2), 2);
    assert_eq!(
        state.commit_index, 0,
        "index 2 (term 2) is on 3 of 5, yet not committed"
    );

    let _ = state.start(vec![4]);
    let new = append(4, (2, 2), &[4], 0);
    let _ = state.append_entries_reply(1, &new, 0, Some(success(4)));
    let effects = state.append_entries_reply(2, &new, 0, Some(success(4)));
    assert_eq!(
        state.commit_index, 3,
        "index 3 (term 4) commits, and 1 and 2 with it"
    );
    assert!(effects.wake_applier);
}

// --- §7 and Figure 13: log compaction ---

/// §7, Figure 13 (InstallSnapshot rule 6): "If existing log entry has same index and term
/// as snapshot's last included entry, retain log entries following it." The snapshot is
/// saved and handed to the applier.
#[test]
fn a_snapshot_of_a_prefix_keeps_the_matching_suffix_7() {
    let mut state = follower(0, 3, 2, &[1, 1, 2, 2]);
    let (reply, effects) = state.install_snapshot(install(2, 2, 1));
    assert_eq!(reply.term, 2);
    assert_eq!(
        (state.log.snapshot_index(), state.log.snapshot_term()),
        (2, 1)
    );
    assert_eq!(terms_of(&state), [2, 2]);
    assert_eq!(state.commit_index, 2);
    assert!(state.snapshot_to_apply && state.snapshot == [9; 4]);
    assert!(effects.persist && effects.wake_applier && effects.reset_election_timer);
}

/// §7, Figure 13 (InstallSnapshot rule 7): if the log has no entry matching the
/// snapshot's last included index and term, "discard the entire log".
#[test]
fn a_snapshot_with_a_conflicting_boundary_discards_the_whole_log_7() {
    let mut state = follower(0, 3, 3, &[1, 1, 2, 2]);
    let _ = state.install_snapshot(install(3, 3, 3));
    assert_eq!((state.log.snapshot_index(), state.log.last_index()), (3, 3));
    assert_eq!(state.log.last_term(), 3);
    assert!(terms_of(&state).is_empty());

    // Likewise a snapshot past the end of the log.
    let mut state = follower(0, 3, 3, &[1, 1]);
    let _ = state.install_snapshot(install(3, 10, 3));
    assert_eq!(
        (state.log.snapshot_index(), state.log.last_index()),
        (10, 10)
    );
    assert_eq!(state.commit_index, 10);
}

/// §7: a snapshot that is not ahead of the follower's commitIndex brings nothing the
/// follower lacks (and installing it could roll its service back): it is ignored, though
/// its sender is still heard as the leader.
#[test]
fn a_snapshot_not_ahead_of_commit_index_is_ignored_7() {
    let mut state = follower(0, 3, 2, &[]);
    let _ = state.append_entries(append(2, (0, 0), &[1, 1, 2], 3));
    assert_eq!(state.commit_index, 3);
    for index in [2, 3] {
        let (_, effects) = state.install_snapshot(install(2, index, 1));
        assert_eq!(state.log.snapshot_index(), 0);
        assert_eq!(terms_of(&state), [1, 1, 2]);
        assert!(!state.snapshot_to_apply);
        assert!(!effects.persist && !effects.wake_applier && effects.reset_election_timer);
    }
}

/// §7: the service's own snapshot replaces only entries already applied to it (the
/// snapshot is its state after them), and an older snapshot than the current one is
/// ignored. The log after the snapshot stays.
#[test]
fn the_service_snapshot_compacts_only_applied_entries_7() {
    let mut state = follower(0, 3, 1, &[]);
    let _ = state.append_entries(append(1, (0, 0), &[1, 1, 1, 1], 4));
    state.last_applied = 2;

    let effects = state.snapshot(3, vec![3]);
    assert_eq!(state.log.snapshot_index(), 0, "entry 3 is not applied yet");
    assert!(!effects.persist);

    let effects = state.snapshot(2, vec![2]);
    assert_eq!(state.log.snapshot_index(), 2);
    assert_eq!(state.log.last_index(), 4);
    assert_eq!(state.snapshot, [2]);
    assert!(effects.persist);

    state.last_applied = 4;
    let effects = state.snapshot(1, vec![1]);
    assert_eq!(
        (state.log.snapshot_index(), state.snapshot.as_slice()),
        (2, &[2][..])
    );
    assert!(!effects.persist);
}

/// §7 and Figure 2 (Rules for All Servers: apply `log[lastApplied]` in order): the applier
/// hands over an installed snapshot first, then the committed entries after it, each
/// index once, with no gap.
#[test]
fn the_applier_delivers_a_snapshot_then_the_entries_after_it_in_order_7() {
    let mut state = follower(0, 3, 2, &[1]);
    let _ = state.install_snapshot(install(2, 3, 1));
    let _ = state.append_entries(append(2, (3, 1), &[2, 2], 5));
    let delivered = state.take_ready();
    let indices: Vec<(&str, u64)> = delivered
        .iter()
        .map(|m| match m {
            ApplyMsg::Snapshot { index, .. } => ("snapshot", *index),
            ApplyMsg::Command { index, .. } => ("command", *index),
            ApplyMsg::Noop { index, .. } => ("no-op", *index),
            ApplyMsg::Configuration { index, .. } => ("configuration", *index),
            ApplyMsg::ReadReady { id } => ("read", *id),
        })
        .collect();
    assert_eq!(indices, [("snapshot", 3), ("command", 4), ("command", 5)]);
    assert_eq!(state.last_applied, 5);
    assert!(state.take_ready().is_empty(), "nothing twice");

    let _ = state.append_entries(append(2, (5, 2), &[2], 6));
    let delivered = state.take_ready();
    assert!(matches!(
        delivered[..],
        [ApplyMsg::Command {
            index: 6,
            term: 2,
            ..
        }]
    ));
}

/// §7: AppendEntries whose prevLogIndex is inside the follower's snapshot: the entries
/// the snapshot covers are committed, so they match; only those after it are used.
#[test]
fn append_over_a_snapshot_skips_the_entries_it_covers_7() {
    let mut state = follower(0, 3, 2, &[]);
    let _ = state.install_snapshot(install(2, 3, 1));
    let (reply, effects) = state.append_entries(append(2, (1, 1), &[1, 1, 2, 2], 0));
    assert!(reply.success && effects.persist);
    assert_eq!(state.log.snapshot_index(), 3);
    assert_eq!(terms_of(&state), [2, 2]);
}

/// §7: a leader whose next entry for a follower is already compacted sends its snapshot
/// instead; once the follower has it, nextIndex moves just past it.
#[test]
fn the_leader_sends_its_snapshot_to_a_follower_that_needs_compacted_entries_7() {
    let mut state = leader(3, 2, &[1, 1, 1]);
    state.commit_index = 3;
    state.last_applied = 3;
    let _ = state.snapshot(3, vec![3]);
    let _ = state.append_entries_reply(
        1,
        &append(2, (3, 1), &[], 0),
        0,
        Some(rejection(2, None, 1)),
    );
    let Replicate::Send(Message::Snapshot(args), _) = state.replicate(2, 1, true) else {
        panic!("expected a snapshot");
    };
    assert_eq!((args.last_included_index, args.last_included_term), (3, 1));
    assert_eq!(args.data, [3]);
    let _ = state.install_snapshot_reply(1, &args, 0, Some(InstallSnapshotReply { term: 2 }));
    assert_eq!((match_index(&state, 1), next_index(&state, 1)), (3, 4));
}

// --- Figure 2: persistent state ---

/// Figure 2, "Persistent state on all servers": currentTerm, votedFor and log[] (with its
/// snapshot boundary) read back as saved; nothing saved is a first boot.
#[test]
fn persistent_state_reads_back_as_saved_figure_2() {
    let mut state = follower(2, 3, 4, &[1, 1, 3, 4]);
    let _ = state.request_vote(&vote_request(4, 1, 9, 4));
    state.commit_index = 2;
    state.last_applied = 2;
    let _ = state.snapshot(2, vec![5]);
    let bytes = persist::encode(&state, 0);
    let back = State::new(2, 3, persist::decode(&bytes), state.snapshot.clone());
    assert_eq!((back.current_term(), back.voted_for), (4, Some(1)));
    assert_eq!(
        (back.log.snapshot_index(), back.log.snapshot_term()),
        (2, 1)
    );
    assert_eq!(terms_of(&back), [3, 4]);
    assert_eq!((back.commit_index, back.last_applied), (2, 2));
    assert!(is_follower(&back));

    let fresh = persist::decode(&[]);
    assert_eq!((fresh.current_term, fresh.voted_for), (0, None));
    assert_eq!(fresh.log.last_index(), 0);
}
