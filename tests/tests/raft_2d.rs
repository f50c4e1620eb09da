//! The 2D tests (log compaction: snapshots), one `#[test]` each, made by the registry in
//! `tests::suites`; the bodies are in `tests/src/suites/raft_2d.rs`.

tests::raft_2d!();
