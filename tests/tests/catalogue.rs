//! The catalogue of tests that the benchmark (and later the grader) runs matches the suites.

use std::collections::BTreeSet;

use tests::suites::RAFT;

#[test]
fn raft_catalogue_lists_every_test_once_with_its_part() {
    let names: BTreeSet<&str> = RAFT.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), RAFT.len(), "a test is listed twice");
    for part in ["2a", "2b", "2c", "2d"] {
        let count = RAFT.iter().filter(|c| c.part == part).count();
        let expected = match part {
            "2a" => 3,
            "2b" => 10,
            "2c" => 8,
            _ => 7,
        };
        assert_eq!(
            count, expected,
            "part {part} has {count} tests, expected {expected}"
        );
    }
    for case in RAFT {
        assert!(
            case.name.ends_with(&format!("_{}", case.part)),
            "{} does not end with its part {}",
            case.name,
            case.part
        );
    }
}
