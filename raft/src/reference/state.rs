//! Figure 2, "State": what one server knows, the invariants that tie it together, and the
//! only three ways to change role (`become_follower`, `become_candidate`, `become_leader`).
//!
//! Everything here is pure: no clock, no random numbers, no I/O. A transition returns the
//! [`Effects`] it needs (save the persistent state, reset the election timer, ...), and
//! the peer ([`super::peer`]) carries them out. That is what lets the unit tests in
//! `paper_tests.rs` drive a server without a simulation.

use std::collections::VecDeque;
use std::ops::BitOrAssign;
use std::sync::Arc;
use std::time::Duration;

use labrpc::Instant;

use super::config::Configuration;
use super::log::{Entry, Log, Payload};
use super::persist::Saved;
use super::read_index::{Reads, ReadyReads};
use super::rpc::{PreVoteArgs, RequestVoteArgs, TimeoutNowArgs};
use super::signal::Signal;
use crate::Options;

/// Leaders send a heartbeat to each follower this often when idle: at most ten a second,
/// as the tester requires.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(100);

/// Election timeouts are drawn from this range (in ms). Well above the heartbeat
/// interval, so followers of a live leader never time out; random, so that split votes
/// resolve quickly (§5.2); short enough to elect a new leader well within the tester's
/// five seconds.
pub(crate) const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 300..600;

/// What a server is doing in its current term (§5.1, Figure 4).
pub(crate) enum Role {
    Follower,
    /// A follower whose election timer fired, asking for pre-votes before it stands
    /// (`Options::pre_vote`, dissertation §9.6): still a follower of its term in every
    /// other respect. `votes` counts pre-votes.
    PreCandidate(CandidateState),
    Candidate(CandidateState),
    Leader(LeaderState),
}

/// Volatile state on candidates: who has granted the vote so far.
pub(crate) struct CandidateState {
    /// `votes[i]`: server `i` voted for this candidate in its term. A set, not a count, so
    /// that a duplicated reply can never count twice.
    ///
    /// Invariant: `votes[me]` (a candidate votes for itself).
    pub(crate) votes: Vec<bool>,
}

/// A server being added, which the leader catches up before it counts (§4.2.1).
pub(crate) struct Learner {
    /// The server being added.
    pub(crate) server: usize,
    /// How many more of the leader's election timeouts it has to catch up.
    pub(crate) timeouts_left: u32,
}

/// A leadership transfer under way (§3.10).
pub(crate) struct Transfer {
    /// The server leadership goes to.
    pub(crate) to: usize,
    /// Whether TimeoutNow has been sent to it (once its log matched the leader's).
    pub(crate) timeout_now_sent: bool,
}

/// Volatile state on leaders, reinitialized after each election (Figure 2).
pub(crate) struct LeaderState {
    /// For each server, the index of the next log entry to send to it (initialized to the
    /// leader's last log index + 1).
    ///
    /// Invariant: for each follower `i`, `match_index[i] < next_index[i] ≤
    /// log.last_index() + 1`: never resend what the follower is known to hold, never
    /// point past the leader's log.
    pub(crate) next_index: Vec<u64>,
    /// For each server, the highest index known to be replicated on it (initialized to 0,
    /// increases monotonically within the term).
    ///
    /// Invariant: `match_index[me] == log.last_index()`: the leader's own copy counts
    /// toward a majority, and a leader never removes entries from its log (§5.3).
    pub(crate) match_index: Vec<u64>,
    /// Wakes each follower's replicator task when there is something to send. Notifying
    /// only sets a flag (and wakes the task if it waits), so the pure code may do it and
    /// the tests may look at it.
    pub(crate) wake: Vec<Arc<Signal>>,
    /// For each server, how many RPCs to it are awaiting their outcome. The replicator
    /// sends new entries only when none is, so a slow follower is not flooded.
    pub(crate) in_flight: Vec<u32>,
    /// CheckQuorum (`Options::check_quorum`, §6.2): `heard_from[i]` if server `i` replied
    /// in this term since the leader last checked that a majority hears it.
    pub(crate) heard_from: Vec<bool>,
    /// The leadership transfer under way, if any: the leader accepts no command meanwhile.
    pub(crate) transfer: Option<Transfer>,
    /// The server being added, if any (part 2F).
    pub(crate) learner: Option<Learner>,
    /// The heartbeat rounds and the reads that wait for them (part 3C).
    pub(crate) reads: Box<Reads>,
}

impl LeaderState {
    pub(crate) fn wake_all(&self) {
        for signal in &self.wake {
            signal.notify();
        }
    }
}

/// What the peer must do after a transition of [`State`], before it releases the lock.
///
/// The order is fixed by [`Peer::carry_out`](super::peer::Peer::carry_out): the state is
/// saved first, so that no reply or message can reveal a change that is not yet on stable
/// storage (Figure 2: "updated on stable storage before responding to RPCs").
#[must_use = "the peer must carry out a transition's effects"]
#[derive(Default, Debug)]
pub(crate) struct Effects {
    /// `current_term`, `voted_for` or the log changed: save them.
    pub(crate) persist: bool,
    /// Heard from the current leader, or granted a vote: draw a new election deadline.
    pub(crate) reset_election_timer: bool,
    /// `commit_index` moved, or a snapshot awaits delivery: wake the applier.
    pub(crate) wake_applier: bool,
    /// Became leader: start one replicator per follower for the current term.
    pub(crate) start_replicators: bool,
    /// Messages to send: a transition sends at most one kind.
    pub(crate) send: Option<Outgoing>,
}

/// The messages a transition asks the peer to send (besides what the replicators send).
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Became candidate: this RequestVote to every other server.
    RequestVotes(RequestVoteArgs),
    /// Became pre-candidate: this PreVote to every other server.
    PreVotes(PreVoteArgs),
    /// Hands leadership over: this TimeoutNow to that server.
    TimeoutNow(usize, TimeoutNowArgs),
}

impl BitOrAssign for Effects {
    fn bitor_assign(&mut self, later: Effects) {
        self.persist |= later.persist;
        self.reset_election_timer |= later.reset_election_timer;
        self.wake_applier |= later.wake_applier;
        self.start_replicators |= later.start_replicators;
        if later.send.is_some() {
            self.send = later.send;
        }
    }
}

/// Everything one server knows, behind one lock.
///
/// `current_term` and `role` are private to this module: every change of term goes
/// through [`State::become_follower`] or [`State::become_candidate`] (both through
/// `advance_term`), every change of role through the three `become_*` functions.
pub(crate) struct State {
    // --- Configuration, fixed for the server's life ---
    /// This server's index among the servers.
    pub(crate) me: usize,
    /// How many servers the cluster has (this one included).
    pub(crate) servers: usize,
    /// The extensions this server runs (part 2E).
    pub(crate) options: Options,
    /// The configuration in force before the log's first configuration entry: every
    /// server, or none for a server that joins a running cluster (`Options::joining`).
    initial_config: Configuration,
    /// The configuration this server uses (part 2F): the latest in its log, committed or
    /// not, else its snapshot's, else the initial one (§4.1). Kept by
    /// [`State::refresh_configuration`] whenever the log's configurations may change.
    config: Configuration,
    /// The index of the entry that holds `config` (0 for the initial configuration).
    config_index: u64,

    // --- Persistent state on all servers (Figure 2) ---
    // "Updated on stable storage before responding to RPCs": every change sets
    // `Effects::persist`, and the peer saves before it replies or sends (persist.rs).
    /// Latest term this server has seen (0 on first boot, increases monotonically).
    ///
    /// Invariant: `log.last_term() ≤ current_term`.
    current_term: u64,
    /// The candidate that received this server's vote in `current_term`, if any.
    ///
    /// Invariant: `voted_for` is `None` or a server of `current_term`'s election: it is
    /// cleared whenever the term moves. A candidate or leader has voted for itself.
    ///
    /// Set only by `advance_term` (cleared), `become_candidate` (itself) and the
    /// RequestVote receiver (a vote granted).
    pub(crate) voted_for: Option<usize>,
    /// The log entries, after the prefix compacted into the snapshot (§7).
    pub(crate) log: Log,

    // --- Volatile state on all servers ---
    /// Follower, candidate or leader, with the volatile state of candidates and leaders.
    /// Changed only by the three `become_*` functions.
    role: Role,
    /// Highest log entry known to be committed (initialized to the snapshot's last index,
    /// increases monotonically).
    ///
    /// Invariant: `log.snapshot_index() ≤ commit_index ≤ log.last_index()`: the
    /// snapshot holds only committed entries, and a server knows no commitment past its
    /// own log.
    pub(crate) commit_index: u64,
    /// Highest log entry handed to the service, by a command or a snapshot (initialized
    /// to the snapshot's last index, increases monotonically).
    ///
    /// Invariant: `last_applied ≤ commit_index`.
    pub(crate) last_applied: u64,
    /// The latest snapshot, covering the log up to `log.snapshot_index()`. Not part of
    /// Figure 2's state, but saved with it: the persister replaces both at once.
    pub(crate) snapshot: Vec<u8>,
    /// A snapshot received from a leader (Figure 13) that the applier has not yet handed
    /// to the service.
    ///
    /// Invariant: `last_applied < log.snapshot_index()` implies `snapshot_to_apply`.
    pub(crate) snapshot_to_apply: bool,
    /// When this server starts an election unless it hears from a leader first. Kept by
    /// the peer (it alone reads the clock): a transition asks for a new one with
    /// `Effects::reset_election_timer`.
    pub(crate) election_deadline: Instant,
    /// The virtual time of the step being taken, which the peer sets before each
    /// transition (it alone reads the clock) when Pre-Vote or CheckQuorum is on: only
    /// their rules read it.
    pub(crate) now: Instant,
    /// When this server last heard from the leader of its current term (an AppendEntries
    /// or InstallSnapshot it accepted), for leader stickiness and Pre-Vote.
    pub(crate) leader_contact: Option<Instant>,
    /// Set by `kill`: the server's tasks end, and it no longer claims to lead.
    pub(crate) dead: bool,
    /// The id the next read (part 3C) gets.
    pub(crate) next_read_id: u64,
    /// Reads whose leadership check passed, with their read index, in order: the applier
    /// delivers each once every entry up to its index has been delivered (part 3C).
    pub(crate) ready_reads: ReadyReads,
}

impl State {
    /// Server `me` of `servers`, as it restarts from what it saved (a first boot saved
    /// nothing: term 0, no vote, an empty log) and from its latest snapshot.
    pub(crate) fn new(me: usize, servers: usize, saved: Saved, snapshot: Vec<u8>) -> State {
        // Everything in the snapshot was committed and applied before it was taken; the
        // service restores it from the snapshot itself.
        let snapshot_index = saved.log.snapshot_index();
        let mut state = State {
            me,
            servers,
            current_term: saved.current_term,
            voted_for: saved.voted_for,
            log: saved.log,
            role: Role::Follower,
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            snapshot,
            snapshot_to_apply: false,
            election_deadline: Instant::START,
            now: Instant::START,
            leader_contact: None,
            options: Options::FIGURE_2,
            initial_config: Configuration::all(servers),
            config: Configuration::all(servers),
            config_index: 0,
            dead: false,
            next_read_id: 0,
            ready_reads: VecDeque::new(),
        };
        state.refresh_configuration();
        state.check_invariants();
        state
    }

    /// Sets the configuration in force before any in the log (a server that joins a
    /// running cluster starts with none).
    pub(crate) fn set_initial_configuration(&mut self, config: Configuration) {
        self.initial_config = config;
        self.refresh_configuration();
    }

    /// The configuration this server uses, and the index of the entry holding it.
    pub(crate) fn configuration(&self) -> (&Configuration, u64) {
        (&self.config, self.config_index)
    }

    /// Takes the latest configuration of the log (or the snapshot's, or the initial one):
    /// after entries were appended, cut off or compacted by a snapshot from the leader.
    pub(crate) fn refresh_configuration(&mut self) {
        let (index, config) = match self.log.latest_configuration() {
            Some((index, config)) => (index, config.clone()),
            None => (0, self.initial_config.clone()),
        };
        if config != self.config {
            labrpc::annotate(
                "config",
                format_args!(
                    "configuration {config} (index {index}{})",
                    if index <= self.commit_index {
                        ""
                    } else {
                        ", uncommitted"
                    }
                ),
            );
        }
        self.config = config;
        self.config_index = index;
    }

    /// Whether the servers for which `has` holds are a majority of the configuration in
    /// force (§4.1: a server counts only the members of its latest configuration).
    pub(crate) fn is_quorum(&self, has: impl Fn(usize) -> bool) -> bool {
        self.config.is_quorum(has)
    }

    /// Whether the (pre-)votes this (pre-)candidate has are a majority of its
    /// configuration: only the votes of its members count (§4.1).
    pub(crate) fn votes_are_quorum(&self) -> bool {
        match &self.role {
            Role::PreCandidate(c) | Role::Candidate(c) => self.config.is_quorum(|s| c.votes[s]),
            _ => false,
        }
    }

    /// The configuration in force at the snapshot's last index.
    pub(crate) fn configuration_at_snapshot(&self) -> Configuration {
        self.log
            .snapshot_configuration()
            .unwrap_or(&self.initial_config)
            .clone()
    }

    /// A leader's reads (part 3C), with the configuration that confirms them and the
    /// queue the confirmed ones go to, borrowed together.
    pub(crate) fn leader_reads(&mut self) -> Option<(&mut Reads, &Configuration, &mut ReadyReads)> {
        match &mut self.role {
            Role::Leader(leader) => Some((&mut leader.reads, &self.config, &mut self.ready_reads)),
            _ => None,
        }
    }

    /// Whether this server is a member of the configuration it uses.
    pub(crate) fn is_member(&self) -> bool {
        self.config.contains(self.me)
    }

    pub(crate) fn current_term(&self) -> u64 {
        self.current_term
    }

    pub(crate) fn role(&self) -> &Role {
        &self.role
    }

    /// The pre-candidate's state, if this server is asking for pre-votes.
    pub(crate) fn pre_candidate(&mut self) -> Option<&mut CandidateState> {
        match &mut self.role {
            Role::PreCandidate(pre) => Some(pre),
            _ => None,
        }
    }

    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// The leader's state, if this server leads in term `term`.
    pub(crate) fn leader_in(&mut self, term: u64) -> Option<&mut LeaderState> {
        match &mut self.role {
            Role::Leader(leader) if self.current_term == term => Some(leader),
            _ => None,
        }
    }

    /// The candidate's state, if this server is a candidate in term `term`.
    pub(crate) fn candidate_in(&mut self, term: u64) -> Option<&mut CandidateState> {
        match &mut self.role {
            Role::Candidate(candidate) if self.current_term == term => Some(candidate),
            _ => None,
        }
    }

    /// Whether this server heard from a live leader less than a minimum election timeout
    /// ago (a leader hears from itself): it then refuses pre-votes and, with CheckQuorum,
    /// votes (leader stickiness, §4.2.3; Pre-Vote, §9.6). A follower that times out has
    /// not heard from its leader for at least that long, so it grants them again.
    pub(crate) fn leader_is_live(&self) -> bool {
        if self.is_leader() {
            return true;
        }
        let min_timeout = Duration::from_millis(ELECTION_TIMEOUT_MS.start);
        self.leader_contact
            .is_some_and(|heard| self.now < heard + min_timeout)
    }

    /// The only assignment of `current_term`: a new term starts with no vote cast in it,
    /// and both must reach stable storage before anyone hears of the new term (Figure 2,
    /// Persistent state). Callers then set the role.
    fn advance_term(&mut self, term: u64) -> Effects {
        debug_assert!(term > self.current_term, "terms only increase");
        self.current_term = term;
        self.voted_for = None;
        self.leader_contact = None; // nobody has led this term yet, as far as we know
        Effects {
            persist: true,
            ..Effects::default()
        }
    }

    /// Becomes a follower in `term` (Figure 2, Rules for All Servers: "If RPC request or
    /// response contains term T > currentTerm: set currentTerm = T, convert to follower",
    /// §5.1). Also how a candidate or leader of `term` yields to that term's leader.
    pub(crate) fn become_follower(&mut self, term: u64) -> Effects {
        debug_assert!(term >= self.current_term, "never back to an older term");
        let mut effects = Effects::default();
        if term > self.current_term || !matches!(self.role, Role::Follower) {
            labrpc::annotate("role", format_args!("follower in term {term}"));
        }
        if term > self.current_term {
            effects |= self.advance_term(term);
        }
        if let Role::Leader(leader) = &self.role {
            leader.wake_all(); // its replicators notice they no longer lead, and stop
            // A leader's election timer ran on while it led, and may be about to fire: a
            // deposed leader that stood for election at once would depose the newer
            // leader it just learned of (its log is usually behind, so it cannot win
            // either), costing the cluster a whole election. Give the newer leader a full
            // timeout to be heard, as a follower gives the leader it hears from.
            effects.reset_election_timer = true;
        }
        self.role = Role::Follower;
        self.check_invariants();
        effects
    }

    /// Starts an election (Figure 2, Rules for Candidates, §5.2): increments
    /// `current_term`, votes for itself, and asks every other server for its vote. A
    /// cluster of one is its own majority and leads at once.
    pub(crate) fn become_candidate(&mut self) -> Effects {
        self.stand_for_election(false)
    }

    /// [`State::become_candidate`]; `leadership_transfer` if the leader handed leadership
    /// to this server (TimeoutNow), which voters then grant even though they heard from
    /// that leader a moment ago.
    pub(crate) fn stand_for_election(&mut self, leadership_transfer: bool) -> Effects {
        debug_assert!(!self.is_leader(), "a leader does not stand for election");
        let mut effects = self.advance_term(self.current_term + 1);
        // Saved with the new term (Figure 2: votedFor is persistent), before any
        // RequestVote goes out: the peer saves before it sends.
        self.voted_for = Some(self.me);
        let mut votes = vec![false; self.servers];
        votes[self.me] = true;
        self.role = Role::Candidate(CandidateState { votes });
        tracing::debug!(
            term = self.current_term,
            "election timeout: asking for votes"
        );
        let me = self.me;
        labrpc::annotate(
            "role",
            format_args!(
                "candidate in term {} (last log entry: index {}, term {})",
                self.current_term,
                self.log.last_index(),
                self.log.last_term()
            ),
        );
        if self.is_quorum(|s| s == me) {
            effects |= self.become_leader(); // a configuration of one
        } else {
            effects.send = Some(Outgoing::RequestVotes(RequestVoteArgs {
                term: self.current_term,
                candidate: self.me,
                last_log_index: self.log.last_index(),
                last_log_term: self.log.last_term(),
                leadership_transfer,
            }));
        }
        self.check_invariants();
        effects
    }

    /// Asks every other server whether it would vote for this one in the next term, before
    /// raising the term (Pre-Vote, §9.6). The term stays as it is: a server that cannot
    /// win (cut off, or behind) never raises its term, so it cannot depose anyone.
    pub(crate) fn become_pre_candidate(&mut self) -> Effects {
        debug_assert!(!self.is_leader(), "a leader does not stand for election");
        let me = self.me;
        if self.is_quorum(|s| s == me) {
            return self.become_candidate(); // a configuration of one needs no pre-votes
        }
        let mut votes = vec![false; self.servers];
        votes[self.me] = true;
        self.role = Role::PreCandidate(CandidateState { votes });
        labrpc::annotate(
            "role",
            format_args!(
                "pre-candidate in term {}: asking for pre-votes for term {}",
                self.current_term,
                self.current_term + 1
            ),
        );
        self.check_invariants();
        Effects {
            send: Some(Outgoing::PreVotes(PreVoteArgs(RequestVoteArgs {
                term: self.current_term + 1,
                candidate: self.me,
                last_log_index: self.log.last_index(),
                last_log_term: self.log.last_term(),
                leadership_transfer: false,
            }))),
            ..Effects::default()
        }
    }

    /// Takes office in the current term, which this server won (§5.2): `next_index` just
    /// past its own log, `match_index` 0 for everyone else, and the first heartbeat to
    /// every follower at once ("Upon election: send initial empty AppendEntries RPCs").
    pub(crate) fn become_leader(&mut self) -> Effects {
        debug_assert!(
            matches!(self.role, Role::Candidate(_)),
            "only candidates win"
        );
        let next = self.log.last_index() + 1;
        if self.options.noop_on_election {
            // The leader's no-op (§6.4, §8): an entry of its own term, so that the
            // entries of earlier terms commit with it (§5.4.2) without waiting for a
            // command. Sent with the first AppendEntries (next_index is before it).
            self.log.push(Entry {
                term: self.current_term,
                payload: Payload::Noop,
            });
        }
        let last = self.log.last_index();
        let wake: Vec<Arc<Signal>> = (0..self.servers)
            .map(|_| Arc::new(Signal::default()))
            .collect();
        for (server, signal) in wake.iter().enumerate() {
            if server != self.me {
                signal.notify();
            }
        }
        let mut match_index = vec![0; self.servers];
        match_index[self.me] = last;
        tracing::debug!(term = self.current_term, last_index = last, "became leader");
        labrpc::annotate(
            "role",
            format_args!(
                "leader in term {} (last log index {last})",
                self.current_term
            ),
        );
        self.role = Role::Leader(LeaderState {
            next_index: vec![next; self.servers],
            match_index,
            wake,
            in_flight: vec![0; self.servers],
            heard_from: vec![false; self.servers],
            transfer: None,
            learner: None,
            reads: Box::new(Reads::new(self.servers)),
        });
        let mut effects = Effects {
            start_replicators: true,
            // The no-op is persistent, as every entry (Figure 2).
            persist: self.options.noop_on_election,
            // CheckQuorum: the first check comes a whole election timeout after taking
            // office, time enough for every follower to answer a heartbeat.
            reset_election_timer: self.options.check_quorum,
            ..Effects::default()
        };
        effects |= self.advance_commit(); // a cluster of one commits its no-op at once
        self.check_invariants();
        effects
    }

    /// Checks the invariants stated on the fields (debug builds only). Cheap: linear in
    /// the number of servers, never in the log's length.
    pub(crate) fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let log = &self.log;
        assert!(
            log.last_term() <= self.current_term,
            "log ahead of the term"
        );
        assert!(
            log.snapshot_index() <= self.commit_index && self.commit_index <= log.last_index(),
            "commit_index {} outside the log [{}, {}]",
            self.commit_index,
            log.snapshot_index(),
            log.last_index()
        );
        assert!(
            self.last_applied <= self.commit_index,
            "applied uncommitted"
        );
        assert!(
            self.snapshot_to_apply || log.snapshot_index() <= self.last_applied,
            "compacted entries that were never applied"
        );
        match &self.role {
            Role::Follower => {}
            Role::PreCandidate(candidate) => {
                assert!(
                    candidate.votes[self.me],
                    "a pre-candidate counts its own vote"
                );
            }
            Role::Candidate(candidate) => {
                assert_eq!(
                    self.voted_for,
                    Some(self.me),
                    "a candidate votes for itself"
                );
                assert!(candidate.votes[self.me], "a candidate counts its own vote");
            }
            Role::Leader(leader) => {
                assert_eq!(self.voted_for, Some(self.me), "a leader voted for itself");
                assert_eq!(leader.match_index[self.me], log.last_index());
                for follower in (0..self.servers).filter(|&s| s != self.me) {
                    let (matched, next) =
                        (leader.match_index[follower], leader.next_index[follower]);
                    assert!(
                        matched < next && next <= log.last_index() + 1,
                        "follower {follower}: match_index {matched}, next_index {next}, last index {}",
                        log.last_index()
                    );
                }
            }
        }
    }
}
