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
    copy_dependencies_for_grading();
    let output = grader(&all);
    let text = both(&output);
    let report = grader::grade::read_report(report)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {text}"));
    (report, text)
}

/// Gives `grader grade`'s target directory (`target/grade/`) the release builds of the
/// dependencies the workspace's target directory has (see [`copy_dependency_artifacts`]):
/// once a process, before its first grade.
pub fn copy_dependencies_for_grading() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let grade = grader::compile::submissions_target_dir(&tree());
        copy_dependency_artifacts("release", &grade.join("release"));
    });
}

/// Copies the build artifacts of the dependencies from the workspace's target directory,
/// profile directory `profile` (`debug`, `release`), to the profile directory `to` of
/// another target directory, keeping their modification times, so that cargo finds them
/// fresh there: a test that builds a copy of the tree (a handout, a submission's pristine
/// tree) in a target directory of its own then compiles the lab crates alone, not every
/// dependency again (minutes on a small machine).
///
/// The dependencies are the crates.io packages `Cargo.lock` lists and the framework's own
/// crates (every workspace package but the lab's, [`grader::compile::LAB_PACKAGES`]): a
/// copy of the tree has the framework's files unchanged, with their times (the handout
/// keeps them), so cargo takes their artifacts exactly when it would in this tree. The lab
/// crates are never copied (a copy builds them from its own files), nor what `to` has
/// already. A dependency missing here (not built yet, or with other features) is simply
/// compiled there, as without the copy.
pub fn copy_dependency_artifacts(profile: &str, to: &Path) {
    let from = target_dir().join(profile);
    let lock = std::fs::read_to_string(tree().join("Cargo.lock")).expect("Cargo.lock");
    let lock: toml::Table = lock.parse().expect("Cargo.lock is TOML");
    let dependencies: std::collections::BTreeSet<String> = lock["package"]
        .as_array()
        .expect("Cargo.lock's packages")
        .iter()
        .filter_map(|package| package.get("name")?.as_str())
        .filter(|name| !grader::compile::LAB_PACKAGES.contains(name))
        .map(|name| name.replace('-', "_"))
        .collect();
    for dir in ["deps", "build", ".fingerprint"] {
        let Ok(entries) = std::fs::read_dir(from.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dependency =
                artifact_crate(&name).is_some_and(|krate| dependencies.contains(&krate));
            let target = to.join(dir).join(&name);
            if is_dependency && !target.exists() {
                copy_keeping_times(&entry.path(), &target);
            }
        }
    }
}

/// The crate an artifact's file name belongs to, with `_` for `-`: `libserde-0123…ef.rlib`,
/// `serde-0123…ef.d` and the directory `serde-0123…ef` are `serde`'s (and `libc-…ef.d`
/// is `libc`'s: only libraries have the `lib` prefix).
fn artifact_crate(name: &str) -> Option<String> {
    let (stem, extension) = name.split_once('.').unwrap_or((name, ""));
    let (krate, hash) = stem.rsplit_once('-')?;
    let is_hash = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    let is_library = ["rlib", "rmeta", "so"].contains(&extension);
    let krate = match krate.strip_prefix("lib") {
        Some(rest) if is_library => rest,
        _ => krate,
    };
    is_hash.then(|| krate.replace('-', "_"))
}

/// Copies a file or a directory tree, each file with its modification time: cargo compares
/// the times of a crate's outputs with its dependencies'.
fn copy_keeping_times(from: &Path, to: &Path) {
    let meta = std::fs::symlink_metadata(from).expect("an artifact");
    if meta.is_dir() {
        std::fs::create_dir_all(to).expect("a directory");
        for entry in std::fs::read_dir(from).expect("a directory").flatten() {
            copy_keeping_times(&entry.path(), &to.join(entry.file_name()));
        }
        return;
    }
    if meta.is_symlink() {
        return;
    }
    grader::files::copy_file_keeping_time(from, to).expect("a copy of an artifact");
}
