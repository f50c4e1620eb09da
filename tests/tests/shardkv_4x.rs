//! The 4X tests (the sharded service beyond the course), one `#[test]` each, made by the
//! registry in `tests::suites`; the bodies are in `tests/src/suites/shardkv_4x.rs`.

tests::shardkv_4x!();
