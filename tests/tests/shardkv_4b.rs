//! The 4B tests (the sharded key/value service), one `#[test]` each, made by the
//! registry in `tests::suites`; the bodies are in `tests/src/suites/shardkv_4b.rs`.

tests::shardkv_4b!();
