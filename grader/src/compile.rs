//! Building the test binaries of the tree being graded (release), and finding them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which Raft the binaries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The student's code, `raft/src/skeleton` (the crate's default).
    Student,
    /// The reference implementation, `raft/src/reference` (feature `reference`).
    Reference,
}

impl Implementation {
    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Implementation::Student => "student code (raft/src/skeleton)",
            Implementation::Reference => "reference implementation (raft/src/reference)",
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

/// Builds the `tests` package's test binaries in `tree` with `cargo test --no-run`.
/// Cargo's progress goes to stderr; the compiler's errors come back in the failure.
pub fn build(tree: &Path, implementation: Implementation) -> Result<Binaries, BuildFailure> {
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
    let output = Command::new(cargo)
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
