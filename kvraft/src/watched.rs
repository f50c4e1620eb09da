//! The tester's window on a replicated service: [`Watched`] wraps the state machine a
//! server hands to its rsm layer, and tells the tester, every few operations, how many
//! operations the server has applied and a digest of its state. Servers that applied the
//! same operations must hold the same state; the tester's store monitor compares them, at
//! the exact virtual time a server reaches a count, in every Lab 3 test.
//!
//! The wrapper changes nothing the rsm layer sees: it applies, snapshots and restores
//! through the wrapped machine. Its snapshot carries one extra number in front (how many
//! operations the snapshot holds, one to three bytes), so that a server restored from a
//! snapshot can be compared too.
//!
//! This is a check the service's code cooperates with, as the Raft tests' monitors rely
//! on `Raft::state()`: it is there to catch mistakes, not to defend the grade.

use std::cell::RefCell;
use std::rc::Rc;

use labrpc::tester::Node;
use serde::Serialize;

use crate::StateMachine;
use crate::digest::digest;

/// How often a server reports its state: after every this many applied operations (and
/// after every restore). Divergence lasts (an append applied twice stays applied twice),
/// so a sample every few dozen operations finds it, at a fraction of the cost of hashing
/// the whole state after every operation.
pub const SAMPLE_EVERY: u64 = 32;

/// A state machine as the tester watches it: `S` itself to the rsm layer, plus a count of
/// the operations applied to it and reports of its state to the tester.
///
/// `KvServer::new` passes its store to the rsm wrapped in this:
/// `Rsm::new(servers, me, persister, maxraftstate, Watched::new(Store::default()))`.
/// The tester fails a test whose server does not.
pub struct Watched<S> {
    machine: S,
    /// Operations applied since the empty state (a restore sets it from the snapshot);
    /// `None` after a restore from bytes that are not this wrapper's snapshot, when the
    /// count is unknown and nothing is reported until the next good restore.
    applied: Option<u64>,
}

impl<S: StateMachine + Serialize> Watched<S> {
    /// Wraps `machine`, which must be in its initial (empty) state, and tells the tester
    /// that this server's state machine is watched.
    pub fn new(machine: S) -> Watched<S> {
        report(StoreEvent::Started);
        Watched {
            machine,
            applied: Some(0),
        }
    }

    /// The wrapped state machine.
    pub fn inner(&self) -> &S {
        &self.machine
    }

    /// Operations applied so far, if known.
    pub fn applied(&self) -> Option<u64> {
        self.applied
    }

    fn sample(&self, applied: u64) -> StoreSample {
        StoreSample {
            applied,
            digest: digest(&self.machine),
        }
    }
}

impl<S: StateMachine + Serialize> StateMachine for Watched<S> {
    type Op = S::Op;
    type Output = S::Output;

    fn apply(&mut self, op: S::Op) -> S::Output {
        let output = self.machine.apply(op);
        if let Some(applied) = &mut self.applied {
            *applied += 1;
            let applied = *applied;
            if applied.is_multiple_of(SAMPLE_EVERY) && sink_installed() {
                report(StoreEvent::Applied(self.sample(applied)));
            }
        }
        output
    }

    fn snapshot(&self) -> Vec<u8> {
        let mut bytes = labrpc::codec::encode(&self.applied.unwrap_or(UNKNOWN))
            .expect("kvraft: a count encodes");
        bytes.extend_from_slice(&self.machine.snapshot());
        bytes
    }

    fn restore(&mut self, snapshot: &[u8]) {
        match labrpc::codec::decode_prefix::<u64>(snapshot) {
            Ok((applied, machine)) => {
                self.machine.restore(machine);
                self.applied = (applied != UNKNOWN).then_some(applied);
            }
            // Not a snapshot this wrapper made (say, the empty bytes of a server that has
            // none): the machine's own restore says what is wrong with them, if anything.
            Err(_) => {
                self.machine.restore(snapshot);
                self.applied = None;
            }
        }
        match self.applied {
            Some(applied) if sink_installed() => {
                report(StoreEvent::Restored(self.sample(applied)));
            }
            Some(_) => {}
            None => report(StoreEvent::CountUnknown),
        }
    }
}

/// The count written into a snapshot whose machine's count is unknown.
const UNKNOWN: u64 = u64::MAX;

/// A server's state after some number of applied operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreSample {
    /// Operations applied since the empty state.
    pub applied: u64,
    /// A digest of the state (equal states give equal digests, however their maps and
    /// sets happen to be ordered).
    pub digest: u64,
}

/// What a watched server tells the tester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreEvent {
    /// [`Watched::new`]: the server's state machine is watched, from the empty state.
    Started,
    /// The state after applying [`StoreSample::applied`] operations (a multiple of
    /// [`SAMPLE_EVERY`]).
    Applied(StoreSample),
    /// The state just restored from a snapshot that holds [`StoreSample::applied`]
    /// operations.
    Restored(StoreSample),
    /// The machine was restored from bytes that are not a snapshot [`Watched`] made: its
    /// count is unknown until the next restore.
    CountUnknown,
}

/// The tester's receiver of what watched servers report: the node that reported, and what.
type Sink = Rc<dyn Fn(Node, StoreEvent)>;

thread_local! {
    // A simulation runs on one thread, the tester's; so does every server in it.
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

fn sink_installed() -> bool {
    SINK.with(|sink| sink.borrow().is_some())
}

fn report(event: StoreEvent) {
    // Cloned out first, so that the sink may do anything, installing another included.
    let sink = SINK.with(|sink| sink.borrow().clone());
    if let Some(sink) = sink {
        sink(Node::current(), event);
    }
}

/// Sends what every [`Watched`] state machine on this thread reports to `sink`, with the
/// node whose code reported it, until [`unwatch_stores`]. Replaces any sink installed
/// before. (Tester side: lab code that calls it panics.)
pub fn watch_stores(sink: impl Fn(Node, StoreEvent) + 'static) {
    require_tester("kvraft::watched::watch_stores");
    SINK.with(|slot| *slot.borrow_mut() = Some(Rc::new(sink)));
}

/// Stops sending reports (see [`watch_stores`]). (Tester side; it may run as a failed
/// run unwinds, when there is no world left to ask who calls it.)
pub fn unwatch_stores() {
    SINK.with(|slot| slot.borrow_mut().take());
}

fn require_tester(what: &str) {
    assert!(
        Node::current() == Node::tester(),
        "{what} is the tester's: lab code must not call it"
    );
}
