//! The grader end to end: it builds the tests, grades the reference with full points and the
//! skeleton with none (each test with its reason), writes reports in the documented formats,
//! and shards merged give the grade of one run (and a shard missing or repeated, none).
//!
//! Each test runs the grader binary, which builds the release test binaries once (later
//! runs find them built).

use std::path::{Path, PathBuf};
use std::process::Command;

use grader::report::Report;

/// Runs the grader with `args` plus JSON, Gradescope and JUnit output in `dir`; returns the
/// JSON report.
fn grade(dir: &Path, args: &[&str]) -> Report {
    std::fs::create_dir_all(dir).expect("a report directory");
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .arg("--json")
        .arg(dir.join("report.json"))
        .arg("--gradescope")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--markdown")
        .arg(dir.join("summary.md"))
        .output()
        .expect("the grader runs");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("Grade: "),
        "no table; stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    grader::grade::read_report(&dir.join("report.json")).expect("a JSON report")
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("grader-e2e-{}-{name}", std::process::id()))
}

#[test]
fn the_reference_gets_full_points_and_the_reports_have_their_fields() {
    let dir = scratch("reference");
    let report = grade(
        &dir,
        &[
            "--reference",
            "--test",
            "initial_election_2a",
            "--test",
            "figure8_2c",
            "--seeds",
            "6",
        ],
    );
    assert_eq!((report.score, report.max_score), (9, 9), "{report:#?}");
    assert!(report.header.reference && report.header.implementation.contains("reference"));
    for test in &report.tests {
        assert_eq!(
            (test.passed, test.planned, test.run),
            (6, 6, 6),
            "{}",
            test.name
        );
        assert!(test.median_virtual_ns.is_some() && test.first_failure.is_none());
    }

    // Gradescope: score, and tests with name, score, max_score, output, visibility.
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    let gradescope: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(gradescope["score"], 9);
    let tests = gradescope["tests"].as_array().expect("a tests array");
    assert_eq!(tests.len(), 2);
    for test in tests {
        for field in ["name", "output", "visibility"] {
            assert!(test[field].is_string(), "{field} in {test}");
        }
        assert!(
            test["score"].is_number() && test["max_score"].is_number(),
            "{test}"
        );
        assert_eq!(test["score"], test["max_score"]);
    }

    // JUnit: well-formed, one testcase per test, no failures.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert!(!document.descendants().any(|n| n.has_tag_name("failure")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_skeleton_gets_no_points_each_test_with_its_reason() {
    let dir = scratch("skeleton");
    let report = grade(&dir, &["--part", "2a", "--seeds", "3"]);
    assert_eq!((report.score, report.max_score), (0, 18));
    assert!(!report.header.reference && report.header.implementation.contains("skeleton"));
    for test in &report.tests {
        let failure = test.first_failure.as_ref().expect("a failure");
        assert_eq!(failure.seed, 1, "{}", test.name);
        assert!(!failure.message.is_empty() && failure.replay.contains("LAB_SEED=1 cargo test"));
    }
    // JUnit: each test a failure with its message and replay command.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let failures: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 3);
    for failure in failures {
        assert!(
            failure
                .attribute("message")
                .is_some_and(|m| m.contains("seed 1"))
        );
        assert!(
            failure
                .text()
                .is_some_and(|t| t.contains("replay: LAB_SEED=1"))
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_merged_give_the_grade_of_one_run() {
    let dir = scratch("shards");
    let args = ["--reference", "--part", "2a", "--seeds", "5"];
    let whole = grade(&dir.join("whole"), &args);
    let mut paths = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let shard_dir = dir.join(shard.replace('/', "of"));
        let mut shard_args = args.to_vec();
        shard_args.extend(["--shard", shard]);
        grade(&shard_dir, &shard_args);
        paths.push(shard_dir.join("report.json"));
    }
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("merge")
        .args(&paths)
        .arg("--json")
        .arg(dir.join("merged.json"))
        .output()
        .expect("grader merge runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = grader::grade::read_report(&dir.join("merged.json")).expect("merged report");
    // CPU times differ from run to run; everything else must agree.
    let without_cpu = |mut report: Report| {
        for test in &mut report.tests {
            test.median_cpu_ns = None;
            for seed in &mut test.seeds {
                if let grader::outcome::Outcome::Pass { cpu_ns, .. } = &mut seed.outcome {
                    *cpu_ns = None;
                }
            }
        }
        report
    };
    assert_eq!(without_cpu(merged), without_cpu(whole));
    // Two shards of three, or one of them twice, are refused (exit status 2), naming the
    // shard; so is the whole run's report, which is no shard.
    let whole_json = dir.join("whole").join("report.json");
    for (given, says) in [
        (vec![&paths[0], &paths[2]], "shard 2/3 is missing"),
        (
            vec![&paths[0], &paths[1], &paths[2], &paths[0]],
            "shard 1/3 is given twice",
        ),
        (vec![&whole_json, &paths[0]], "is the report of a whole run"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_grader"))
            .arg("merge")
            .args(given)
            .output()
            .expect("grader merge runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `grader swarm` stops at the first failing seed and prints the command that replays it
/// under the same fault plan.
#[test]
fn swarm_stops_at_the_first_failure_with_its_replay_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args([
            "swarm",
            "--test",
            "initial_election_2a",
            "--seed",
            "11",
            "--round",
            "2",
            "--for",
            "120s",
        ])
        .output()
        .expect("the grader runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("initial_election_2a failed on seed 11 under a swarm fault plan"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "replay:  LAB_SWARM=1 LAB_SEED=11 cargo test --release -p tests -- --exact \
             initial_election_2a"
        ),
        "{stdout}"
    );
}

/// An instructor's rubric overrides the catalogue's points, test by test or part by part.
#[test]
fn a_rubric_overrides_the_catalogues_points() {
    let dir = scratch("rubric");
    std::fs::create_dir_all(&dir).unwrap();
    let rubric = dir.join("rubric.toml");
    std::fs::write(
        &rubric,
        "[parts]\n2a = 5\n[tests]\ninitial_election_2a = 10\n",
    )
    .unwrap();
    let report = grade(
        &dir,
        &[
            "--reference",
            "--part",
            "2a",
            "--seeds",
            "2",
            "--rubric",
            rubric.to_str().unwrap(),
        ],
    );
    let points: Vec<(&str, u32)> = report
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.max_score))
        .collect();
    assert_eq!(
        points,
        [
            ("initial_election_2a", 10),
            ("re_election_2a", 5),
            ("many_elections_2a", 5)
        ]
    );
    assert_eq!((report.score, report.max_score), (20, 20));
}
