//! The 3B tests, one `#[test]` each, made by the registry in `tests::suites`; the bodies
//! are in `tests/src/suites/kv_3b.rs`.

tests::kv_3b!();
