//! What the harnesses record for the run's timeline and log columns (see
//! `labrpc::tester::record`): phases, checks, links, servers' states, clients' operations.
//! Each function records one event, now, on the tester's side.

use labrpc::tester::Network;
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

/// The links between servers may have changed: records, for every server `i` whose links
/// differ from `recorded[i]` (what was recorded last, updated here), the servers its ends
/// `end_names[i][j]` reach now (enabled ends; a server with no ends reaches none).
pub fn links(net: &Network, end_names: &[Vec<String>], recorded: &mut Vec<Option<Vec<String>>>) {
    recorded.resize(end_names.len(), None);
    for (i, ends) in end_names.iter().enumerate() {
        let reaches: Vec<String> = ends
            .iter()
            .enumerate()
            .filter(|&(j, end)| j != i && net.is_enabled(end))
            .map(|(j, _)| server_name(j))
            .collect();
        if recorded[i].as_ref() != Some(&reaches) {
            recorded[i] = Some(reaches.clone());
            record(Kind::Links {
                server: server_name(i),
                reaches,
            });
        }
    }
}

/// A client's operation returned: `text` says what it asked and got.
pub fn op(client: usize, call_ns: u64, text: String) {
    record(Kind::Op {
        client: format!("C{client}"),
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
