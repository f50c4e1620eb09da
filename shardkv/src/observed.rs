//! The tester's window on a replica group: [`Observed`] wraps the state machine a group
//! server hands to its rsm layer, and tells the tester, whenever it changes, which
//! configuration the group has applied and which shards it serves. From every server's
//! reports the tester's shard monitor follows each group (by its most advanced server) and
//! checks, at the exact virtual time of every change, that no two groups serve a shard at
//! once, that a group serves only shards its applied configuration gives it, and that every
//! group applied the same configuration under the same number. It also checks that a
//! clerk's operation on a shard succeeded only while some group said it served the shard,
//! so the reports must be true.
//!
//! Inside, it is also a [`kvraft::Watched`]: servers of a group that applied the same
//! operations must hold the same state (the Lab 3 store monitor).
//!
//! The wrapper changes nothing the rsm layer sees: it applies, snapshots and restores
//! through the wrapped machine.

use std::cell::RefCell;
use std::rc::Rc;

use kvraft::{StateMachine, Watched};
use labrpc::tester::Node;
use serde::Serialize;

use crate::{Gid, NSHARDS};

/// What a group's state machine must say about itself for [`Observed`] to report it.
pub trait GroupState {
    /// The number of the configuration the group has applied (0 before any), and the group
    /// that configuration gives each shard.
    fn applied_config(&self) -> (u64, [Gid; NSHARDS]);

    /// Whether clients' operations on `shard` are served now: applying a client's Get,
    /// Put or Append of a key in it would carry it out, not answer `ErrWrongGroup`.
    fn serves(&self, shard: usize) -> bool;
}

/// A group's state as the tester follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSample {
    /// Operations the server has applied since its empty state (its position in its
    /// group's log), if known.
    pub applied: Option<u64>,
    /// The configuration applied.
    pub num: u64,
    /// What that configuration gives each shard.
    pub shards: [Gid; NSHARDS],
    /// The shards served.
    pub serving: [bool; NSHARDS],
}

/// What an observed server tells the tester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    /// [`Observed::new`]: the server's state machine is observed.
    Started,
    /// Its state changed (or was restored from a snapshot).
    Now(GroupSample),
}

/// A group's state machine as the tester observes it: `S` itself to the rsm layer.
///
/// `ShardKv::new` passes its state machine to the rsm wrapped in this:
/// `Rsm::new(servers, me, persister, maxraftstate, Observed::new(store))`. The tester fails
/// a test whose server does not.
pub struct Observed<S> {
    watched: Watched<S>,
    /// What was last reported (the configuration and the shards served).
    last: Option<(u64, [Gid; NSHARDS], [bool; NSHARDS])>,
}

impl<S: StateMachine + Serialize + GroupState> Observed<S> {
    /// Wraps `machine`, which must be in its initial (empty) state, and tells the tester
    /// that this server's state machine is observed.
    pub fn new(machine: S) -> Observed<S> {
        report(GroupEvent::Started);
        let mut observed = Observed {
            watched: Watched::new(machine),
            last: None,
        };
        observed.report_if_changed();
        observed
    }

    /// The wrapped state machine.
    pub fn inner(&self) -> &S {
        self.watched.inner()
    }

    fn report_if_changed(&mut self) {
        if !sink_installed() {
            return;
        }
        let machine = self.watched.inner();
        let (num, shards) = machine.applied_config();
        let serving = std::array::from_fn(|s| machine.serves(s));
        if self.last == Some((num, shards, serving)) {
            return;
        }
        self.last = Some((num, shards, serving));
        report(GroupEvent::Now(GroupSample {
            applied: self.watched.applied(),
            num,
            shards,
            serving,
        }));
    }
}

impl<S: StateMachine + Serialize + GroupState> StateMachine for Observed<S> {
    type Op = S::Op;
    type Output = S::Output;

    fn apply(&mut self, op: S::Op) -> S::Output {
        let output = self.watched.apply(op);
        self.report_if_changed();
        output
    }

    fn snapshot(&self) -> Vec<u8> {
        self.watched.snapshot()
    }

    fn restore(&mut self, snapshot: &[u8]) {
        self.watched.restore(snapshot);
        self.last = None;
        self.report_if_changed();
    }
}

/// The tester's receiver of what observed servers report: the node that reported, and
/// what.
type Sink = Rc<dyn Fn(Node, GroupEvent)>;

thread_local! {
    // A simulation runs on one thread, the tester's; so does every server in it.
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

fn sink_installed() -> bool {
    SINK.with(|sink| sink.borrow().is_some())
}

fn report(event: GroupEvent) {
    // Cloned out first, so that the sink may do anything, installing another included.
    let sink = SINK.with(|sink| sink.borrow().clone());
    if let Some(sink) = sink {
        sink(Node::current(), event);
    }
}

/// Sends what every [`Observed`] state machine on this thread reports to `sink`, with the
/// node whose code reported it, until [`unwatch_groups`]. Replaces any sink installed
/// before. (Tester side: lab code that calls it panics.)
pub fn watch_groups(sink: impl Fn(Node, GroupEvent) + 'static) {
    assert!(
        Node::current() == Node::tester(),
        "shardkv::observed::watch_groups is the tester's: lab code must not call it"
    );
    SINK.with(|slot| *slot.borrow_mut() = Some(Rc::new(sink)));
}

/// Stops sending reports (see [`watch_groups`]). (Tester side; it may run as a failed run
/// unwinds.)
pub fn unwatch_groups() {
    SINK.with(|slot| slot.borrow_mut().take());
}
