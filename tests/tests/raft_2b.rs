//! The 2B tests (log replication), one `#[test]` each, made by the registry in
//! `tests::suites`; the bodies are in `tests/src/suites/raft_2b.rs`.

tests::raft_2b!();
