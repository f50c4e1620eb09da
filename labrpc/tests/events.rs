//! What a run records for its timeline: the world's, the network's, the tester's and lab
//! code's events, with their nodes and virtual times; messages only when asked; and that
//! recording changes nothing about the run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use labrpc::tester::timeline::{Kind, Recording};
use labrpc::tester::{MAX_EVENTS, Network, Node, RunReport, Server, SharedRecording, Sim, record};
use labrpc::{Rpc, Service};
use serde::{Deserialize, Serialize};

const SECOND: u64 = 1_000_000_000;

/// `Echo.Say`: answers its argument.
#[derive(Serialize, Deserialize)]
struct Say(u32);

impl Rpc for Say {
    type Reply = u32;
    const METHOD: &'static str = "Echo.Say";
}

/// A server S1 that a client calls three times, 100 ms apart, then crashes; S1's code
/// annotates each call it answers.
async fn three_calls_then_a_crash() {
    let net = Network::new();
    net.set_reliable(false);
    let node = Node::new("S1");
    let service = Service::new("Echo").method(|Say(n): Say| async move {
        labrpc::annotate("echo", format_args!("answered {n}"));
        n
    });
    net.add_server("S1", Server::on(node).with_service(service));
    let end = net.make_end("c->S1");
    net.connect("c->S1", "S1");
    net.enable("c->S1", true);
    record(Kind::Phase {
        text: "calling".into(),
    });
    for n in 0..3 {
        let _ = end.call(&Say(n)).await;
        labrpc::sleep(Duration::from_millis(100)).await;
    }
    labrpc::sleep(Duration::from_secs(1)).await;
    node.kill();
}

/// Runs [`three_calls_then_a_crash`] on `sim`; returns its report and recording.
fn run(sim: Sim) -> (RunReport, Recording) {
    let recording = SharedRecording::default();
    let ((), report) = sim
        .record_into(recording.clone())
        .run_with_report(three_calls_then_a_crash());
    let recording = recording.recording();
    (report, recording)
}

fn node_of(recording: &Recording, name: &str) -> u32 {
    let index = recording.nodes.iter().position(|n| n == name);
    u32::try_from(index.unwrap_or_else(|| panic!("no node {name}: {:?}", recording.nodes)))
        .expect("few nodes")
}

#[test]
fn a_run_records_its_nodes_settings_phases_and_annotations_with_their_times() {
    let (_, recording) = run(Sim::new(5).test_name("events"));
    assert_eq!(recording.test, "events");
    assert_eq!(recording.seed, 5);
    assert_eq!(recording.nodes, ["tester", "S1"]);
    let s1 = node_of(&recording, "S1");
    let tester = node_of(&recording, "tester");
    let kinds: Vec<(u32, &Kind)> = recording.events.iter().map(|e| (e.node, &e.kind)).collect();
    assert!(kinds.contains(&(s1, &Kind::Start)), "{kinds:?}");
    let net = Kind::Net {
        setting: "reliable".into(),
        on: false,
    };
    assert!(kinds.contains(&(tester, &net)), "{kinds:?}");
    let phase = Kind::Phase {
        text: "calling".into(),
    };
    assert!(kinds.contains(&(tester, &phase)), "{kinds:?}");
    // Each answered call is noted on S1, at the time S1 answered it.
    let answers: Vec<_> = recording
        .events
        .iter()
        .filter(|e| matches!(&e.kind, Kind::Annotation { topic, .. } if topic == "echo"))
        .collect();
    assert!(!answers.is_empty() && answers.len() <= 3, "{answers:?}");
    assert!(answers.iter().all(|e| e.node == s1));
    assert!(answers.windows(2).all(|w| w[0].at < w[1].at));
    // The crash comes last, after the calls and the second of waiting.
    let crash = recording.events.last().expect("events");
    assert_eq!((crash.node, &crash.kind), (s1, &Kind::Crash));
    assert!(crash.at >= SECOND + 300_000_000, "{crash:?}");
    // Events are in time order, and the run's end is no earlier than the last.
    assert!(recording.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(recording.end >= crash.at);
    assert!(recording.messages_recorded() == 0);
}

#[test]
fn messages_are_recorded_only_when_asked_and_recording_changes_nothing() {
    for seed in [1, 2, 3] {
        let (plain, without) = run(Sim::new(seed));
        let (all, with) = run(Sim::new(seed).record_messages(Vec::<String>::new()));
        let (other, with_other) = run(Sim::new(seed).record_messages(["Raft."]));
        // The same run, event for event, whatever is recorded.
        assert_eq!(plain, all, "seed {seed}");
        assert_eq!(plain, other, "seed {seed}");
        assert_eq!(without.messages_recorded(), 0);
        assert_eq!(with_other.messages_recorded(), 0);
        // Requests reach S1 from the tester's node; replies go back.
        let messages: Vec<_> = with
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Message {
                    from,
                    to,
                    method,
                    sent,
                    reply,
                } => Some((
                    from.as_str(),
                    to.as_str(),
                    method.as_str(),
                    *sent,
                    e.at,
                    *reply,
                )),
                _ => None,
            })
            .collect();
        assert!(!messages.is_empty(), "seed {seed}");
        for &(from, to, method, sent, at, reply) in &messages {
            assert_eq!(method, "Echo.Say");
            assert!(sent <= at, "seed {seed}: sent at {sent}, arrived at {at}");
            let (expected_from, expected_to) = if reply {
                ("S1", "tester")
            } else {
                ("tester", "S1")
            };
            assert_eq!((from, to), (expected_from, expected_to), "seed {seed}");
        }
        // Apart from the messages, the two recordings are the same.
        let mut stripped = with.clone();
        stripped
            .events
            .retain(|e| !matches!(e.kind, Kind::Message { .. }));
        assert_eq!(stripped, without, "seed {seed}");
    }
}

#[test]
fn a_failed_run_keeps_what_it_recorded_up_to_the_failure() {
    let recording = SharedRecording::default();
    let failed = catch_unwind(AssertUnwindSafe(|| {
        Sim::new(9).record_into(recording.clone()).run(async {
            labrpc::annotate("step", "before the failure");
            labrpc::sleep(Duration::from_secs(2)).await;
            panic!("the test fails here");
        })
    }));
    assert!(failed.is_err());
    let recording = recording.recording();
    assert!(recording.end >= 2 * SECOND, "{:?}", recording.end);
    assert!(recording.events.iter().any(|e| matches!(
        &e.kind,
        Kind::Annotation { text, .. } if text == "before the failure"
    )));
}

#[test]
fn a_run_records_at_most_max_events_and_counts_the_rest() {
    let recording = SharedRecording::default();
    Sim::new(4).record_into(recording.clone()).run(async {
        // Lab code noting something in a loop: its memory stays bounded.
        for _ in 0..MAX_EVENTS + 10 {
            labrpc::annotate("loop", "again");
        }
    });
    let recording = recording.recording();
    assert_eq!(recording.events.len(), MAX_EVENTS);
    assert_eq!(recording.dropped, 10);
}

#[test]
fn annotating_outside_a_simulation_does_nothing() {
    labrpc::annotate("topic", "no world here");
    record(Kind::Phase {
        text: "nor here".into(),
    });
}

/// How many messages a recording holds.
trait CountMessages {
    fn messages_recorded(&self) -> usize;
}

impl CountMessages for Recording {
    fn messages_recorded(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, Kind::Message { .. }))
            .count()
    }
}
