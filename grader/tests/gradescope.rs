//! `grader gradescope DIR`: the autograder bundle, run as Gradescope runs it, against a
//! fake `/autograder` layout (`AUTOGRADER_ROOT`), and its `results.json` validated.

mod common;

use common::{both, grader, scratch, target_dir, tree};

#[test]
fn run_autograder_grades_a_submission_into_results_json() {
    let dir = scratch("gradescope");
    let bundle = dir.join("root/source");
    let output = grader(&[
        "gradescope".as_ref(),
        bundle.as_os_str(),
        "--".as_ref(),
        "--part".as_ref(),
        "2a".as_ref(),
        "--seeds".as_ref(),
        "2".as_ref(),
    ]);
    assert!(output.status.success(), "{}", both(&output));
    for file in ["setup.sh", "run_autograder", "rust-toolchain.toml"] {
        assert!(bundle.join(file).is_file(), "{file} is missing");
    }
    assert!(
        !bundle.join("raft/src/reference").exists(),
        "the reference is in the bundle"
    );
    let syntax = std::process::Command::new("bash")
        .args(["-n", "setup.sh"])
        .current_dir(&bundle)
        .status()
        .expect("bash runs");
    assert!(syntax.success(), "setup.sh is not valid bash");
    // The student's upload: the untouched skeleton.
    let submission = dir.join("root/submission");
    common::copy_dir(
        &tree().join("raft/src/skeleton"),
        &submission.join("raft/src/skeleton"),
    );
    // The bundle's own rust-toolchain.toml pins the toolchain this test runs with, so
    // rustup does not fetch anything; the workspace's target directory keeps the
    // dependencies compiled.
    common::copy_dependencies_for_grading();
    let run = std::process::Command::new(bundle.join("run_autograder"))
        .env("AUTOGRADER_ROOT", dir.join("root"))
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run_autograder runs");
    let text = both(&run);
    assert!(run.status.success(), "{text}");
    let results = std::fs::read_to_string(dir.join("root/results/results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}): {text}"));
    let json: serde_json::Value = serde_json::from_str(&results).expect("results.json is JSON");
    assert_eq!(json["score"], 0, "{results}");
    let tests = json["tests"].as_array().expect("a tests array");
    assert_eq!(tests.len(), 3, "{results}");
    let mut numbers: Vec<&str> = tests.iter().filter_map(|t| t["number"].as_str()).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "numbers are unique: {results}");
    for test in tests {
        assert_eq!(test["score"], 0, "{test}");
        assert_eq!(test["max_score"], 6, "{test}");
        assert!(
            test["name"].as_str().is_some_and(|n| n.contains("2a")),
            "{test}"
        );
    }
}
