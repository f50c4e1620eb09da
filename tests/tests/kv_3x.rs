//! The 3X tests (the key/value service beyond the course: faults at the worst moments),
//! one `#[test]` each, made by the registry in `tests::suites`; the bodies are in
//! `tests/src/suites/kv_3x.rs`.

tests::kv_3x!();
