//! The 4C tests (the course's Lab 4 challenges), one `#[test]` each, made by the
//! registry in `tests::suites`; the bodies are in `tests/src/suites/shardkv_4c.rs`.

tests::shardkv_4c!();
