//! The catalogue, which the grader reads, is complete and consistent, the registry (which the
//! benchmark and the `#[test]`s read) agrees with it, and every registered part has its
//! `#[test]` functions.

use std::collections::BTreeSet;
use std::time::Duration;

use tests::registry::TestCase;
use tests::suites::{KV, RAFT, SHARD, STRICT};

/// The course's parts and how many tests each has.
const COURSE_PARTS: [(&str, usize); 4] = [("2A", 3), ("2B", 10), ("2C", 8), ("2D", 7)];

/// Lab 3's parts (the rsm layer's, from the 2025 course, then 3A and 3B, then 3X beyond
/// the course) and their counts.
const KV_PARTS: [(&str, usize); 5] = [("RSM", 8), ("3A", 14), ("3B", 9), ("3X", 4), ("3C", 5)];

/// Lab 4's parts (the course's 4A and 4B, its challenges as 4C, then 4X beyond the course)
/// and their counts.
const SHARD_PARTS: [(&str, usize); 4] = [("4A", 2), ("4B", 10), ("4C", 3), ("4X", 6)];

#[test]
fn raft_catalogue_lists_the_course_tests_once_each_in_order() {
    let names: BTreeSet<&str> = RAFT.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), RAFT.len(), "a test is registered twice");
    let course_names: BTreeSet<&str> = RAFT.iter().map(|c| c.course_name).collect();
    assert_eq!(
        course_names.len(),
        RAFT.len(),
        "two tests have the same course name"
    );
    let parts: Vec<&str> = RAFT.iter().map(|c| c.part).collect();
    let expected: Vec<&str> = COURSE_PARTS
        .iter()
        .flat_map(|&(part, count)| std::iter::repeat_n(part, count))
        .collect();
    assert_eq!(
        parts, expected,
        "the parts, in order, with the course's test counts"
    );
}

#[test]
fn the_raft_tests_beyond_the_course_are_parts_2x_2e_and_2f_without_course_names() {
    assert!(!STRICT.is_empty());
    for case in STRICT {
        assert!(["2X", "2E", "2F"].contains(&case.part), "{}", case.name);
        assert_eq!(case.course_name, "", "{}: not a course test", case.name);
        let suffix = format!("_{}", case.part.to_lowercase());
        assert!(case.name.ends_with(&suffix), "{}", case.name);
    }
    let registered: Vec<catalogue::Test> = STRICT.iter().map(|case| case.test).collect();
    assert_eq!(registered, catalogue::STRICT);
}

#[test]
fn kv_catalogue_lists_the_course_tests_once_each_in_order() {
    let names: BTreeSet<&str> = KV.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), KV.len(), "a test is registered twice");
    let parts: Vec<&str> = KV.iter().map(|c| c.part).collect();
    let expected: Vec<&str> = KV_PARTS
        .iter()
        .flat_map(|&(part, count)| std::iter::repeat_n(part, count))
        .collect();
    assert_eq!(
        parts, expected,
        "the parts, in order, with their test counts"
    );
    let total: u32 = KV
        .iter()
        .filter(|c| !["3X", "3C"].contains(&c.part))
        .map(|c| c.points)
        .sum();
    assert_eq!(total, 100, "Lab 3 is worth 100 points, 3X and 3C beyond it");
}

#[test]
fn the_kv_tests_beyond_the_course_are_parts_3x_and_3c_without_course_names() {
    let beyond: Vec<&TestCase> = KV.iter().filter(|c| c.course_name.is_empty()).collect();
    assert!(!beyond.is_empty());
    for case in beyond {
        assert!(["3X", "3C"].contains(&case.part), "{}", case.name);
        let suffix = format!("_{}", case.part.to_lowercase());
        assert!(case.name.ends_with(&suffix), "{}", case.name);
    }
    for case in KV.iter().filter(|c| ["3X", "3C"].contains(&c.part)) {
        assert_eq!(case.course_name, "", "{}: not a course test", case.name);
    }
}

#[test]
fn shard_catalogue_lists_the_course_tests_once_each_in_order() {
    let names: BTreeSet<&str> = SHARD.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), SHARD.len(), "a test is registered twice");
    let course: Vec<&TestCase> = SHARD.iter().filter(|c| c.part != "4X").collect();
    let course_names: BTreeSet<&str> = course.iter().map(|c| c.course_name).collect();
    assert_eq!(
        course_names.len(),
        course.len(),
        "two tests have one course name"
    );
    assert!(course.iter().all(|c| c.course_name.starts_with("Test")));
    assert!(
        SHARD
            .iter()
            .filter(|c| c.part == "4X")
            .all(|c| c.course_name.is_empty())
    );
    let parts: Vec<&str> = SHARD.iter().map(|c| c.part).collect();
    let expected: Vec<&str> = SHARD_PARTS
        .iter()
        .flat_map(|&(part, count)| std::iter::repeat_n(part, count))
        .collect();
    assert_eq!(
        parts, expected,
        "the parts, in order, with their test counts"
    );
    let total: u32 = SHARD
        .iter()
        .filter(|c| !["4C", "4X"].contains(&c.part))
        .map(|c| c.points)
        .sum();
    assert_eq!(total, 100, "Lab 4 is worth 100 points, 4C and 4X beyond it");
    let registered: Vec<catalogue::Test> = SHARD.iter().map(|case| case.test).collect();
    assert_eq!(registered, catalogue::SHARD);
}

#[test]
fn the_registry_has_the_catalogue_entries_in_order() {
    let registered: Vec<catalogue::Test> = RAFT.iter().map(|case| case.test).collect();
    assert_eq!(
        registered,
        catalogue::RAFT,
        "the registry and the catalogue differ"
    );
    let registered: Vec<catalogue::Test> = KV.iter().map(|case| case.test).collect();
    assert_eq!(
        registered,
        catalogue::KV,
        "the registry and the catalogue differ"
    );
    let all: Vec<&str> = tests::suites::all().map(|c| c.name).collect();
    let listed: Vec<&str> = catalogue::all().map(|t| t.name).collect();
    assert_eq!(
        all, listed,
        "the registry and the catalogue list different tests"
    );
}

#[test]
fn raft_points_are_equal_within_a_part_and_total_100() {
    for (part, _) in COURSE_PARTS {
        let points: BTreeSet<u32> = RAFT
            .iter()
            .filter(|c| c.part == part)
            .map(|c| c.points)
            .collect();
        assert_eq!(
            points.len(),
            1,
            "the tests of part {part} are worth different points: {points:?}"
        );
    }
    let total: u32 = RAFT.iter().map(|c| c.points).sum();
    assert_eq!(total, 100, "Lab 2 is worth 100 points");
}

#[test]
fn tests_have_the_course_time_limit_and_a_one_line_description() {
    for case in tests::suites::all() {
        assert_eq!(case.time_limit, Duration::from_secs(120), "{}", case.name);
        let description = case.description;
        assert!(
            !description.is_empty() && !description.contains('\n') && description.ends_with('.'),
            "{}: the description must be one sentence on one line: {description:?}",
            case.name
        );
    }
}

/// A part registered without its file in `tests/tests/` would have no `#[test]`s: each
/// part's file (named after its target, e.g. `raft_2a.rs`) must invoke the part's macro, and
/// every file there but this one must be a part's.
#[test]
fn every_part_has_its_test_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let targets: BTreeSet<&str> = tests::suites::all().map(|c: &TestCase| c.target).collect();
    // Besides the parts: these checks, and the log reader's tests.
    let mut expected = BTreeSet::from(["catalogue.rs".to_owned(), "logs_reader.rs".to_owned()]);
    for target in targets {
        let path = format!("{dir}/{target}.rs");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("part {target} needs {path}, invoking tests::{target}!(): {e}")
        });
        assert!(
            source.contains(&format!("tests::{target}!();")),
            "{path} must invoke tests::{target}!() to get the part's #[test]s"
        );
        expected.insert(format!("{target}.rs"));
    }
    let found: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("tests/tests is readable")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    assert_eq!(
        found, expected,
        "tests/tests/: one file per registered part, each generated by the registry"
    );
}
