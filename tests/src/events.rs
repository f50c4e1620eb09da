//! What the harnesses record for the run's timeline and log columns (see
//! `labrpc::tester::record`): phases, checks, links, servers' states, clients' operations.
//! Each function records one event, now, on the tester's side.

use labrpc::tester::record;
use labrpc::tester::timeline::Kind;

use crate::ends::server_name;

/// A test or one of its steps begins.
pub fn phase(text: impl Into<String>) {
    record(Kind::Phase { text: text.into() });
}

/// A check of the tester passed.
pub fn passed(text: impl Into<String>) {
    record(Kind::Check {
        text: text.into(),
        passed: true,
    });
}

/// The test passed (its last check).
pub fn test_passed() {
    record(Kind::Check {
        text: "the test passed".into(),
        passed: true,
    });
}

/// A check of the tester failed (the `fail!` macros call this just before panicking).
pub fn failed(text: impl Into<String>) {
    record(Kind::Check {
        text: text.into(),
        passed: false,
    });
}

/// Server `server` (its name) is in `term`, leading or not: the state monitor's sample,
/// when it changes.
pub fn state(server: &str, term: u64, leader: bool) {
    record(Kind::State {
        server: server.to_owned(),
        term,
        leader,
    });
}

/// Group server `server` (its name, Lab 4) has applied configuration `config`, serves the
/// shards `serving`, and waits for the data of the shards `waiting` (those `config` gives
/// its group that it does not serve yet): the shard monitor's record of what the server's
/// state machine reported, when it changes. Recorded at the virtual time of the report,
/// from inside the server's apply (the shard monitor's sink runs there), so on the
/// server's node, as [`state`] is from its observer.
pub fn shards(server: &str, config: u64, serving: Vec<u8>, waiting: Vec<u8>) {
    record(Kind::Shards {
        server: server.to_owned(),
        config,
        serving,
        waiting,
    });
}

/// Which server-to-server ends the harness has enabled (`up[i][j]`: server `i`'s end to
/// server `j`), kept beside the network so that recording the links costs nothing, and
/// what the timeline was last told of each server.
#[derive(Debug, Default)]
pub struct LinkMap {
    up: Vec<Vec<bool>>,
    recorded: Vec<Option<Vec<usize>>>,
}

impl LinkMap {
    /// `n` servers, no end enabled.
    pub fn new(n: usize) -> LinkMap {
        LinkMap {
            up: vec![vec![false; n]; n],
            recorded: vec![None; n],
        }
    }

    /// Server `from`'s end to `to` was enabled or disabled.
    pub fn set(&mut self, from: usize, to: usize, up: bool) {
        self.up[from][to] = up;
    }

    /// Server `from` has fresh ends, none enabled.
    pub fn fresh_ends(&mut self, from: usize) {
        self.up[from].fill(false);
    }

    /// Records, for every server whose links changed since the last call, the servers its
    /// ends reach now.
    pub fn record(&mut self) {
        for (i, row) in self.up.iter().enumerate() {
            let unchanged = self.recorded[i].as_ref().is_some_and(|reaches| {
                reaches.len()
                    == row
                        .iter()
                        .enumerate()
                        .filter(|&(j, &up)| up && j != i)
                        .count()
                    && reaches.iter().all(|&j| row[j])
            });
            if unchanged {
                continue;
            }
            let reaches: Vec<usize> = (0..row.len()).filter(|&j| j != i && row[j]).collect();
            record(Kind::Links {
                server: server_name(i),
                reaches: reaches.iter().map(|&j| server_name(j)).collect(),
            });
            self.recorded[i] = Some(reaches);
        }
    }
}

/// A client's operation returned: `text` says what it asked and got.
pub fn op(client: usize, call_ns: u64, text: String) {
    op_on_row(format!("C{client}"), call_ns, text);
}

/// An operation of a clerk whose calls the history does not record (a test's helper
/// clerk), on a row of its own, `row`: the timeline draws every clerk's calls.
pub fn op_on_row(row: String, call_ns: u64, text: String) {
    record(Kind::Op {
        client: row,
        call: call_ns,
        text,
    });
}

/// A file that says more about this run (`text` says what).
pub fn link(text: impl Into<String>, path: &std::path::Path) {
    record(Kind::Link {
        text: text.into(),
        path: path.display().to_string(),
    });
}
