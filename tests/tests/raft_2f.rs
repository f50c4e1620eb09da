//! The 2F tests (Raft beyond the course: single-server membership changes), one `#[test]`
//! each, made by the registry in `tests::suites`; the bodies are in
//! `tests/src/suites/raft_2f.rs`.

tests::raft_2f!();
