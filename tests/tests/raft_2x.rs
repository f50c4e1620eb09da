//! The 2X tests (Raft beyond the course: faults at the worst moments), one `#[test]` each,
//! made by the registry in `tests::suites`; the bodies are in `tests/src/suites/raft_2x.rs`.

tests::raft_2x!();
