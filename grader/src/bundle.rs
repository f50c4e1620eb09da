//! `grader gradescope DIR`: an autograder for Gradescope. DIR is the students' tree (the
//! handout: no reference in it, since grading a submission needs none) with, at its root,
//! what Gradescope runs: `setup.sh` (once, when the image is built: the pinned toolchain,
//! the grader, the dependencies compiled) and `run_autograder` (for each submission: grade
//! `/autograder/submission`, write `/autograder/results/results.json`). Zip DIR's contents
//! and upload the zip as the assignment's autograder.

use std::path::Path;

/// The toolchain the autograder pins (`rust-toolchain.toml`), so that grades do not change
/// with a new Rust release: the one this grader was tested with.
pub fn pinned_toolchain() -> String {
    let output = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    output
        .split_whitespace()
        .nth(1)
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("stable")
        .to_owned()
}

/// Writes the autograder's own files into `dir` (a students' tree already written there):
/// `setup.sh`, `run_autograder`, and `rust-toolchain.toml` if the tree has none.
/// `grade_args` are the grader's options for every submission (e.g. `--seeds 500`).
pub fn write_files(dir: &Path, toolchain: &str, grade_args: &[String]) -> Result<(), String> {
    let write = |name: &str, text: String, executable: bool| -> Result<(), String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
        }
        Ok(())
    };
    if !dir.join("rust-toolchain.toml").exists() {
        write(
            "rust-toolchain.toml",
            format!(
                "# Pinned by `grader gradescope`: the toolchain the grades were made with.\n\
                 [toolchain]\nchannel = \"{toolchain}\"\nprofile = \"minimal\"\n"
            ),
            false,
        )?;
    }
    write("setup.sh", setup_script(toolchain), true)?;
    write("run_autograder", run_script(grade_args), true)
}

/// `setup.sh`: runs once, as root, when Gradescope builds the autograder's image.
fn setup_script(toolchain: &str) -> String {
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (in
# /autograder/source). It installs the pinned Rust toolchain and compiles the grader and the
# tests' dependencies, so that grading a submission compiles the lab crates alone.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq curl ca-certificates build-essential git >/dev/null
if ! command -v rustup >/dev/null; then
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain {toolchain}
fi
source "$HOME/.cargo/env"
rustup toolchain install {toolchain} --profile minimal
cargo build --release -p grader
# The untouched skeleton, graded on a seed: compiles every dependency of the tests once
# (in target/grade/, where every submission builds) and checks that the jail works here.
cargo run --release -p grader -- grade . --allow-dirty --seeds 1 --part 2a >/dev/null || true
"#
    )
}

/// `run_autograder`: runs for each submission. `AUTOGRADER_ROOT` (default `/autograder`)
/// moves the whole layout, for trying it out of Gradescope.
fn run_script(grade_args: &[String]) -> String {
    let args: String = grade_args
        .iter()
        .map(|a| format!(" '{}'", a.replace('\'', r"'\''")))
        .collect();
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this for each submission. The submission is in $ROOT/submission, and the
# grade goes to $ROOT/results/results.json. Written by `grader gradescope`.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
cd "$ROOT/source"
[ -f "$HOME/.cargo/env" ] && source "$HOME/.cargo/env"
mkdir -p "$ROOT/results"
cargo run --release -q -p grader -- grade "$ROOT/submission" --allow-dirty \
    --gradescope "$ROOT/results/results.json"{args}
status=$?
# 0: full points, 1: fewer. Anything else means no grade was made: say so to the student
# instead of leaving Gradescope without results.
if [ "$status" -gt 1 ] || [ ! -s "$ROOT/results/results.json" ]; then
    printf '{{"score": 0, "output": "The autograder could not grade this submission (status %s). Ask the course staff."}}\n' \
        "$status" > "$ROOT/results/results.json"
fi
exit 0
"#
    )
}
