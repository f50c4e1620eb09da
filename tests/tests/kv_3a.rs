//! The 3A tests, one `#[test]` each, made by the registry in `tests::suites`; the bodies
//! are in `tests/src/suites/kv_3a.rs`.

tests::kv_3a!();
