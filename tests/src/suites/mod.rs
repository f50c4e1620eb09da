//! The test suites, as plain async functions, and their registry.
//!
//! Each test is listed once, in the `catalogue` crate (with its points: the rubric is
//! documented there); the registry (see [`crate::registry`](mod@crate::registry)) binds each
//! listed name to its body here, making [`RAFT`], [`KV`] and the `#[test]` functions in
//! `tests/tests/`. A listed test whose body is missing from its part's module does not
//! compile.

pub mod kv_3a;
pub mod kv_3b;
pub mod kv_3c;
pub mod kv_3x;
pub mod raft_2a;
pub mod raft_2b;
pub mod raft_2c;
pub mod raft_2d;
pub mod raft_2e;
pub mod raft_2f;
pub mod raft_2x;
pub mod rsm;
pub mod shardctrler_4a;
pub mod shardkv_4b;
pub mod shardkv_4c;
pub mod shardkv_4x;

use crate::registry::TestCase;

catalogue::raft_suite!(crate::registry);
catalogue::strict_suite!(crate::registry);
catalogue::kv_suite!(crate::registry);
catalogue::shard_suite!(crate::registry);

/// Every registered test of every suite: Lab 2, the Raft tests beyond the course (2X, 2E,
/// 2F), Lab 3, then Lab 4.
pub fn all() -> impl Iterator<Item = &'static TestCase> {
    RAFT.iter().chain(STRICT).chain(KV).chain(SHARD)
}

/// The registered test named `name` (e.g. `"initial_election_2a"`).
///
/// # Panics
///
/// If no test has that name.
pub fn case(name: &str) -> &'static TestCase {
    all()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no registered test is named {name:?}"))
}
