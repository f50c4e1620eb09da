//! The reference implementation of Raft, written to be read beside Figure 2 of the
//! extended Raft paper.
//!
//! It follows Figure 2 closely, plus log compaction (§7, Figure 13) and the fast log
//! backup sketched at the end of §5.3. Comments quote the figure's rules where the code
//! carries them out.
//!
//! # Where each part of Figure 2 is
//!
//! | Figure 2 (and 13) | file |
//! | --- | --- |
//! | State: the fields, their invariants, role changes | `state.rs` |
//! | State: "Persistent state on all servers", saving and restoring it | `persist.rs` |
//! | State: `log[]` (with its snapshot prefix) | `log.rs` |
//! | The RPCs' arguments and results | `rpc.rs` |
//! | RequestVote RPC, and the election rules for followers and candidates | `election.rs` |
//! | AppendEntries RPC, receiver implementation | `append_entries.rs` |
//! | Rules for Servers: Leaders | `leader.rs` |
//! | InstallSnapshot RPC (Figure 13), and the service's snapshots | `snapshot.rs` |
//! | Rules for All Servers: apply what is committed | `applier.rs` |
//!
//! # A pure core and an I/O shell
//!
//! Everything above is pure: methods of [`State`](state::State) that take an RPC's
//! arguments (or a reply, or a timeout) and return the reply and the
//! [`Effects`](state::Effects) the step needs: save the persistent state, reset the
//! election timer, wake the applier, start the replicators, send RequestVotes. They never
//! read the clock, draw random numbers or touch the network, so `paper_tests.rs` drives
//! them directly, without a simulation, one test per rule of the paper.
//!
//! The shell, `peer.rs`, does the rest: each server is a set of tasks on its node sharing
//! one `State` behind one lock, and each entry point takes the lock, calls one transition
//! and carries out its effects (saving first) before letting go:
//!
//! - the **election timer** starts an election when a follower hears nothing from a
//!   leader for a randomized timeout;
//! - a leader runs one **replicator** per follower, which sends AppendEntries (or
//!   InstallSnapshot) whenever there is news, and heartbeats otherwise;
//! - the **applier** hands committed entries to the service in order;
//! - the RPC handlers, run as tasks by the network, reply only after saving what they
//!   changed.
//!
//! `signal.rs` is the wake-up flag between those tasks.

mod append_entries;
mod applier;
mod config;
mod election;
mod leader;
mod log;
mod membership;
mod peer;
mod persist;
mod read_index;
mod rpc;
mod signal;
mod snapshot;
mod state;

#[cfg(test)]
mod paper_tests;

use std::sync::Arc;

use labrpc::{ClientEnd, Service};

use self::peer::Peer;
use self::rpc::{
    AppendEntriesArgs, InstallSnapshotArgs, PreVoteArgs, RequestVoteArgs, TimeoutNowArgs,
};
use self::state::Role;
use crate::{ApplySender, Options, Persister};

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
        Raft::with_options(peers, me, persister, apply_tx, Options::FIGURE_2)
    }

    /// [`Raft::new`], running the extensions `options` turns on (part 2E).
    pub fn with_options(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        apply_tx: ApplySender,
        options: Options,
    ) -> Raft {
        assert!(
            me < peers.len(),
            "raft: me = {me} but only {} peers",
            peers.len()
        );
        let mut state = persist::restore(&persister, me, peers.len());
        state.options = options;
        if options.joining {
            state.set_initial_configuration(config::Configuration::default());
        }
        state.now = labrpc::now();
        state.election_deadline = peer::new_election_deadline();
        let peer = Arc::new(Peer {
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
        let mut state = self.peer.lock();
        if state.dead {
            return None;
        }
        let (index, term, effects) = state.start(command)?;
        self.peer.carry_out(&mut state, effects);
        Some((index, term))
    }

    /// Hands leadership to server `to` (part 2E, dissertation §3.10): this server, if it
    /// leads, stops accepting commands, brings `to`'s log up to date and tells it to stand
    /// for election at once, which it then wins. Returns whether the transfer started
    /// (only a live leader transfers, and only to another server of the cluster); a
    /// transfer replaces one under way. If `to` does not lead within an election timeout,
    /// the transfer is abandoned and this server accepts commands again.
    pub fn transfer_leadership(&self, to: usize) -> bool {
        let mut state = self.peer.lock();
        if state.dead {
            return false;
        }
        let Some(effects) = state.transfer_leadership(to) else {
            return false;
        };
        self.peer.carry_out(&mut state, effects);
        true
    }

    /// Starts adding server `server` to the cluster (part 2F, dissertation §4.2.1): this
    /// server, if it leads, first brings `server`'s log up to date while it neither votes
    /// nor counts, then appends the configuration with it; the change is done when that
    /// entry commits (`ApplyMsg::Configuration`). Returns whether the change started:
    /// `false` if this server does not lead, another change is under way (one at a time),
    /// nothing of its own term has committed yet, a leadership transfer is under way, or
    /// `server` is already a member (or no server of the cluster). A server that does not
    /// catch up within ten election timeouts is not added.
    pub fn add_server(&self, server: usize) -> bool {
        self.change_membership(|state| state.add_server(server))
    }

    /// Removes server `server` from the cluster (part 2F, dissertation §4.2): this server,
    /// if it leads, appends the configuration without it, in force at once; the change is
    /// done when that entry commits. A leader that removes itself steps down then.
    /// Returns whether the change started: `false` for the same reasons as
    /// [`Raft::add_server`], or if `server` is not a member, or the last one.
    pub fn remove_server(&self, server: usize) -> bool {
        self.change_membership(|state| state.remove_server(server))
    }

    fn change_membership(
        &self,
        change: impl FnOnce(&mut state::State) -> Option<state::Effects>,
    ) -> bool {
        let mut state = self.peer.lock();
        if state.dead {
            return false;
        }
        let Some(effects) = change(&mut state) else {
            return false;
        };
        self.peer.carry_out(&mut state, effects);
        true
    }

    /// Starts a read-only query (part 3C, dissertation §6.4, ReadIndex), without writing
    /// the log: this server, if it leads, notes its commit index (once an entry of its term
    /// has committed: with `Options::noop_on_election`, a round trip after its election),
    /// confirms with a round of heartbeats that a majority still follows it, and then
    /// sends `ApplyMsg::ReadReady { id }` on the apply channel after every entry up to
    /// that commit index. Returns the read's `id` and this leader's term, or `None` if
    /// this server does not lead. If it loses its term first, the read never becomes
    /// ready.
    pub fn read_index(&self) -> Option<(u64, u64)> {
        let mut state = self.peer.lock();
        if state.dead {
            return None;
        }
        let (id, term, effects) = state.read_index()?;
        self.peer.carry_out(&mut state, effects);
        Some((id, term))
    }

    /// The configuration this server uses (part 2F): the servers of the latest
    /// configuration in its log, committed or not (dissertation §4.1).
    pub fn members(&self) -> Vec<usize> {
        self.peer.lock().configuration().0.members().to_vec()
    }

    /// The current term, and whether this server believes it is the leader.
    pub fn state(&self) -> (u64, bool) {
        let state = self.peer.lock();
        (state.current_term(), state.is_leader() && !state.dead)
    }

    /// The service has made `snapshot`, covering every entry up to and including `index`:
    /// discard them from the log (§7) and persist the snapshot with the state.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let mut state = self.peer.lock();
        let effects = state.snapshot(index, snapshot);
        self.peer.carry_out(&mut state, effects);
    }

    /// Stops the server: its background tasks end, and `start` and `state` say it is not
    /// the leader. (Its handlers still answer; the tester takes a crashed server off the
    /// network first.)
    pub fn kill(&self) {
        let mut state = self.peer.lock();
        state.dead = true;
        if let Role::Leader(leader) = state.role() {
            leader.wake_all();
        }
        drop(state);
        self.peer.applier.notify();
    }

    /// The RPC handlers (`Raft.RequestVote`, `Raft.AppendEntries`,
    /// `Raft.InstallSnapshot`, and part 2E's `Raft.PreVote` and `Raft.TimeoutNow`), to add
    /// to this server's `labrpc::Server`.
    pub fn service(&self) -> Service {
        let (votes, appends, snapshots) = (self.peer.clone(), self.peer.clone(), self.peer.clone());
        let (pre_votes, timeouts) = (self.peer.clone(), self.peer.clone());
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
            .method(move |args: PreVoteArgs| {
                let reply = pre_votes.pre_vote(args);
                async move { reply }
            })
            .method(move |args: TimeoutNowArgs| {
                let reply = timeouts.timeout_now(args);
                async move { reply }
            })
    }
}
