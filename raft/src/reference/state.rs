//! A server's state (Figure 2), and the transitions between roles.

use std::sync::Arc;
use std::time::Duration;

use labrpc::{ClientEnd, Instant};
use parking_lot::Mutex;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::log::Log;
use super::signal::Signal;
use crate::{ApplySender, Persister};

/// Leaders send a heartbeat to each follower this often when idle: at most ten a second,
/// as the tester requires.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(100);

/// Election timeouts are drawn from this range (in ms). Well above the heartbeat
/// interval, so followers of a live leader never time out; random, so that split votes
/// resolve quickly (§5.2); short enough to elect a new leader well within the tester's
/// five seconds.
pub(crate) const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 300..600;

/// What a server is doing in its current term.
pub(crate) enum Role {
    Follower,
    Candidate { votes: usize },
    Leader(LeaderState),
}

/// Volatile state on leaders, reinitialized after each election (Figure 2).
pub(crate) struct LeaderState {
    /// For each server, the index of the next log entry to send to it.
    pub(crate) next_index: Vec<u64>,
    /// For each server, the highest index known to be replicated on it.
    pub(crate) match_index: Vec<u64>,
    /// Wakes each follower's replicator task when there is something to send.
    pub(crate) wake: Vec<Arc<Signal>>,
    /// For each server, how many RPCs to it are awaiting their outcome.
    pub(crate) in_flight: Vec<u32>,
}

impl LeaderState {
    pub(crate) fn wake_all(&self) {
        for signal in &self.wake {
            signal.notify();
        }
    }
}

/// Everything one server knows, behind one lock.
pub(crate) struct State {
    // --- persistent on all servers, saved before answering any RPC ---
    /// Latest term this server has seen.
    pub(crate) current_term: u64,
    /// The candidate that received this server's vote in `current_term`, if any.
    pub(crate) voted_for: Option<usize>,
    /// The log, with its compacted prefix.
    pub(crate) log: Log,

    // --- volatile on all servers ---
    pub(crate) role: Role,
    /// Highest index known to be committed.
    pub(crate) commit_index: u64,
    /// Highest index handed to the service (through a command or a snapshot).
    pub(crate) last_applied: u64,
    /// When this server starts an election unless it hears from a leader first.
    pub(crate) election_deadline: Instant,
    /// The latest snapshot, covering the log up to `log.snapshot_index()`.
    pub(crate) snapshot: Vec<u8>,
    /// A snapshot received from a leader, not yet handed to the service.
    pub(crate) snapshot_to_apply: bool,
    /// Set by `kill`.
    pub(crate) dead: bool,
}

/// The persistent part of [`State`], as saved.
#[derive(Serialize, Deserialize)]
struct Persistent<L> {
    current_term: u64,
    voted_for: Option<usize>,
    log: L,
}

/// One Raft peer: who it is, how it reaches the others, where it saves its state, and
/// that state behind one lock. Every task of the server holds an `Arc<Peer>`.
pub(crate) struct Peer {
    pub(crate) me: usize,
    pub(crate) peers: Vec<ClientEnd>,
    pub(crate) persister: Persister,
    pub(crate) state: Mutex<State>,
    pub(crate) apply_tx: ApplySender,
    /// Wakes the applier when `commit_index` moves or a snapshot arrives.
    pub(crate) applier: Signal,
}

impl Peer {
    pub(crate) fn majority(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    /// Saves term, vote and log, and the snapshot with them: the persister replaces both
    /// at once, so the current snapshot goes along every time (the one restored after a
    /// restart included). Called before a reply or message reveals the change.
    pub(crate) fn persist(&self, state: &State) {
        self.persister
            .save(self.encode_persistent(state), state.snapshot.clone());
    }

    fn encode_persistent(&self, state: &State) -> Vec<u8> {
        // The state changes little between saves: start from a buffer the size of the
        // last one, so the encoder does not copy a growing log again and again.
        let buffer = Vec::with_capacity(self.persister.raft_state_size() + 1024);
        let persistent = Persistent {
            current_term: state.current_term,
            voted_for: state.voted_for,
            log: &state.log,
        };
        labrpc::codec::encode_into(&persistent, buffer).expect("Raft state always encodes")
    }

    /// Moves to `term` as a follower (any RPC with a higher term does this, §5.1).
    pub(crate) fn step_down(&self, state: &mut State, term: u64) {
        if term > state.current_term {
            state.current_term = term;
            state.voted_for = None;
            self.persist(state);
        }
        if let Role::Leader(leader) = &state.role {
            leader.wake_all(); // its replicators notice and stop
        }
        state.role = Role::Follower;
    }

    /// Tells the applier there may be something to deliver.
    pub(crate) fn wake_applier(&self) {
        self.applier.notify();
    }
}

/// Restores a server's state from what it saved before it crashed (fresh on first boot).
pub(crate) fn restore(persister: &Persister) -> State {
    let saved = persister.read_raft_state();
    let (current_term, voted_for, log) = if saved.is_empty() {
        (0, None, Log::default())
    } else {
        let p: Persistent<Log> = labrpc::codec::decode(&saved)
            .unwrap_or_else(|e| panic!("raft: cannot read the saved state: {e}"));
        (p.current_term, p.voted_for, p.log)
    };
    // Everything in the snapshot was committed and applied before it was taken; the
    // service restores it from the snapshot itself.
    let snapshot_index = log.snapshot_index();
    State {
        current_term,
        voted_for,
        log,
        role: Role::Follower,
        commit_index: snapshot_index,
        last_applied: snapshot_index,
        election_deadline: new_election_deadline(),
        snapshot: persister.read_snapshot(),
        snapshot_to_apply: false,
        dead: false,
    }
}

/// A fresh, randomized election deadline.
pub(crate) fn new_election_deadline() -> Instant {
    let ms = labrpc::rng().random_range(ELECTION_TIMEOUT_MS);
    labrpc::now() + Duration::from_millis(ms)
}
