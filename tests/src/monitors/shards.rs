//! The shard monitor (Lab 4): every group server's state machine is wrapped in
//! [`shardkv::Observed`], which reports the configuration the group applied and the shards
//! it serves whenever they change. The monitor follows each group by its most advanced
//! server (the one that applied the most operations: entries are applied in log order, so
//! its state is the group's latest) and checks, at every change:
//!
//! - a group serves only shards that the configuration it applied gives it;
//! - no two groups serve a shard at the same moment (a shard's new owner serves it only
//!   after its previous owner stopped: otherwise a client could write to both);
//! - every group applied the same configuration under the same number (one controller, one
//!   sequence of configurations).
//!
//! And, for the clerks' calls, that an operation on a shard returned only if some group
//! served the shard at some moment of the call: the reports must be true for the rest to
//! mean anything.
//!
//! It also records every server's reports for the run's timeline
//! ([`crate::events::shards`]): the configuration applied, the shards served and those
//! awaited, each server on its own lane.

use std::collections::BTreeMap;

use labrpc::Instant;
use labrpc::tester::Node;
use shardkv::observed::{GroupEvent, GroupSample};
use shardkv::{Gid, NSHARDS};

use super::VIOLATED;

/// A group's state as followed: the latest sample of its most advanced server.
#[derive(Clone, Copy)]
struct Latest {
    sample: GroupSample,
    server: usize,
    since: Instant,
}

/// The shard monitor.
pub(crate) struct ShardMonitor {
    /// Each group's id.
    gids: Vec<Gid>,
    /// Each group's servers' names, for messages.
    names: Vec<Vec<String>>,
    /// Which group, server and incarnation each node runs.
    nodes: BTreeMap<Node, (usize, usize, u64)>,
    /// For each group and server, the incarnation whose state machine said it is observed.
    observed: Vec<Vec<Option<u64>>>,
    /// Each group's state.
    latest: Vec<Option<Latest>>,
    /// Each configuration as first reported, and by which group.
    configs: BTreeMap<u64, ([Gid; NSHARDS], usize)>,
    /// For each shard, when some group last stopped serving it (if ever).
    last_served: [Option<Instant>; NSHARDS],
    /// The first violation, until the reporting server's observer fails the run with it.
    violation: Option<String>,
    /// For each group and server, what the timeline was last told of its current
    /// incarnation: (configuration, shards served, shards awaited).
    recorded: Vec<Vec<Option<Recorded>>>,
}

/// A server's shards as the timeline shows them: (configuration, served, awaited).
type Recorded = (u64, Vec<u8>, Vec<u8>);

impl ShardMonitor {
    /// A monitor of the groups `gids`, whose servers are called `names[g][i]`.
    pub(crate) fn new(gids: Vec<Gid>, names: Vec<Vec<String>>) -> ShardMonitor {
        ShardMonitor {
            observed: names.iter().map(|n| vec![None; n.len()]).collect(),
            recorded: names.iter().map(|n| vec![None; n.len()]).collect(),
            latest: vec![None; gids.len()],
            gids,
            names,
            nodes: BTreeMap::new(),
            configs: BTreeMap::new(),
            last_served: [None; NSHARDS],
            violation: None,
        }
    }

    /// Server `i` of group `g` starts as `incarnation` on `node`.
    pub(crate) fn starting(&mut self, node: Node, g: usize, i: usize, incarnation: u64) {
        self.nodes.insert(node, (g, i, incarnation));
        // A new incarnation's first report starts a new strip on the timeline, even if it
        // says what the last one's did (the crash ended that one's).
        self.recorded[g][i] = None;
    }

    /// Whether that incarnation wrapped its state machine in `Observed`.
    pub(crate) fn is_observed(&self, g: usize, i: usize, incarnation: u64) -> bool {
        self.observed[g][i] == Some(incarnation)
    }

    /// Whether some group served `shard` at some moment since `since` (now included).
    pub(crate) fn served_since(&self, shard: usize, since: Instant) -> bool {
        let now_served = self
            .latest
            .iter()
            .flatten()
            .any(|latest| latest.sample.serving[shard]);
        now_served || self.last_served[shard].is_some_and(|until| until >= since)
    }

    /// The violation found since the last call, if any: the caller fails the run with it.
    pub(crate) fn take_violation(&mut self) -> Option<String> {
        self.violation.take()
    }

    /// What an observed state machine on `node` reported, at `at`.
    pub(crate) fn event(&mut self, node: Node, event: GroupEvent, at: Instant) {
        let Some(&(g, i, incarnation)) = self.nodes.get(&node) else {
            return; // not a group server (the controller's servers are not observed)
        };
        match event {
            GroupEvent::Started => self.observed[g][i] = Some(incarnation),
            GroupEvent::Now(sample) => {
                self.record(g, i, &sample);
                self.sample(g, i, sample, at);
            }
        }
    }

    /// Records server `i` of group `g`'s report for the timeline, if it shows something
    /// new: the wrapper reports changes of the configuration's assignment too, and a
    /// restore reports again what it restored.
    fn record(&mut self, g: usize, i: usize, sample: &GroupSample) {
        let gid = self.gids[g];
        let shards = |keep: &dyn Fn(usize) -> bool| -> Vec<u8> {
            (0..NSHARDS)
                .filter(|&s| keep(s))
                .map(|s| u8::try_from(s).expect("fewer than 256 shards"))
                .collect()
        };
        let serving = shards(&|s| sample.serving[s]);
        let waiting = shards(&|s| sample.shards[s] == gid && !sample.serving[s]);
        let now = (sample.num, serving, waiting);
        if self.recorded[g][i].as_ref() == Some(&now) {
            return;
        }
        crate::events::shards(&self.names[g][i], now.0, now.1.clone(), now.2.clone());
        self.recorded[g][i] = Some(now);
    }

    fn sample(&mut self, g: usize, i: usize, sample: GroupSample, at: Instant) {
        self.check_config(g, i, &sample, at);
        // The group's state moves only with its most advanced server: a server that
        // restarts, or catches up, goes through states the group left behind.
        let Some(applied) = sample.applied else {
            return;
        };
        if let Some(latest) = &self.latest[g]
            && latest.sample.applied.unwrap_or(0) >= applied
        {
            return;
        }
        let before = self.latest[g].map(|l| l.sample.serving);
        self.latest[g] = Some(Latest {
            sample,
            server: i,
            since: at,
        });
        for shard in 0..NSHARDS {
            if before.is_some_and(|b| b[shard]) && !sample.serving[shard] {
                self.last_served[shard] = Some(at);
            }
        }
        self.check_ownership(g, i, &sample, at);
        self.check_exclusive(g, i, &sample, at);
    }

    fn check_config(&mut self, g: usize, i: usize, sample: &GroupSample, at: Instant) {
        let (first, by) = *self.configs.entry(sample.num).or_insert((sample.shards, g));
        if first != sample.shards && self.violation.is_none() {
            self.violation = Some(format!(
                "{VIOLATED} at {at}: every group applies the same configuration under one \
                 number (there is one controller, with one sequence of configurations): {} \
                 applied configuration {} as {}, group {} as {}. Either the controller's \
                 replicas computed it differently (rebalancing must be deterministic: no \
                 HashMap iteration order, ties broken by gid) or a group stored something \
                 else under that number.",
                self.names[g][i],
                sample.num,
                shards_text(&sample.shards),
                self.gids[by],
                shards_text(&first),
            ));
        }
    }

    fn check_ownership(&mut self, g: usize, i: usize, sample: &GroupSample, at: Instant) {
        let gid = self.gids[g];
        let foreign: Vec<usize> = (0..NSHARDS)
            .filter(|&s| sample.serving[s] && sample.shards[s] != gid)
            .collect();
        if !foreign.is_empty() && self.violation.is_none() {
            self.violation = Some(format!(
                "{VIOLATED} at {at}: a group serves only shards that the configuration it \
                 applied gives it: {} (group {gid}) serves shards {foreign:?} in \
                 configuration {}, which gives them to {:?}. Check ownership when an \
                 operation is applied, against the configuration applied (not one fetched \
                 but not yet in the log), and stop serving a shard in the entry that applies \
                 the configuration taking it away.",
                self.names[g][i],
                sample.num,
                foreign
                    .iter()
                    .map(|&s| sample.shards[s])
                    .collect::<Vec<_>>(),
            ));
        }
    }

    fn check_exclusive(&mut self, g: usize, i: usize, sample: &GroupSample, at: Instant) {
        for shard in (0..NSHARDS).filter(|&s| sample.serving[s]) {
            for (h, latest) in self.latest.iter().enumerate() {
                let Some(other) = latest else { continue };
                if h == g || !other.sample.serving[shard] || self.violation.is_some() {
                    continue;
                }
                self.violation = Some(format!(
                    "{VIOLATED} at {at}: no two groups serve a shard at the same moment: {} \
                     (group {}) serves shard {shard} in configuration {}, and {} (group {}) \
                     still serves it in configuration {} (since {}). A new owner may serve a \
                     shard only once it has the previous owner's data, which the previous \
                     owner hands over only after it stopped serving the shard (after it \
                     applied the configuration that takes it away).",
                    self.names[g][i],
                    self.gids[g],
                    sample.num,
                    self.names[h][other.server],
                    self.gids[h],
                    other.sample.num,
                    other.since,
                ));
            }
        }
    }
}

/// `[100 100 101 ...]`.
fn shards_text(shards: &[Gid; NSHARDS]) -> String {
    let gids: Vec<String> = shards.iter().map(Gid::to_string).collect();
    format!("[{}]", gids.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitors::tests::at;

    fn sample(applied: u64, num: u64, shards: [Gid; NSHARDS], serving: &[usize]) -> GroupEvent {
        GroupEvent::Now(GroupSample {
            applied: Some(applied),
            num,
            shards,
            serving: std::array::from_fn(|s| serving.contains(&s)),
        })
    }

    fn monitor() -> (ShardMonitor, Node, Node) {
        let names = vec![vec!["a0".into()], vec!["b0".into()]];
        let mut monitor = ShardMonitor::new(vec![100, 101], names);
        let (a, b) = (Node::new("a0"), Node::new("b0"));
        monitor.starting(a, 0, 0, 1);
        monitor.starting(b, 1, 0, 2);
        (monitor, a, b)
    }

    #[test]
    fn a_handover_in_order_passes_and_an_early_one_does_not() {
        labrpc::tester::Sim::new(1).run(async {
            let c1 = [100; NSHARDS];
            let mut c2 = c1;
            c2[3] = 101;
            let (mut m, a, b) = monitor();
            m.event(a, GroupEvent::Started, at(0));
            assert!(m.is_observed(0, 0, 1) && !m.is_observed(1, 0, 2));
            m.event(a, sample(1, 1, c1, &[0, 1, 2, 3]), at(1));
            m.event(b, sample(1, 1, c1, &[]), at(2));
            // The previous owner stops, then the new owner serves.
            m.event(a, sample(2, 2, c2, &[0, 1, 2]), at(3));
            assert!(m.served_since(3, at(2)) && !m.served_since(3, at(4)));
            m.event(b, sample(3, 2, c2, &[3]), at(5));
            assert_eq!(m.take_violation(), None);
            assert!(m.served_since(3, at(4)));
            // A lagging server of the old owner replays its old state: not the group's.
            m.event(a, sample(1, 1, c1, &[0, 1, 2, 3]), at(6));
            assert_eq!(m.take_violation(), None);

            let (mut m, a, b) = monitor();
            m.event(a, sample(1, 1, c1, &[0, 1, 2, 3]), at(1));
            m.event(b, sample(2, 2, c2, &[3]), at(2));
            let violation = m.take_violation().expect("two groups serve shard 3");
            assert!(
                violation.contains("b0 (group 101) serves shard 3"),
                "{violation}"
            );
        });
    }

    #[test]
    fn each_servers_reports_are_recorded_for_the_timeline_when_they_change() {
        use labrpc::tester::timeline::Kind;

        let log = std::sync::Arc::new(labrpc::tester::EventLog::default());
        labrpc::tester::Sim::new(1)
            .record_into(log.clone())
            .run(async {
                let mut c2 = [100; NSHARDS];
                c2[3] = 101;
                c2[4] = 101;
                let (mut m, a, b) = monitor();
                m.event(a, GroupEvent::Started, at(0));
                // b0's group (101) is given shards 3 and 4, whose data it waits for.
                m.event(b, sample(1, 2, c2, &[]), at(1));
                m.event(b, sample(2, 2, c2, &[3]), at(2));
                // The same again (a restore): nothing new to draw.
                m.event(b, sample(2, 2, c2, &[3]), at(3));
                // A lagging server of a0's group: recorded too, on its own lane.
                m.event(a, sample(1, 2, c2, &[0, 1, 2, 5, 6, 7, 8, 9]), at(4));
                // A new incarnation's first report is recorded, even if it says the same.
                m.starting(b, 1, 0, 3);
                m.event(b, sample(2, 2, c2, &[3]), at(5));
            });
        let shards: Vec<(String, u64, Vec<u8>, Vec<u8>)> = log
            .recording()
            .events
            .into_iter()
            .filter_map(|e| match e.kind {
                Kind::Shards {
                    server,
                    config,
                    serving,
                    waiting,
                } => Some((server, config, serving, waiting)),
                _ => None,
            })
            .collect();
        let row = |server: &str, serving: &[u8], waiting: &[u8]| {
            (server.to_owned(), 2, serving.to_vec(), waiting.to_vec())
        };
        assert_eq!(
            shards,
            [
                row("b0", &[], &[3, 4]),
                row("b0", &[3], &[4]),
                row("a0", &[0, 1, 2, 5, 6, 7, 8, 9], &[]),
                row("b0", &[3], &[4]),
            ]
        );
    }

    #[test]
    fn foreign_shards_and_two_configurations_under_one_number_are_violations() {
        labrpc::tester::Sim::new(1).run(async {
            let c1 = [100; NSHARDS];
            let (mut m, a, b) = monitor();
            m.event(b, sample(1, 1, c1, &[5]), at(1));
            let violation = m.take_violation().expect("b0 serves a shard of 100");
            assert!(violation.contains("serves shards [5]"), "{violation}");

            let (mut m, a2, b2) = monitor();
            let _ = (a, b);
            m.event(a2, sample(1, 1, c1, &[]), at(1));
            m.event(b2, sample(1, 1, [101; NSHARDS], &[]), at(2));
            let violation = m.take_violation().expect("two configurations 1");
            assert!(
                violation.contains("applied configuration 1 as"),
                "{violation}"
            );
        });
    }
}
