//! Building the test binaries of the tree being graded (release), and finding them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which Raft the binaries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The student's code, `raft/src/skeleton` and `kvraft/src/skeleton` (the crates'
    /// default).
    Student,
    /// The reference implementations, `raft/src/reference` and `kvraft/src/reference`
    /// (feature `reference`).
    Reference,
}

impl Implementation {
    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Implementation::Student => "student code (raft/src/skeleton, kvraft/src/skeleton)",
            Implementation::Reference => {
                "reference implementation (raft/src/reference, kvraft/src/reference)"
            }
        }
    }

    /// The arguments of `cargo test` (before `--`) that build this implementation's tests.
    pub fn cargo_args(self) -> &'static str {
        match self {
            Implementation::Student => "--release -p tests",
            Implementation::Reference => "--release -p tests --features reference",
        }
    }
}

/// The built test binaries, by test target (`raft_2a` → its executable).
pub type Binaries = BTreeMap<String, PathBuf>;

/// Why the build failed: the compiler's first errors, as it rendered them.
#[derive(Debug, Clone)]
pub struct BuildFailure {
    /// The command that failed.
    pub command: String,
    /// The first errors (or cargo's own message).
    pub errors: String,
}

/// How many compiler errors a failed build's report shows.
const ERRORS_SHOWN: usize = 3;

/// Builds the `tests` package's test binaries in `tree` with `cargo test --no-run`, in
/// `target_dir` if given (else where cargo would). Cargo's progress goes to stderr; the
/// compiler's errors come back in the failure.
pub fn build(
    tree: &Path,
    implementation: Implementation,
    target_dir: Option<&Path>,
) -> Result<Binaries, BuildFailure> {
    let args = format!(
        "test {} --no-run --message-format=json",
        implementation.cargo_args()
    );
    let command_text = format!("cargo {args}");
    eprintln!(
        "grader: building the tests against the {} (in {}): {command_text}",
        implementation.describe(),
        tree.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let output = command
        .args(args.split(' '))
        .current_dir(tree)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| BuildFailure {
            command: command_text.clone(),
            errors: format!("cannot run cargo: {e}"),
        })?;
    let mut binaries = Binaries::new();
    let mut errors = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let is_test_target = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "test"));
                if let (true, Some(name), Some(executable)) = (
                    is_test_target,
                    message["target"]["name"].as_str(),
                    message["executable"].as_str(),
                ) {
                    binaries.insert(name.to_owned(), PathBuf::from(executable));
                }
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                if let Some(rendered) = message["message"]["rendered"].as_str() {
                    errors.push(rendered.trim_end().to_owned());
                }
            }
            _ => {}
        }
    }
    if !output.status.success() {
        let errors = if errors.is_empty() {
            format!("cargo failed ({}); its output is above", output.status)
        } else {
            let shown = errors.len().min(ERRORS_SHOWN);
            let mut text = errors[..shown].join("\n\n");
            if errors.len() > shown {
                text.push_str(&format!("\n\n(and {} more errors)", errors.len() - shown));
            }
            text
        };
        return Err(BuildFailure {
            command: command_text,
            errors,
        });
    }
    Ok(binaries)
}

/// Where `grader grade` builds submissions: `grade/` in the target directory of `tree`
/// (`$CARGO_TARGET_DIR`, or `tree/target`). One directory for every submission keeps the
/// dependencies compiled between them; it is apart from the tree's own builds, which
/// therefore stay as they were.
pub fn submissions_target_dir(tree: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .and_then(|dir| std::path::absolute(dir).ok())
        .unwrap_or_else(|| tree.join("target"));
    target.join("grade")
}

/// Holds `dir` for this process until dropped: two `grader grade` runs building in the
/// same directory would overwrite each other's test binaries, so the second waits.
pub fn lock_target_dir(dir: &Path) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(".grader-lock");
    let file = std::fs::File::create(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => eprintln!(
            "grader: waiting for another `grader grade` that builds in {}",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("cannot lock {}: {e}", path.display()));
        }
    }
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}
