//! The reference implementation of Raft, written to be read.
//!
//! It follows Figure 2 of the extended Raft paper closely, plus log compaction (§7) and
//! the fast log backup sketched at the end of §5.3. Each server is a set of tasks on its
//! node, sharing one [`State`](state::State) behind one lock:
//!
//! - the **election timer** ([`election`]) starts an election when a follower hears
//!   nothing from a leader for a randomized timeout;
//! - a leader runs one **replicator** per follower ([`replication`]), which sends
//!   AppendEntries (or InstallSnapshot) whenever there is news, and heartbeats otherwise;
//! - the **applier** ([`applier`]) hands committed entries to the service in order.
//!
//! RPC handlers run as tasks spawned by the network; every one of them persists what it
//! changed before it replies. No lock is ever held across an `.await` (the compiler
//! enforces this: a `parking_lot` guard is not `Send`).

mod applier;
mod election;
mod log;
mod replication;
mod rpc;
mod signal;
mod state;

use std::sync::Arc;

use labrpc::{ClientEnd, Service};

use self::log::Entry;
use self::rpc::{AppendEntriesArgs, InstallSnapshotArgs, RequestVoteArgs};
use self::state::{Peer, Role};
use crate::{ApplySender, Persister};

/// One Raft server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct Raft {
    peer: Arc<Peer>,
}

impl Raft {
    /// Creates server `me` of the cluster reached through `peers` (`peers[me]` is this
    /// server's own end), restoring whatever it persisted before a crash. Committed
    /// commands will be sent on `apply_tx`. Returns at once; the server's work runs in
    /// tasks spawned on the current node.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        apply_tx: ApplySender,
    ) -> Raft {
        assert!(
            me < peers.len(),
            "raft: me = {me} but only {} peers",
            peers.len()
        );
        let state = state::restore(&persister);
        let peer = Arc::new(Peer {
            me,
            peers,
            persister,
            state: parking_lot::Mutex::new(state),
            apply_tx,
            applier: Default::default(),
        });
        labrpc::spawn(peer.clone().run_election_timer());
        labrpc::spawn(peer.clone().run_applier());
        Raft { peer }
    }

    /// Appends `command` to the log if this server is the leader, returning the index it
    /// will have if it is ever committed, and the current term. Returns `None` at once
    /// otherwise; never waits for agreement.
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        let mut state = self.peer.state.lock();
        if state.dead {
            return None;
        }
        let term = state.current_term;
        let state = &mut *state;
        let Role::Leader(leader) = &mut state.role else {
            return None;
        };
        let index = state.log.push(Entry { term, command });
        leader.match_index[self.peer.me] = index;
        leader.wake_all();
        self.peer.persist(state);
        if self.peer.peers.len() == 1 {
            // A cluster of one commits on its own.
            state.commit_index = index;
            self.peer.wake_applier();
        }
        Some((index, term))
    }

    /// The current term, and whether this server believes it is the leader.
    pub fn state(&self) -> (u64, bool) {
        let state = self.peer.state.lock();
        (
            state.current_term,
            matches!(state.role, Role::Leader(_)) && !state.dead,
        )
    }

    /// The service has made `snapshot`, covering every entry up to and including `index`:
    /// discard them from the log (§7) and persist the snapshot with the state.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let mut state = self.peer.state.lock();
        if index <= state.log.snapshot_index() || index > state.last_applied {
            return; // stale, or not yet applied: nothing to compact
        }
        let term = state
            .log
            .term_at(index)
            .expect("applied entries are in the log");
        state.log.compact_to(index, term);
        state.snapshot = snapshot;
        self.peer.persist(&state);
    }

    /// Stops the server: its background tasks end, and `start` and `state` say it is not
    /// the leader. (Its handlers still answer; the tester takes a crashed server off the
    /// network first.)
    pub fn kill(&self) {
        let mut state = self.peer.state.lock();
        state.dead = true;
        if let Role::Leader(leader) = &state.role {
            leader.wake_all();
        }
        drop(state);
        self.peer.wake_applier();
    }

    /// The RPC handlers (`Raft.RequestVote`, `Raft.AppendEntries`,
    /// `Raft.InstallSnapshot`), to add to this server's `labrpc::Server`.
    pub fn service(&self) -> Service {
        let (votes, appends, snapshots) = (self.peer.clone(), self.peer.clone(), self.peer.clone());
        Service::new("Raft")
            .method(move |args: RequestVoteArgs| {
                let reply = votes.request_vote(args);
                async move { reply }
            })
            .method(move |args: AppendEntriesArgs| {
                let reply = appends.append_entries(args);
                async move { reply }
            })
            .method(move |args: InstallSnapshotArgs| {
                let reply = snapshots.install_snapshot(args);
                async move { reply }
            })
    }
}
