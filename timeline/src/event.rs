//! The events of one run, as the world, the network, the tester and lab code record them.

use serde::{Deserialize, Serialize};

/// Virtual time, in nanoseconds since the start of the run.
pub type Nanos = u64;

/// Everything recorded about one run: its nodes and its events, in the order they happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The test's name (empty if unknown).
    pub test: String,
    /// The run's seed.
    pub seed: u64,
    /// The command that replays the run (empty if unknown).
    #[serde(default)]
    pub replay: String,
    /// Node names, indexed by [`Event::node`]. A restarted server is a new node with the
    /// same name: lanes are per name.
    pub nodes: Vec<String>,
    /// The events, in the order they happened (so by time).
    pub events: Vec<Event>,
    /// Virtual time when the run ended (or when the recording was taken).
    pub end: Nanos,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
    /// How many events were not recorded because the run had recorded too many already.
    #[serde(default)]
    pub dropped: u64,
}

/// One event: when, on which node, and what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Virtual time.
    pub at: Nanos,
    /// Index into [`Recording::nodes`] of the node it happened on (for world events, the
    /// node started or crashed; for lab code's annotations and logs, the node whose code
    /// ran; for the tester, the tester's node).
    pub node: u32,
    /// What happened.
    pub kind: Kind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// The node was created (a server's start or restart).
    Start,
    /// The node crashed: all its tasks were dropped.
    Crash,
    /// A note from lab code or the tester (`labrpc::annotate(topic, text)`).
    Annotation {
        /// A short word to colour and filter by (`"role"`, `"vote"`, `"commit"`, ...).
        topic: String,
        /// What happened, in words.
        text: String,
    },
    /// A log line (`tracing`), recorded only when logs are captured.
    Log {
        /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
        level: String,
        /// The crate (or target) that logged it.
        target: String,
        /// The message and fields.
        text: String,
    },
    /// A network setting changed: `"reliable"`, `"long delays"` or `"long reordering"`.
    Net {
        /// The setting's name.
        setting: String,
        /// Its new value.
        on: bool,
    },
    /// The tester changed links: the server named `server` now reaches these servers
    /// (its own calls to them can get through). Recorded for every server at each change.
    Links {
        /// The server whose outgoing links these are.
        server: String,
        /// The servers it can reach, itself excluded.
        reaches: Vec<String>,
    },
    /// The tester's phase: a test or a step of it begins.
    Phase {
        /// What the tester is doing now.
        text: String,
    },
    /// A check by the tester, passed or failed.
    Check {
        /// What was checked, and the result.
        text: String,
        /// Whether it passed.
        passed: bool,
    },
    /// A Raft server's state, as the tester sampled it (`Raft::state()`), recorded when it
    /// changes.
    State {
        /// The server's name.
        server: String,
        /// Its current term.
        term: u64,
        /// Whether it believes it leads.
        leader: bool,
    },
    /// A Lab 4 group server's shards, as its state machine reported them to the tester
    /// (`shardkv::Observed`), recorded when they change: the configuration it has applied,
    /// the shards it serves, and the shards that configuration gives its group but that it
    /// does not serve yet (their data has still to arrive from their previous owner).
    Shards {
        /// The server's name (`server-101-2`).
        server: String,
        /// The number of the configuration it has applied (0 before any).
        config: u64,
        /// The shards it serves, in ascending order.
        serving: Vec<u8>,
        /// The shards its applied configuration gives its group that it does not serve
        /// yet, in ascending order.
        waiting: Vec<u8>,
    },
    /// An RPC message delivered (only when recording messages is asked for).
    Message {
        /// The sender's node name.
        from: String,
        /// The receiver's node name.
        to: String,
        /// The method, e.g. `Raft.AppendEntries`.
        method: String,
        /// When it was sent.
        sent: Nanos,
        /// A reply (true) or a request (false).
        reply: bool,
    },
    /// A client's operation, recorded when it returns (`at` is the return time).
    Op {
        /// The client's name.
        client: String,
        /// When it was called.
        call: Nanos,
        /// The call and its result, in words.
        text: String,
    },
    /// A file that says more, e.g. the linearizability checker's page.
    Link {
        /// What it is.
        text: String,
        /// Its path.
        path: String,
    },
}

impl Recording {
    /// The name of node `index`, or `"?"`.
    pub fn node_name(&self, index: u32) -> &str {
        self.nodes.get(index as usize).map_or("?", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_round_trip_as_json_and_older_recordings_still_read() {
        let event = Event {
            at: 5,
            node: 1,
            kind: Kind::Shards {
                server: "server-101-2".into(),
                config: 4,
                serving: vec![0, 1, 2],
                waiting: vec![3, 4],
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["kind"],
            serde_json::json!({
                "type": "shards",
                "server": "server-101-2",
                "config": 4,
                "serving": [0, 1, 2],
                "waiting": [3, 4],
            })
        );
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
        // A recording saved before the kind existed (LAB_EVENTS) reads as it did.
        let old = r#"{"test": "t", "seed": 1, "nodes": ["tester", "S0"], "end": 9,
            "failure": null, "events": [{"at": 1, "node": 1,
            "kind": {"type": "state", "server": "S0", "term": 2, "leader": true}}]}"#;
        let rec: Recording = serde_json::from_str(old).unwrap();
        assert_eq!(
            rec.events[0].kind,
            Kind::State {
                server: "S0".into(),
                term: 2,
                leader: true
            }
        );
    }
}
