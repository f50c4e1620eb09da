//! `grader grade SUBMISSION`: only the student-editable files of a submission are graded,
//! over the pristine students' tree; the rest is listed as ignored and has no effect.
//!
//! Submissions build in `target/grade/`, shared by the two tests (a lock makes one wait
//! for the other): the first build there compiles the dependencies (about a minute on two
//! cores), later ones the workspace's crates alone.

mod common;

use std::path::Path;

use common::{both, grader, scratch, tree, write_handout};
use grader::report::Report;

/// Grades `submission` with `args`; returns the report and the terminal's output.
fn grade(submission: &Path, report: &Path, args: &[&str]) -> (Report, String) {
    let (report, text) = common::grade_submission(submission, report, args);
    assert!(text.contains("Grade: "), "no grade: {text}");
    (report, text)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("a file to edit");
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("an edited file");
}

#[test]
fn edited_tests_and_manifests_are_ignored() {
    let dir = scratch("submission-edits");
    let submission = dir.join("alice");
    write_handout(&submission);
    // A test that would pass at once on the skeleton, and a manifest asking for the
    // reference's feature back: neither may count.
    edit(
        &submission.join("tests/src/suites/raft_2a.rs"),
        "pub(crate) async fn initial_election_2a() {",
        "pub(crate) async fn initial_election_2a() {\n    if true {\n        return;\n    }",
    );
    edit(
        &submission.join("raft/Cargo.toml"),
        "[dependencies]",
        "[features]\nreference = []\n\n[dependencies]",
    );
    let (report, text) = grade(
        &submission,
        &dir.join("report.json"),
        &["--test", "initial_election_2a", "--seeds", "2"],
    );
    let taken = report
        .header
        .submission
        .as_ref()
        .expect("a submission field");
    assert_eq!(
        taken.ignored,
        ["raft/Cargo.toml", "tests/src/suites/raft_2a.rs"],
        "{text}"
    );
    assert_eq!(
        taken.taken,
        [
            "kvraft/src/skeleton/client.rs",
            "kvraft/src/skeleton/common.rs",
            "kvraft/src/skeleton/mod.rs",
            "kvraft/src/skeleton/rsm.rs",
            "kvraft/src/skeleton/server.rs",
            "raft/src/skeleton/mod.rs",
            "raft/src/skeleton/rpc.rs",
            "shardkv/src/skeleton/client.rs",
            "shardkv/src/skeleton/common.rs",
            "shardkv/src/skeleton/ctrler.rs",
            "shardkv/src/skeleton/ctrler_client.rs",
            "shardkv/src/skeleton/mod.rs",
            "shardkv/src/skeleton/server.rs"
        ]
    );
    assert!(
        text.contains("ignored 2 submitted file(s)")
            && text.contains("tests/src/suites/raft_2a.rs"),
        "{text}"
    );
    // The pristine test ran: the skeleton elects no leader.
    assert_eq!((report.score, report.max_score), (0, 6), "{text}");
    assert!(
        !report.header.reference && report.build_error.is_none(),
        "{text}"
    );
    let failure = report.tests[0].first_failure.as_ref().expect("a failure");
    assert!(
        failure.message.contains("expected one leader, got none"),
        "{failure:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_skeleton_directory_is_taken_whole_one_directory_down() {
    let dir = scratch("submission-reference");
    // An unpacked upload: a folder holding only the student's `raft/src/skeleton/`, here
    // the reference's files, plus a file of the student's own.
    let skeleton = dir
        .join("upload")
        .join("bob-raft")
        .join("raft/src/skeleton");
    common::copy_dir(&tree().join("raft/src/reference"), &skeleton);
    std::fs::write(skeleton.join("notes.rs"), "// my notes\n").expect("a file");
    let (report, text) = grade(
        &dir.join("upload"),
        &dir.join("report.json"),
        &["--part", "2a", "--seeds", "2"],
    );
    let taken = report
        .header
        .submission
        .as_ref()
        .expect("a submission field");
    assert!(taken.ignored.is_empty(), "{text}");
    assert!(
        taken
            .taken
            .contains(&"raft/src/skeleton/notes.rs".to_owned())
            && taken
                .taken
                .contains(&"raft/src/skeleton/election.rs".to_owned()),
        "{:?}",
        taken.taken
    );
    // Graded as the student's code, and it is a complete Raft.
    assert!(!report.header.reference, "{text}");
    assert_eq!((report.score, report.max_score), (18, 18), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `grader grade --rsm-reference` (Lab 4 on the reference rsm and Raft): the submission's
/// sharded KV, here the reference's files, is built over the reference rsm and Raft, and
/// graded on Lab 4's parts alone.
#[test]
fn lab_4_is_graded_on_the_reference_rsm_and_raft() {
    let dir = scratch("submission-rsm-reference");
    let submission = dir.join("carol");
    common::copy_dir(
        &tree().join("shardkv/src/reference"),
        &submission.join("shardkv/src/skeleton"),
    );
    let (report, text) = grade(
        &submission,
        &dir.join("report.json"),
        &["--rsm-reference", "--part", "4a", "--seeds", "2"],
    );
    assert!(report.build_error.is_none(), "{text}");
    assert!(
        report
            .header
            .implementation
            .contains("on the reference rsm and Raft"),
        "{text}"
    );
    assert_eq!((report.score, report.max_score), (20, 20), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_or_misshapen_submission_is_a_clear_error() {
    let dir = scratch("submission-errors");
    let missing = dir.join("nowhere");
    let output = grader(&["grade".as_ref(), missing.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));

    let misshapen = dir.join("flat");
    std::fs::create_dir_all(&misshapen).expect("a directory");
    std::fs::write(misshapen.join("mod.rs"), "// uploaded without its path\n").expect("a file");
    let output = grader(&["grade".as_ref(), misshapen.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("has no kvraft/src/skeleton/ or raft/src/skeleton/ or shardkv/src/skeleton/"),
        "{}",
        both(&output)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
