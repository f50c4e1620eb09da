//! The 2E tests (Raft beyond the course: the leader's no-op, Pre-Vote, CheckQuorum and
//! leadership transfer), one `#[test]` each, made by the registry in `tests::suites`; the
//! bodies are in `tests/src/suites/raft_2e.rs`.

tests::raft_2e!();
