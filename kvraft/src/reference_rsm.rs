//! The replicated state machine layer: operations go into Raft's log, come back out
//! committed, in order, on every server, and are applied to the service's state machine;
//! the server that submitted an operation hands its result back to the waiting caller.
//!
//! The reference rsm, alone: the `rsm-reference` feature exports it (the `reference`
//! feature brings it with the reference key/value service). A handout for Lab 4 may have
//! it without the key/value service (`grader handout --rsm-reference`), so that students
//! can build their sharded KV on it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::oneshot;
use labrpc::ClientEnd;
use parking_lot::Mutex;
use raft::{ApplyMsg, ApplyReceiver, Persister, Raft};
use serde::{Deserialize, Serialize};

use crate::{StateMachine, SubmitError};

/// How often a waiting [`Rsm::submit`] asks Raft whether this server still leads in the
/// term it submitted in. A leader that lost its term may never see its entry's index
/// committed (the new leader's log can be shorter), so waiting for the index alone could
/// wait forever.
const LEADERSHIP_CHECK: Duration = Duration::from_millis(100);

/// One server's replicated state machine: its Raft, and the state machine `S` fed by
/// Raft's committed entries. Cloning gives another handle to the same server.
pub struct Rsm<S: StateMachine> {
    inner: Arc<Inner<S>>,
}

impl<S: StateMachine> Clone for Rsm<S> {
    fn clone(&self) -> Self {
        Rsm {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<S: StateMachine> {
    raft: Raft,
    persister: Persister,
    /// Snapshot once the saved Raft state reaches this many bytes; never if `None`.
    maxraftstate: Option<usize>,
    shared: Mutex<Shared<S>>,
}

/// What the submitters and the reader share, behind one lock.
struct Shared<S: StateMachine> {
    machine: S,
    /// The last log index applied to `machine`.
    /// Invariant: `machine` holds the effect of every entry up to `last_applied`, in order,
    /// and of none after it.
    last_applied: u64,
    /// The callers waiting for an operation this server started, by the index Raft gave it.
    /// Invariant: every key is above `last_applied` (a waiter is answered, or failed, as
    /// soon as its index is applied or skipped by a snapshot).
    waiters: BTreeMap<u64, Waiter<S::Output>>,
    /// The callers of [`Rsm::read`] waiting for their read to be ready, by its id (part
    /// 3C).
    readers: BTreeMap<u64, oneshot::Sender<()>>,
    /// Set by [`Rsm::kill`].
    dead: bool,
}

/// A caller waiting for the entry it started at some index.
struct Waiter<O> {
    /// The term Raft gave the entry. By Raft's Log Matching property an entry is identified
    /// by its index and term: if the entry committed at the index has this term, it is this
    /// caller's; otherwise another leader's entry replaced it.
    term: u64,
    reply: oneshot::Sender<Result<O, SubmitError>>,
}

/// The snapshot the rsm hands Raft: the state machine's own encoding, and the last index it
/// covers (so that a restarted server knows where its state machine stands).
#[derive(Serialize, Deserialize)]
struct Snapshot {
    index: u64,
    #[serde(with = "serde_bytes")]
    machine: Vec<u8>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts server `me` of the cluster reached through `servers`: its Raft (restored
    /// from `persister`) and the state machine `machine`, restored from the latest snapshot
    /// if there is one. Returns at once; the server's work runs in tasks it spawns.
    ///
    /// With `maxraftstate = Some(n)`, the server snapshots its state machine whenever the
    /// Raft state it has saved reaches `n` bytes, so that Raft can discard its log.
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

    /// [`Rsm::new`], with a Raft started by `Raft::with_options(.., options)` (parts
    /// 2E–3C).
    pub fn with_options(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        mut machine: S,
        options: raft::Options,
    ) -> Rsm<S> {
        let mut last_applied = 0;
        let saved = persister.read_snapshot();
        if !saved.is_empty() {
            let snapshot = decode_snapshot(&saved);
            machine.restore(&snapshot.machine);
            last_applied = snapshot.index;
        }
        let (apply_tx, apply_rx) = raft::apply_channel();
        let raft = Raft::with_options(servers, me, persister.clone(), apply_tx, options);
        let rsm = Rsm {
            inner: Arc::new(Inner {
                raft,
                persister,
                maxraftstate,
                shared: Mutex::new(Shared {
                    machine,
                    last_applied,
                    waiters: BTreeMap::new(),
                    readers: BTreeMap::new(),
                    dead: false,
                }),
            }),
        };
        labrpc::spawn(rsm.clone().run_reader(apply_rx));
        rsm
    }

    /// This server's Raft (for its RPC service, and for `state()`).
    pub fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    /// Submits `op` and waits until it is applied, returning its result.
    ///
    /// Returns the result only if `op` itself was committed at the index Raft gave it: an
    /// error otherwise ([`SubmitError`]), as soon as this server is not or no longer the
    /// leader of the term it started `op` in, or is killed. Dropping the future stops
    /// waiting (the operation may still be applied).
    pub async fn submit(&self, op: S::Op) -> Result<S::Output, SubmitError> {
        let command = labrpc::codec::encode(&op).expect("rsm: operations encode");
        let (reply, mut result) = oneshot::channel();
        let (index, term) = {
            let mut shared = self.inner.shared.lock();
            if shared.dead {
                return Err(SubmitError::Shutdown);
            }
            // Under the lock, so the reader cannot apply the index before the waiter is in.
            let (index, term) = self
                .inner
                .raft
                .start(command)
                .ok_or(SubmitError::WrongLeader)?;
            // A waiter already at this index started there in an older term, and its entry
            // is gone from the log: dropping its sender tells it so.
            shared.waiters.insert(index, Waiter { term, reply });
            (index, term)
        };
        let _forget_on_drop = ForgetWaiter {
            rsm: self,
            index,
            term,
        };
        self.wait_as_leader_of(term, &mut result).await?
    }

    /// Runs the read-only `query` on the state machine without writing the log (part 3C,
    /// dissertation §6.4): once Raft's `read_index` says this server led its term after
    /// the call came and the state machine has applied every entry committed before it.
    ///
    /// Fails as [`Rsm::submit`] does: at once if this server does not lead, as soon as it
    /// no longer leads the term it started the read in, or when it is killed. Needs a Raft
    /// whose leaders append a no-op (`Options::noop_on_election`), or a read may wait until
    /// the next write commits.
    pub async fn read<R>(&self, query: impl FnOnce(&S) -> R) -> Result<R, SubmitError> {
        let (ready, mut ready_rx) = oneshot::channel();
        let (id, term) = {
            let mut shared = self.inner.shared.lock();
            if shared.dead {
                return Err(SubmitError::Shutdown);
            }
            // Under the lock, so the reader cannot see the read ready before it is in.
            let (id, term) = self
                .inner
                .raft
                .read_index()
                .ok_or(SubmitError::WrongLeader)?;
            shared.readers.insert(id, ready);
            (id, term)
        };
        let _forget_on_drop = ForgetReader { rsm: self, id };
        self.wait_as_leader_of(term, &mut ready_rx).await?;
        let shared = self.inner.shared.lock();
        if shared.dead {
            return Err(SubmitError::Shutdown);
        }
        Ok(query(&shared.machine))
    }

    /// Waits for `outcome` while this server leads `term`: the error of a caller that
    /// stopped leading, or was killed.
    async fn wait_as_leader_of<T>(
        &self,
        term: u64,
        outcome: &mut oneshot::Receiver<T>,
    ) -> Result<T, SubmitError> {
        loop {
            match labrpc::timeout(LEADERSHIP_CHECK, &mut *outcome).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(oneshot::Canceled)) => {
                    return Err(if self.inner.shared.lock().dead {
                        SubmitError::Shutdown
                    } else {
                        SubmitError::LostLeadership
                    });
                }
                Err(labrpc::Elapsed) => {
                    let (current_term, is_leader) = self.inner.raft.state();
                    if current_term != term || !is_leader {
                        return Err(SubmitError::LostLeadership);
                    }
                }
            }
        }
    }

    /// Stops the server: its Raft, and every pending [`submit`](Rsm::submit) and
    /// [`read`](Rsm::read), which return [`SubmitError::Shutdown`].
    pub fn kill(&self) {
        {
            let mut shared = self.inner.shared.lock();
            shared.dead = true;
            shared.waiters.clear();
            shared.readers.clear();
        }
        self.inner.raft.kill();
    }

    /// Reads Raft's apply channel until the server dies: applies each committed operation,
    /// answers the waiter at its index, installs snapshots, and snapshots when Raft's saved
    /// state grows too big.
    async fn run_reader(self, mut apply_rx: ApplyReceiver) {
        while let Some(msg) = apply_rx.next().await {
            let snapshot = {
                let mut shared = self.inner.shared.lock();
                if shared.dead {
                    return;
                }
                match msg {
                    ApplyMsg::Command {
                        index,
                        term,
                        command,
                    } => {
                        shared.apply(index, term, &command);
                        self.snapshot_if_too_big(&shared)
                    }
                    ApplyMsg::Noop { index, .. } | ApplyMsg::Configuration { index, .. } => {
                        shared.skip_entry(index);
                        None
                    }
                    ApplyMsg::Snapshot { index, data, .. } => {
                        shared.install(index, &data);
                        None
                    }
                    ApplyMsg::ReadReady { id } => {
                        // The reader may have stopped waiting; then nobody needs it.
                        if let Some(ready) = shared.readers.remove(&id) {
                            let _ = ready.send(());
                        }
                        None
                    }
                }
            };
            // Outside our lock, as Raft takes its own.
            if let Some((index, bytes)) = snapshot {
                self.inner.raft.snapshot(index, bytes);
            }
        }
    }

    /// A snapshot of the state machine, if Raft's saved state has reached `maxraftstate`.
    fn snapshot_if_too_big(&self, shared: &Shared<S>) -> Option<(u64, Vec<u8>)> {
        let max = self.inner.maxraftstate?;
        if self.inner.persister.raft_state_size() < max {
            return None;
        }
        let snapshot = Snapshot {
            index: shared.last_applied,
            machine: shared.machine.snapshot(),
        };
        let bytes = labrpc::codec::encode(&snapshot).expect("rsm: snapshots encode");
        Some((shared.last_applied, bytes))
    }
}

impl<S: StateMachine> Shared<S> {
    /// Applies the operation committed at `index` in `term`, and answers its waiter.
    fn apply(&mut self, index: u64, term: u64, command: &[u8]) {
        if index <= self.last_applied {
            return; // already in the state machine, through a snapshot
        }
        assert_eq!(
            index,
            self.last_applied + 1,
            "rsm: Raft applied index {index} right after index {}: committed entries must \
             reach the service in order, without gaps",
            self.last_applied
        );
        let op: S::Op = labrpc::codec::decode(command).unwrap_or_else(|e| {
            panic!("rsm: the entry committed at index {index} is not an operation: {e}")
        });
        note_apply(index, term, self.waiters.get(&index).map(|w| w.term));
        let output = self.machine.apply(op);
        self.last_applied = index;
        if let Some(waiter) = self.waiters.remove(&index) {
            let outcome = if waiter.term == term {
                Ok(output)
            } else {
                Err(SubmitError::LostLeadership)
            };
            // The caller may have stopped waiting; then nobody needs the result.
            let _ = waiter.reply.send(outcome);
        }
    }

    /// A new leader's no-op, or a configuration, committed at `index`: nothing to apply,
    /// but the index is taken, so an operation submitted there lost its place (its leader
    /// lost leadership before it committed).
    fn skip_entry(&mut self, index: u64) {
        if index <= self.last_applied {
            return;
        }
        assert_eq!(
            index,
            self.last_applied + 1,
            "rsm: Raft applied index {index} right after index {}: committed entries must \
             reach the service in order, without gaps",
            self.last_applied
        );
        self.last_applied = index;
        if let Some(waiter) = self.waiters.remove(&index) {
            let _ = waiter.reply.send(Err(SubmitError::LostLeadership));
        }
    }

    /// Installs a snapshot Raft received from the leader, covering everything up to
    /// `index`. The waiters it covers cannot learn their results: they fail, and their
    /// clients retry.
    fn install(&mut self, index: u64, data: &[u8]) {
        if index <= self.last_applied {
            return; // older than what the state machine already holds
        }
        let snapshot = decode_snapshot(data);
        labrpc::annotate(
            "apply",
            format_args!("installed a snapshot up to index {index}"),
        );
        self.machine.restore(&snapshot.machine);
        self.last_applied = index;
        let later = self.waiters.split_off(&(index + 1));
        for (_, waiter) in std::mem::replace(&mut self.waiters, later) {
            let _ = waiter.reply.send(Err(SubmitError::LostLeadership));
        }
    }
}

/// Notes an apply that a caller on this server waits for (submitted in `waited_term`), for
/// the run's timeline and log columns. Only those: noting every apply on every server would
/// make recording cost more than the state machine.
fn note_apply(index: u64, term: u64, waited_term: Option<u64>) {
    match waited_term {
        Some(t) if t == term => {
            labrpc::annotate(
                "apply",
                format_args!("applied index {index}: its caller is answered"),
            );
        }
        Some(t) => labrpc::annotate(
            "apply",
            format_args!(
                "applied index {index} from term {term}, not the operation submitted there in \
                 term {t}: its caller lost leadership"
            ),
        ),
        None => {}
    }
}

/// Removes a submitter's waiter when it stops waiting (answered, timed out, or dropped), so
/// that abandoned waiters do not pile up.
struct ForgetWaiter<'a, S: StateMachine> {
    rsm: &'a Rsm<S>,
    index: u64,
    term: u64,
}

impl<S: StateMachine> Drop for ForgetWaiter<'_, S> {
    fn drop(&mut self) {
        let mut shared = self.rsm.inner.shared.lock();
        if shared
            .waiters
            .get(&self.index)
            .is_some_and(|waiter| waiter.term == self.term)
        {
            shared.waiters.remove(&self.index);
        }
    }
}

/// Removes a reader's entry when it stops waiting (answered, timed out, or dropped).
struct ForgetReader<'a, S: StateMachine> {
    rsm: &'a Rsm<S>,
    id: u64,
}

impl<S: StateMachine> Drop for ForgetReader<'_, S> {
    fn drop(&mut self) {
        self.rsm.inner.shared.lock().readers.remove(&self.id);
    }
}

fn decode_snapshot(bytes: &[u8]) -> Snapshot {
    labrpc::codec::decode(bytes)
        .unwrap_or_else(|e| panic!("rsm: a snapshot is not one the rsm made: {e}"))
}
