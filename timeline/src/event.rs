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
