//! The store monitor (Lab 3): servers that applied the same operations hold the same
//! state. Every server's state machine is wrapped in [`kvraft::Watched`], which reports a
//! digest of the state after every [`SAMPLE_EVERY`](kvraft::watched::SAMPLE_EVERY)
//! operations and after every restore from a snapshot; the monitor compares each report
//! with the first one made at the same count, by any server, in any incarnation.

use std::collections::BTreeMap;

use kvraft::watched::{StoreEvent, StoreSample};
use labrpc::Instant;
use labrpc::tester::Node;

use super::VIOLATED;
use crate::ends::server_name;

/// The first report of the state at one count.
#[derive(Clone, Copy)]
struct First {
    digest: u64,
    server: usize,
    at: Instant,
    restored: bool,
}

/// The store monitor.
pub(crate) struct StoreMonitor {
    /// Which server, and which of its incarnations, each node runs.
    nodes: BTreeMap<Node, (usize, u64)>,
    /// For each server, the incarnation whose state machine said it is watched.
    watched: Vec<Option<u64>>,
    /// For each count a multiple of the sampling period, the first state seen at it.
    first: BTreeMap<u64, First>,
    /// The first violation, until the reporting server's observer fails the run with it.
    violation: Option<String>,
    /// Each server's name, for messages.
    names: Vec<String>,
}

impl StoreMonitor {
    pub(crate) fn new(n: usize) -> StoreMonitor {
        StoreMonitor::named((0..n).map(server_name).collect())
    }

    /// A monitor of servers called `names` in its messages (Lab 4: a group's servers).
    pub(crate) fn named(names: Vec<String>) -> StoreMonitor {
        StoreMonitor {
            nodes: BTreeMap::new(),
            watched: vec![None; names.len()],
            names,
            first: BTreeMap::new(),
            violation: None,
        }
    }

    /// Server `i` starts as `incarnation` on `node`.
    pub(crate) fn starting(&mut self, node: Node, i: usize, incarnation: u64) {
        self.nodes.insert(node, (i, incarnation));
    }

    /// Whether server `i`'s `incarnation` wrapped its state machine in `Watched`.
    pub(crate) fn is_watched(&self, i: usize, incarnation: u64) -> bool {
        self.watched[i] == Some(incarnation)
    }

    /// What a watched state machine on `node` reported, at `at`.
    pub(crate) fn event(&mut self, node: Node, event: StoreEvent, at: Instant) {
        let Some(&(i, incarnation)) = self.nodes.get(&node) else {
            return; // not a server of this cluster (a node the test made for itself)
        };
        match event {
            StoreEvent::Started => self.watched[i] = Some(incarnation),
            StoreEvent::CountUnknown => {}
            StoreEvent::Applied(sample) => self.compare(i, sample, at, false),
            StoreEvent::Restored(sample) => self.compare(i, sample, at, true),
        }
    }

    /// The violation found since the last call, if any: the caller fails the run with it.
    pub(crate) fn take_violation(&mut self) -> Option<String> {
        self.violation.take()
    }

    fn compare(&mut self, i: usize, sample: StoreSample, at: Instant, restored: bool) {
        let StoreSample { applied, digest } = sample;
        let first = *self.first.entry(applied).or_insert(First {
            digest,
            server: i,
            at,
            restored,
        });
        if first.digest == digest || self.violation.is_some() {
            return;
        }
        let how = |restored: bool| {
            if restored {
                "restored from a snapshot of"
            } else {
                "after applying"
            }
        };
        let them = if first.server == i {
            format!("{} itself (an earlier incarnation)", self.names[i])
        } else {
            self.names[first.server].clone()
        };
        self.violation = Some(format!(
            "{VIOLATED} at {at}: servers that applied the same operations hold the same \
             state (every server applies the same committed operations in the same order, \
             so every server's state machine goes through the same states): {this}'s store \
             {how_this} {applied} operations differs from the one {them} had {how_first} \
             {applied} operations (at {first_at}). Usually one of: an operation applied \
             twice, or a committed one skipped (apply each committed index once, in order; \
             ignore a Command at or below the last index applied, also after installing a \
             snapshot); state left out of the snapshot or of the restore (the duplicate \
             table belongs in both); a snapshot labelled with an index other than the last \
             one applied to it; apply depending on something besides the state and the \
             operation (whether this server leads, time, randomness); or, on a Raft of \
             your own, different commands handed up at one index (State Machine Safety: \
             run Lab 2's tests). The stores are compared through their serde fields \
             (kvraft::Watched).",
            this = self.names[i],
            how_this = how(restored),
            how_first = how(first.restored),
            first_at = first.at,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitors::tests::at;

    #[test]
    fn same_count_different_digest_is_a_violation() {
        labrpc::tester::Sim::new(1).run(async {
            let node = Node::new("S0");
            let other = Node::new("S1");
            let mut monitor = StoreMonitor::new(2);
            monitor.starting(node, 0, 1);
            monitor.starting(other, 1, 2);
            monitor.event(node, StoreEvent::Started, at(0));
            assert!(monitor.is_watched(0, 1));
            assert!(!monitor.is_watched(1, 2));
            let sample = |digest| StoreSample {
                applied: 32,
                digest,
            };
            monitor.event(node, StoreEvent::Applied(sample(7)), at(10));
            monitor.event(other, StoreEvent::Restored(sample(7)), at(20));
            assert_eq!(monitor.take_violation(), None);
            monitor.event(other, StoreEvent::Applied(sample(8)), at(30));
            let violation = monitor.take_violation().expect("a violation");
            assert!(violation.contains("S1's store after applying 32 operations"));
            assert!(violation.contains("S0 had after applying 32 operations"));
            assert_eq!(monitor.take_violation(), None);
        });
    }
}
