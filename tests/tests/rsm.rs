//! The RSM tests, one `#[test]` each, made by the registry in `tests::suites`; the bodies
//! are in `tests/src/suites/rsm.rs`.

tests::rsm!();
