//! Building the test binaries of the tree being graded (release), and finding them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::layout;
use crate::sandbox::{self, Confinement, Jail};

/// Which Raft the binaries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The student's code, `raft/src/skeleton`, `kvraft/src/skeleton` and
    /// `shardkv/src/skeleton` (the crates' default).
    Student,
    /// The reference implementations, `raft/src/reference`, `kvraft/src/reference` and
    /// `shardkv/src/reference` (feature `reference`).
    Reference,
    /// The student's rsm and KV service (`kvraft/src/skeleton`) and sharded KV service
    /// (`shardkv/src/skeleton`, on the student's rsm) on the reference Raft
    /// (`raft/src/reference`; the `tests` crate's feature `raft-reference`): Labs 3 and 4
    /// for a student whose Raft is not finished. Only Lab 3's and Lab 4's tests grade
    /// anything of the student's this way (see [`crate::select::for_implementation`]).
    RaftReference,
    /// The student's shard controller and sharded KV service (`shardkv/src/skeleton`) on
    /// the reference rsm and Raft (`kvraft/src/reference_rsm.rs`, `raft/src/reference`;
    /// the `tests` crate's features `raft-reference` and `rsm-reference`): Lab 4 for a
    /// student whose rsm is not finished. Only Lab 4's tests grade anything of the
    /// student's this way.
    RsmReference,
}

impl Implementation {
    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Implementation::Student => {
                "student code (raft/src/skeleton, kvraft/src/skeleton, shardkv/src/skeleton)"
            }
            Implementation::Reference => {
                "reference implementation (raft/src/reference, kvraft/src/reference, \
                 shardkv/src/reference)"
            }
            Implementation::RaftReference => {
                "student code (kvraft/src/skeleton, shardkv/src/skeleton) on the reference Raft \
                 (raft/src/reference)"
            }
            Implementation::RsmReference => {
                "student code (shardkv/src/skeleton) on the reference rsm and Raft \
                 (kvraft/src/reference_rsm.rs, raft/src/reference)"
            }
        }
    }

    /// The arguments of `cargo test` (before `--`) that build this implementation's tests.
    pub fn cargo_args(self) -> &'static str {
        match self {
            Implementation::Student => "--release -p tests",
            Implementation::Reference => "--release -p tests --features reference",
            Implementation::RaftReference => "--release -p tests --features raft-reference",
            Implementation::RsmReference => {
                "--release -p tests --features raft-reference,rsm-reference"
            }
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
const ERRORS_SHOWN: usize = 5;

/// How much of one compiler error a report shows.
const ERROR_CHARS: usize = 4000;

/// The bounds of a build of untrusted code (a submission): it runs jailed, with a cleared
/// environment, offline, and is killed at these limits.
#[derive(Debug, Clone, Copy)]
pub struct BuildLimits {
    /// Wall-clock limit of the whole build.
    pub timeout: Duration,
    /// Address-space limit of each process of the build (cargo, rustc, the linker).
    pub memory: u64,
}

/// The packages whose compiled code holds a submission's code: their artifacts are
/// removed from the shared target directory before and after each submission's build, so
/// that no build can read (with `include_bytes!`) what another student's compiled to.
pub const LAB_PACKAGES: &[&str] = &["raft", "kvraft", "shardkv", "tests"];

/// Builds the `tests` package's test binaries in `tree` with `cargo test --no-run`, in
/// `target_dir` if given (else where cargo would): only the test targets of `selected` (each
/// test binary links the lab code, so building fewer is much quicker), or all if it names
/// every target. Cargo's progress goes to stderr; the
/// compiler's errors come back in the failure. With `limits`, the build is of untrusted
/// code: see [`BuildLimits`] and [`jailed_cargo`].
pub fn build(
    tree: &Path,
    implementation: Implementation,
    selected: &[&catalogue::Test],
    target_dir: Option<&Path>,
    limits: Option<BuildLimits>,
) -> Result<Binaries, BuildFailure> {
    let mut args = format!(
        "test {} --no-run --message-format=json",
        implementation.cargo_args()
    );
    let mut targets: Vec<&str> = selected.iter().map(|test| test.target).collect();
    targets.sort_unstable();
    targets.dedup();
    let mut all: Vec<&str> = catalogue::all().map(|test| test.target).collect();
    all.sort_unstable();
    all.dedup();
    if targets != all {
        for target in targets {
            args.push_str(" --test ");
            args.push_str(target);
        }
    }
    if limits.is_some() {
        args.push_str(" --offline");
    }
    let command_text = format!("cargo {args}");
    eprintln!(
        "grader: building the tests against the {} (in {}): {command_text}",
        implementation.describe(),
        tree.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let failure = |errors: String| BuildFailure {
        command: command_text.clone(),
        errors,
    };
    let started = std::time::Instant::now();
    let mut command = Command::new(&cargo);
    command
        .args(args.split(' '))
        .current_dir(tree)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let output = match (limits, target_dir) {
        (Some(limits), Some(dir)) => {
            fetch(&cargo, tree, dir).map_err(failure)?;
            remove_lab_artifacts(dir);
            jailed_cargo(&mut command, tree, dir, limits).map_err(failure)?
        }
        (Some(_), None) => return Err(failure("a jailed build needs a target directory".into())),
        (None, dir) => {
            if let Some(dir) = dir {
                command.env("CARGO_TARGET_DIR", dir);
            }
            command
                .output()
                .map_err(|e| failure(format!("cannot run cargo: {e}")))?
        }
    };
    eprintln!(
        "grader: the build took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut binaries = Binaries::new();
    let mut errors = Vec::new();
    let mut hidden = 0;
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
                // A submission sees the errors in its own files only: what the compiler
                // says of a framework file could quote that file.
                if limits.is_some() && !in_editable_file(&message["message"]) {
                    hidden += 1;
                    continue;
                }
                if let Some(rendered) = message["message"]["rendered"].as_str() {
                    errors.push(cap(rendered.trim_end(), ERROR_CHARS));
                }
            }
            _ => {}
        }
    }
    // Nothing of a failed build's lab code stays for the next one to read (a build that
    // succeeded is cleaned after its grading).
    if let (Some(_), Some(dir), false) = (limits, target_dir, output.status.success()) {
        remove_lab_artifacts(dir);
    }

    if !output.status.success() {
        let mut text = if errors.is_empty() {
            format!("cargo failed ({}); its output is above", output.status)
        } else {
            let shown = errors.len().min(ERRORS_SHOWN);
            let mut text = errors[..shown].join("\n\n");
            if errors.len() > shown {
                text.push_str(&format!("\n\n(and {} more errors)", errors.len() - shown));
            }
            text
        };
        if hidden > 0 {
            text.push_str(&format!(
                "\n\n({hidden} more errors in files students may not edit, not shown)"
            ));
        }
        return Err(failure(text));
    }
    Ok(binaries)
}

/// Removes a submission's lab artifacts from the shared target directory (see
/// [`LAB_PACKAGES`]); called before each submission's build and after its grading.
pub fn remove_lab_artifacts(target_dir: &Path) {
    let release = target_dir.join("release");
    for dir in ["deps", ".fingerprint", "incremental"] {
        let Ok(entries) = std::fs::read_dir(release.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.trim_start_matches("lib");
            let crate_name = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
            if LAB_PACKAGES.contains(&crate_name) || is_test_target(crate_name) {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// Whether `name` is one of the `tests` package's test targets (they link lab code).
fn is_test_target(name: &str) -> bool {
    catalogue::all().any(|test| test.target == name)
}

/// Whether a compiler message's primary span is in a student-editable file, or comes from
/// a macro called in one.
fn in_editable_file(message: &serde_json::Value) -> bool {
    fn editable(span: &serde_json::Value) -> bool {
        span["file_name"]
            .as_str()
            .is_some_and(layout::is_student_editable)
            || (span["expansion"].is_object() && editable(&span["expansion"]["span"]))
    }
    message["spans"].as_array().is_some_and(|spans| {
        spans
            .iter()
            .any(|span| span["is_primary"] == true && editable(span))
    })
}

/// `text`, cut to `limit` characters with a note when longer.
fn cap(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}\n(cut: the message is longer)", &text[..end]),
        None => text.to_owned(),
    }
}

/// `cargo fetch` in `tree`, outside the jail (it needs the network; it builds nothing, and
/// reads only the pristine manifests and lock file).
fn fetch(cargo: &std::ffi::OsStr, tree: &Path, target_dir: &Path) -> Result<(), String> {
    let status = Command::new(cargo)
        .args(["fetch", "--locked"])
        .current_dir(tree)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo fetch: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo fetch failed ({status}); its output is above"
        ))
    }
}

/// Runs a build of untrusted code: a cleared environment (nothing names the instructors'
/// tree or a home directory), `--offline`, a jail that lets it read only `tree`, the
/// toolchain, the registry and the system, and write only `target_dir`; killed with its
/// whole process group at `limits.timeout`, each process under `limits.memory`.
fn jailed_cargo(
    command: &mut Command,
    tree: &Path,
    target_dir: &Path,
    limits: BuildLimits,
) -> Result<std::process::Output, String> {
    let scratch = target_dir.join("tmp");
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let toolchain = sandbox::toolchain_dirs();
    command.env_clear();
    for name in ["PATH", "RUSTUP_TOOLCHAIN", "LANG"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for (name, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        if let Some(dir) = std::env::var_os(name)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
        {
            command.env(name, dir);
        }
    }
    command
        .env("CARGO_TARGET_DIR", target_dir)
        .env("TMPDIR", &scratch)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_OFFLINE", "true");
    let system = |paths: &[&str]| paths.iter().map(PathBuf::from).collect::<Vec<_>>();
    let jail = Jail {
        read: [tree.to_path_buf()]
            .into_iter()
            .chain(system(&[
                "/etc/alternatives",
                "/etc/ld.so.conf",
                "/etc/ld.so.conf.d",
                "/dev/urandom",
                "/proc",
            ]))
            .collect(),
        execute: toolchain
            .into_iter()
            .chain(system(&[
                "/usr",
                "/bin",
                "/lib",
                "/lib64",
                "/etc/ld.so.cache",
            ]))
            .collect(),
        write: vec![target_dir.to_path_buf(), PathBuf::from("/dev/null")],
        no_processes: false,
    };
    let child = sandbox::spawn(
        command,
        Confinement {
            memory: limits.memory,
            jail: Some(jail.prepare()?),
            ..Confinement::default()
        },
    )
    .map_err(|e| format!("cannot start the jailed build: {e}"))?;
    let group = child.id();
    let (done, wait_done) = crossbeam_channel::bounded::<()>(0);
    let timer = std::thread::spawn(move || {
        let timed_out = matches!(
            wait_done.recv_timeout(limits.timeout),
            Err(crossbeam_channel::RecvTimeoutError::Timeout)
        );
        if timed_out {
            sandbox::kill_group(group);
        }
        timed_out
    });
    let output = child.wait_with_output();
    drop(done);
    let timed_out = timer.join().unwrap_or(false);
    sandbox::kill_group(group);
    let _ = std::fs::remove_dir_all(&scratch);
    if timed_out {
        return Err(format!(
            "the build did not finish in {}: it was stopped (a compile-time loop, e.g. in a \
             const item, or a build too large for the limit; `--build-timeout` sets it)",
            describe_duration(limits.timeout)
        ));
    }
    output.map_err(|e| format!("cannot run cargo: {e}"))
}

/// `90 s`, `10 min`.
fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 120 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
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
