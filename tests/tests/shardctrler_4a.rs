//! The 4A tests (the shard controller), one `#[test]` each, made by the
//! registry in `tests::suites`; the bodies are in `tests/src/suites/shardctrler_4a.rs`.

tests::shardctrler_4a!();
