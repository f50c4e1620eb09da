//! The 3C tests (the key/value service beyond the course: Gets by ReadIndex, a cluster
//! that changes its members), one `#[test]` each, made by the registry in `tests::suites`;
//! the bodies are in `tests/src/suites/kv_3c.rs`.

tests::kv_3c!();
