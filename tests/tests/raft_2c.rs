//! The 2C tests (persistence), one `#[test]` each, made by the registry in
//! `tests::suites`; the bodies are in `tests/src/suites/raft_2c.rs`.

tests::raft_2c!();
