//! The replicated state machine layer: operations go into Raft's log, come back out
//! committed, in order, on every server, and are applied to the service's state machine.
//! The server that submitted an operation hands its result back to the caller waiting in
//! [`Rsm::submit`].

use std::sync::Arc;

use futures::StreamExt;
use labrpc::ClientEnd;
use parking_lot::Mutex;
use raft::{ApplyMsg, ApplyReceiver, Persister, Raft};

use crate::{StateMachine, SubmitError};

/// One server's replicated state machine: its Raft, and the state machine `S` that Raft's
/// committed entries are applied to. Cloning gives another handle to the same server.
pub struct Rsm<S: StateMachine> {
    raft: Raft,
    /// Where Raft saves its state; its size says when to snapshot (3B).
    persister: Persister,
    /// Snapshot once the saved Raft state reaches this many bytes; never if `None` (3B).
    maxraftstate: Option<usize>,
    /// Everything that changes, behind one lock.
    state: Arc<Mutex<State<S>>>,
}

// `#[derive(Clone)]` would require `S: Clone`; cloning a handle needs no such thing.
impl<S: StateMachine> Clone for Rsm<S> {
    fn clone(&self) -> Self {
        Rsm {
            raft: self.raft.clone(),
            persister: self.persister.clone(),
            maxraftstate: self.maxraftstate,
            state: self.state.clone(),
        }
    }
}

/// What the submitters and the reader share.
struct State<S> {
    /// The service's state machine: apply committed operations to it, in log order.
    #[expect(
        dead_code,
        reason = "apply committed operations to it in the reader; then delete this attribute"
    )]
    machine: S,
    // Your data here.
    // You will want the index of the last operation applied, and a way to wake the
    // `submit` waiting for a given index: e.g. a map from index to the sending half of a
    // `futures::channel::oneshot` channel, with the term `start` returned.
}

impl<S: StateMachine> Rsm<S> {
    /// Starts server `me` of the cluster reached through `servers`: its Raft, restored
    /// from `persister`, and the state machine `machine`, restored from the latest
    /// snapshot in `persister` if there is one (3B). Returns at once; the server's work
    /// runs in tasks it spawns.
    ///
    /// With `maxraftstate = Some(n)`, snapshot the state machine whenever the Raft state
    /// saved in `persister` reaches `n` bytes, so that Raft can trim its log (3B).
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        machine: S,
    ) -> Rsm<S> {
        Rsm::with_options(
            servers,
            me,
            persister,
            maxraftstate,
            machine,
            raft::Options::FIGURE_2,
        )
    }

    /// [`Rsm::new`], with the Raft started by `Raft::with_options(.., options)` (part 3C,
    /// docs/lab-extensions.md).
    pub fn with_options(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        machine: S,
        options: raft::Options,
    ) -> Rsm<S> {
        let (apply_tx, apply_rx) = raft::apply_channel();
        let raft = Raft::with_options(servers, me, persister.clone(), apply_tx, options);
        let rsm = Rsm {
            raft,
            persister,
            maxraftstate,
            state: Arc::new(Mutex::new(State { machine })),
        };
        // Your code here (3B): restore the state machine from the latest snapshot.

        labrpc::spawn(rsm.clone().run_reader(apply_rx));
        rsm
    }

    /// This server's Raft (the tester registers its RPC service and asks its state).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// Submits `op` and waits until it is applied; returns what applying it gave.
    ///
    /// Return the result only if the entry Raft committed at the index it gave `op` is
    /// `op` itself. Fail with [`SubmitError::WrongLeader`] at once if Raft refuses `op`
    /// (not the leader); with [`SubmitError::LostLeadership`] as soon as this server is no
    /// longer the leader of the term it started `op` in, or another entry is committed at
    /// `op`'s index; with [`SubmitError::Shutdown`] once the server is killed. Never wait
    /// forever: a leader that lost its term may never see its index committed.
    pub async fn submit(&self, _op: S::Op) -> Result<S::Output, SubmitError> {
        // Your code here.
        // Encode the operation (`labrpc::codec::encode(&op)`), hand it to
        // `self.raft.start(...)`, and wait for the reader to tell you what happened at that
        // index. By Raft's Log Matching property, an entry is identified by its index and
        // its term.
        Err(SubmitError::WrongLeader)
    }

    /// Runs the read-only `query` on the state machine without writing the log (part 3C;
    /// dissertation §6.4): ask Raft for a read (`self.raft.read_index()`), wait for its
    /// `ApplyMsg::ReadReady` in the reader, then run `query` on the state machine. Fail as
    /// [`Rsm::submit`] does: at once if Raft refuses (not the leader), as soon as this
    /// server no longer leads the term the read started in, or once it is killed.
    pub async fn read<R>(&self, _query: impl FnOnce(&S) -> R) -> Result<R, SubmitError> {
        // Your code here (3C).
        Err(SubmitError::WrongLeader)
    }

    /// Stops the server: its Raft, and every pending [`submit`](Rsm::submit), which must
    /// return [`SubmitError::Shutdown`] promptly.
    pub fn kill(&self) {
        self.raft.kill();
        // Your code here, if desired.
    }

    /// Reads Raft's apply channel until the server dies, applying each committed operation
    /// to the state machine in order, waking the `submit` waiting for it, installing the
    /// snapshots Raft hands up, and snapshotting when Raft's saved state grows too big
    /// (3B).
    async fn run_reader(self, mut apply_rx: ApplyReceiver) {
        while let Some(msg) = apply_rx.next().await {
            match msg {
                ApplyMsg::Command { .. } => {
                    // Your code here: decode the operation (`labrpc::codec::decode`),
                    // apply it, and wake its submitter if it is waiting on this server.
                }
                ApplyMsg::Noop { .. } | ApplyMsg::Configuration { .. } => {
                    // Only with part 2E's `Options::noop_on_election` or part 2F's
                    // membership changes, which the 3A/3B tests do not use: nothing to
                    // apply, but the index is taken (the operation submitted there, if
                    // any, lost its place).
                }
                ApplyMsg::Snapshot { .. } => {
                    // Your code here (3B).
                }
                ApplyMsg::ReadReady { .. } => {
                    // Only for part 3C's reads (`Raft::read_index`), which the 3A/3B
                    // servers do not make.
                }
            }
        }
    }
}
