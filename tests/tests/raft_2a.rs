//! The 2A tests (leader election), one `#[test]` each, made by the registry in
//! `tests::suites`; the bodies are in `tests/src/suites/raft_2a.rs`.

tests::raft_2a!();
