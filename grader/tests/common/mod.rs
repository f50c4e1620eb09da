//! Helpers shared by the tests that make handouts and grade submissions.

#![allow(dead_code)] // each test binary uses its own share

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The instructors' tree these tests run in.
pub fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// The workspace's target directory (`$CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tree().join("target"))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grader-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs the grader with `args`.
pub fn grader(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .output()
        .expect("the grader runs")
}

/// Stdout and stderr of `output`, for messages.
pub fn both(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes the students' tree to `dir` with `grader handout`.
pub fn write_handout(dir: &Path) {
    let output = grader(&["handout".as_ref(), dir.as_os_str()]);
    assert!(output.status.success(), "grader handout: {}", both(&output));
}

/// Every file under `dir`, relative and `/`-separated.
pub fn files_under(dir: &Path) -> Vec<String> {
    let listing = grader::files::walk(dir).expect("a readable tree");
    listing.files
}

/// Copies the directory `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for file in files_under(from) {
        grader::files::copy_file(&from.join(&file), &to.join(&file)).expect("a copy");
    }
}

/// Grades `submission` with `grader grade … --json REPORT` and `args`; returns the report
/// and the grader's output. `--allow-dirty`: these tests also run in a working tree with
/// changes.
pub fn grade_submission(
    submission: &Path,
    report: &Path,
    args: &[&str],
) -> (grader::report::Report, String) {
    let mut all: Vec<&std::ffi::OsStr> = vec![
        "grade".as_ref(),
        submission.as_os_str(),
        "--allow-dirty".as_ref(),
    ];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    all.extend(["--json".as_ref(), report.as_os_str()]);
    let output = grader(&all);
    let text = both(&output);
    let report = grader::grade::read_report(report)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {text}"));
    (report, text)
}
