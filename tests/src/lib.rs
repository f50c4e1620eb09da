//! The tester harness for the labs, ported from the course's `config.go`, and the suites.
//!
//! The test bodies live in [`suites`]; each test is listed once, in the `catalogue` crate,
//! and a [`registry!`](macro@registry) binds the list to the bodies, making [`suites::RAFT`] and the
//! `#[test]` functions in `tests/tests/`, named with their part as a suffix
//! (`initial_election_2a`), so that `cargo test -p tests 2a` runs one part.
// instructors
//!
//! Cargo features choose what the tests run against: by default the student's code; with
//! `raft-reference` the reference Raft; with `kvraft-reference` the reference rsm and KV
//! service; with `shardkv-reference` the reference Lab 4; with `reference` every reference
//! implementation.
// /instructors

pub mod ends;
pub mod events;
mod fault_plans;
pub mod kv_harness;
mod monitors;
pub mod raft_harness;
pub mod registry;
pub mod shard_harness;
pub mod suites;

use registry::TestCase;

pub use catalogue::TEST_TIME_LIMIT;

/// Runs a registered test in the simulation, over the seeds the environment asks for
/// (`LAB_SEED`, `LAB_RUNS`, `LAB_CHECK_DETERMINISM`; see the README). Its report says which
/// implementation ran, and a failure prints the command that replays it with this build's
/// features.
pub fn run(case: &TestCase) {
    labrpc::tester::Sim::builder()
        .test_name(case.name)
        .cargo_args(replay_cargo_args())
        .time_limit(case.time_limit)
        .run_test(|| {
            labrpc::tester::say(format!("raft: {}", raft_implementation()));
            if !case.part.starts_with('2') {
                labrpc::tester::say(format!("kvraft: {}", kvraft_implementation()));
            }
            if case.part.starts_with('4') {
                labrpc::tester::say(format!("shardkv: {}", shardkv_implementation()));
            }
            (case.body)()
        });
}

/// Which Raft this build runs, in words.
pub fn raft_implementation() -> &'static str {
    if raft::IS_REFERENCE {
        "reference implementation (raft/src/reference)"
    } else {
        "your code (raft/src/skeleton)"
    }
}

/// Which rsm and KV service this build runs, in words.
pub fn kvraft_implementation() -> &'static str {
    if kvraft::IS_REFERENCE {
        "reference implementation (kvraft/src/reference)"
    } else if kvraft::IS_RSM_REFERENCE {
        "the reference rsm (kvraft/src/reference_rsm.rs) under your KV service (kvraft/src/skeleton)"
    } else {
        "your code (kvraft/src/skeleton)"
    }
}

/// Which shard controller and sharded KV service this build runs, in words.
pub fn shardkv_implementation() -> &'static str {
    if shardkv::IS_REFERENCE {
        "reference implementation (shardkv/src/reference)"
    } else {
        "your code (shardkv/src/skeleton)"
    }
}

/// What `cargo test` needs before `--` to rebuild this very test binary: the profile, the
/// package and the features it was built with.
fn replay_cargo_args() -> String {
    let mut args = Vec::new();
    if !cfg!(debug_assertions) {
        args.push("--release");
    }
    args.extend(["-p", "tests"]);
    // instructors: the students' tree has no reference features.
    // `raft::IS_REFERENCE` alone: built with `--features raft/reference` (and so for kvraft).
    let features: Vec<&str> = [
        (raft::IS_REFERENCE, "raft-reference"),
        (kvraft::IS_REFERENCE, "kvraft-reference"),
        (
            kvraft::IS_RSM_REFERENCE && !kvraft::IS_REFERENCE,
            "rsm-reference",
        ),
        (shardkv::IS_REFERENCE, "shardkv-reference"),
    ]
    .into_iter()
    .filter_map(|(on, feature)| on.then_some(feature))
    .collect();
    let features = match features.len() {
        0 => String::new(),
        3 => "reference".to_owned(),
        _ => features.join(","),
    };
    if !features.is_empty() {
        args.extend(["--features", features.as_str()]);
    }
    // /instructors
    args.join(" ")
}
