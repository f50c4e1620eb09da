//! The I/O shell around the pure [`State`]: the lock, stable storage, the clock, the
//! network, and the server's tasks (election timer, replicators, applier).
//!
//! Each entry point takes the lock, calls one transition of `State`, and carries out the
//! [`Effects`] it returns before letting go of the lock. No lock is ever held across an
//! `.await` (the compiler enforces this: a `parking_lot` guard is not `Send`).

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::select;
use labrpc::{ClientEnd, Instant};
use parking_lot::{Mutex, MutexGuard};
use rand::RngExt;

use super::leader::{Message, Replicate};
use super::persist;
use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply, PreVoteArgs,
    RequestVoteArgs, RequestVoteReply, TimeoutNowArgs,
};
use super::signal::Signal;
use super::state::{ELECTION_TIMEOUT_MS, Effects, HEARTBEAT, Outgoing, Role, State};
use crate::{ApplySender, Persister};

/// One Raft server: how it reaches the others, where it saves its state, and that state
/// behind one lock. Every task of the server holds an `Arc<Peer>`.
pub(crate) struct Peer {
    pub(crate) peers: Vec<ClientEnd>,
    pub(crate) persister: Persister,
    pub(crate) state: Mutex<State>,
    pub(crate) apply_tx: ApplySender,
    /// Wakes the applier when `commit_index` moves or a snapshot arrives.
    pub(crate) applier: Signal,
}

impl Peer {
    /// Locks the state for a step taken now: the one way to the state, so that every
    /// transition sees the current virtual time (`State::now`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock();
        // Only the options' rules read the time: Figure 2's servers spare the clock.
        if state.options.pre_vote || state.options.check_quorum {
            state.now = labrpc::now();
        }
        state
    }

    /// Carries out what a transition of `state` asks for, in this order: save first, so
    /// that nothing sent or replied after can reveal a change not yet on stable storage
    /// (Figure 2: persistent state is "updated on stable storage before responding to
    /// RPCs"); then the timer, and only then wake or start the tasks that send.
    pub(crate) fn carry_out(self: &Arc<Self>, state: &mut State, effects: Effects) {
        let Effects {
            persist,
            reset_election_timer,
            wake_applier,
            start_replicators,
            send,
        } = effects;
        if persist {
            persist::save(&self.persister, state);
        }
        if reset_election_timer {
            state.election_deadline = new_election_deadline();
        }
        if wake_applier {
            self.applier.notify();
        }
        if start_replicators {
            self.start_replicators(state);
        }
        match send {
            None => {}
            Some(Outgoing::RequestVotes(args)) => self.request_votes(args),
            Some(Outgoing::PreVotes(PreVoteArgs(args))) => self.request_pre_votes(args),
            Some(Outgoing::TimeoutNow(to, args)) => self.send_timeout_now(to, args),
        }
    }

    /// The RequestVote handler.
    pub(crate) fn request_vote(self: &Arc<Self>, args: RequestVoteArgs) -> RequestVoteReply {
        let mut state = self.lock();
        let (reply, effects) = state.request_vote(&args);
        self.carry_out(&mut state, effects);
        reply
    }

    /// The PreVote handler.
    pub(crate) fn pre_vote(self: &Arc<Self>, args: PreVoteArgs) -> RequestVoteReply {
        self.lock().pre_vote(&args)
    }

    /// The TimeoutNow handler.
    pub(crate) fn timeout_now(
        self: &Arc<Self>,
        args: TimeoutNowArgs,
    ) -> super::rpc::TimeoutNowReply {
        let mut state = self.lock();
        let (reply, effects) = state.timeout_now(&args);
        self.carry_out(&mut state, effects);
        reply
    }

    /// The AppendEntries handler.
    pub(crate) fn append_entries(self: &Arc<Self>, args: AppendEntriesArgs) -> AppendEntriesReply {
        let mut state = self.lock();
        let (reply, effects) = state.append_entries(args);
        self.carry_out(&mut state, effects);
        reply
    }

    /// The InstallSnapshot handler.
    pub(crate) fn install_snapshot(
        self: &Arc<Self>,
        args: InstallSnapshotArgs,
    ) -> InstallSnapshotReply {
        let mut state = self.lock();
        let (reply, effects) = state.install_snapshot(args);
        self.carry_out(&mut state, effects);
        reply
    }

    /// The election timer: a follower or candidate that hears nothing from a leader until
    /// its deadline starts an election. Runs for the server's whole life.
    pub(crate) async fn run_election_timer(self: Arc<Self>) {
        loop {
            let deadline = {
                let mut state = self.lock();
                if state.dead {
                    return;
                }
                if state.election_deadline <= labrpc::now() {
                    let effects = state.election_timeout();
                    self.carry_out(&mut state, effects);
                }
                state.election_deadline
            };
            // The deadline may move later while we sleep (a heartbeat arrived); the loop
            // then just sleeps again until the new one.
            labrpc::sleep_until(deadline).await;
        }
    }

    /// Asks every other server for its vote, each in a task of its own.
    fn request_votes(self: &Arc<Self>, args: RequestVoteArgs) {
        for voter in (0..self.peers.len()).filter(|&p| p != args.candidate) {
            let call = self.peers[voter].call(&args);
            let candidate = self.clone();
            let term = args.term;
            labrpc::spawn(async move {
                if let Ok(reply) = call.await {
                    let mut state = candidate.lock();
                    let effects = state.request_vote_reply(term, voter, &reply);
                    candidate.carry_out(&mut state, effects);
                }
            });
        }
    }

    /// Asks every other server for its pre-vote, each in a task of its own.
    fn request_pre_votes(self: &Arc<Self>, args: RequestVoteArgs) {
        let sent_term = args.term - 1;
        let args = PreVoteArgs(args);
        for voter in (0..self.peers.len()).filter(|&p| p != args.0.candidate) {
            let call = self.peers[voter].call(&args);
            let candidate = self.clone();
            labrpc::spawn(async move {
                if let Ok(reply) = call.await {
                    let mut state = candidate.lock();
                    let effects = state.pre_vote_reply(sent_term, voter, &reply);
                    candidate.carry_out(&mut state, effects);
                }
            });
        }
    }

    /// Tells `to` to stand for election at once (a leadership transfer).
    fn send_timeout_now(self: &Arc<Self>, to: usize, args: TimeoutNowArgs) {
        let call = self.peers[to].call(&args);
        let leader = self.clone();
        labrpc::spawn(async move {
            if let Ok(reply) = call.await {
                let mut state = leader.lock();
                if reply.term > state.current_term() {
                    let effects = state.become_follower(reply.term);
                    leader.carry_out(&mut state, effects);
                }
            }
        });
    }

    /// Takes office: every follower gets its own replicator task for this term.
    fn start_replicators(self: &Arc<Self>, state: &State) {
        let Role::Leader(leader) = state.role() else {
            unreachable!("replicators start only with a leader");
        };
        for (follower, signal) in leader.wake.iter().enumerate() {
            if follower != state.me {
                let replicator =
                    self.clone()
                        .run_replicator(state.current_term(), follower, signal.clone());
                labrpc::spawn(replicator);
            }
        }
    }

    /// Keeps one follower up to date for as long as this server leads in `term` (see
    /// [`State::replicate`] for when it sends). Each RPC runs in its own task, so an
    /// unreachable follower (whose calls take seconds to fail) never holds up anything.
    async fn run_replicator(self: Arc<Self>, term: u64, follower: usize, wake: Arc<Signal>) {
        let mut next_heartbeat = labrpc::now();
        loop {
            select(pin!(wake.wait()), labrpc::sleep_until(next_heartbeat)).await;
            let heartbeat_due = labrpc::now() >= next_heartbeat;
            let step = self.lock().replicate(term, follower, heartbeat_due);
            let (message, round) = match step {
                Replicate::Stop => return,
                Replicate::Wait => continue,
                Replicate::Idle => {
                    next_heartbeat = labrpc::now() + HEARTBEAT;
                    continue;
                }
                Replicate::Send(message, round) => (message, round),
            };
            next_heartbeat = labrpc::now() + HEARTBEAT;
            let peer = self.clone();
            match message {
                Message::Append(args) => {
                    let call = self.peers[follower].call(&args);
                    labrpc::spawn(async move {
                        let reply = call.await.ok();
                        let mut state = peer.lock();
                        let effects = state.append_entries_reply(follower, &args, round, reply);
                        peer.carry_out(&mut state, effects);
                    });
                }
                Message::Snapshot(args) => {
                    let call = self.peers[follower].call(&args);
                    labrpc::spawn(async move {
                        let reply = call.await.ok();
                        let mut state = peer.lock();
                        let effects = state.install_snapshot_reply(follower, &args, round, reply);
                        peer.carry_out(&mut state, effects);
                    });
                }
            }
        }
    }

    /// The applier: delivers everything between `last_applied` and `commit_index`
    /// whenever woken.
    ///
    /// Messages are taken from the state under the lock, and sent after releasing it: the
    /// service may call back into Raft (`snapshot`) as it applies them.
    pub(crate) async fn run_applier(self: Arc<Self>) {
        loop {
            self.applier.wait().await;
            loop {
                let batch = {
                    let mut state = self.lock();
                    if state.dead {
                        return;
                    }
                    state.take_ready()
                };
                if batch.is_empty() {
                    break;
                }
                for msg in batch {
                    if self.apply_tx.unbounded_send(msg).is_err() {
                        return; // the service is gone
                    }
                }
            }
        }
    }
}

/// A fresh, randomized election deadline (§5.2).
pub(crate) fn new_election_deadline() -> Instant {
    let ms = labrpc::rng().random_range(ELECTION_TIMEOUT_MS);
    labrpc::now() + Duration::from_millis(ms)
}
