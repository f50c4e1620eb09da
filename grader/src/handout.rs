//! The students' tree: the instructors' tree without the reference implementations and
//! the material that would reveal them, with every file's `instructors` markers applied.
//!
//! `grader handout DIR` writes it for students; `grader grade` writes it as the pristine
//! tree a submission is graded in, so a submission is built exactly as the students' own
//! tree builds, and never with the reference.

use std::path::{Path, PathBuf};

use crate::files;
use crate::layout::{self, Lent};
use crate::markers;

/// The cargo feature a handout with the reference Raft adds to `tests/Cargo.toml`, with why.
/// Written by the grader rather than kept from the instructors' file, whose `instructors`
/// block also holds the reference KV's and sharded KV's features (which would name features
/// `kvraft` and `shardkv` do not have there).
const RAFT_REFERENCE_FEATURE: &str = "
# The reference Raft, in this tree for Labs 3 and 4 (`grader handout --raft-reference`): run
# your rsm, KV service and sharded KV service on it with `--features raft-reference`
# (docs/lab-kvraft.md, section 1).
[features]
raft-reference = [\"raft/reference\"]
";

/// The cargo feature a handout with the reference rsm adds to `tests/Cargo.toml` too.
const RSM_REFERENCE_FEATURE: &str = "
# The reference rsm, in this tree for Lab 4 (`grader handout --rsm-reference`): run your
# shard controller and sharded KV service on it with `--features raft-reference,rsm-reference`
# (docs/lab-shardkv.md, section 1).
rsm-reference = [\"kvraft/rsm-reference\"]
";

/// Names of the reference KV's and sharded KV's cargo features: a handout with the
/// reference Raft must not have them (outside the files it keeps in their instructors'
/// version, which only name them in code that never runs there).
const KV_REFERENCE_FEATURE_NAMES: &[&str] = &[
    "features reference",
    "kvraft-reference",
    "kvraft/reference",
    "shardkv-reference",
    "shardkv/reference",
    "tests/reference",
];

/// The reference rsm's feature: a handout with the reference Raft alone must not have it.
const RSM_REFERENCE_FEATURE_NAME: &str = "rsm-reference";

/// What a students' tree holds.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Its files.
    pub files: Vec<String>,
    /// Its files with markers applied.
    pub rewritten: Vec<String>,
    /// Files of the instructors' tree left out.
    pub left_out: Vec<String>,
    /// Its files that still name one of the reference's cargo features (outside the
    /// grader's own source): places to mark with `instructors` markers.
    pub naming_the_reference: Vec<String>,
}

/// A file of the students' tree: a copy, or text with its markers applied.
#[derive(Debug, Clone)]
enum Content {
    Copy,
    Text(String),
}

/// The students' tree of a tree, worked out in full before anything is written, so that a
/// marker error leaves no half-written tree behind.
#[derive(Debug, Clone)]
pub struct Plan {
    tree: PathBuf,
    files: Vec<(String, Content)>,
    /// What it holds, and what it left out.
    pub summary: Written,
}

/// Works out the students' tree of `tree`.
///
/// From the instructors' tree (one with a reference), every file of
/// [`layout::MARKED_FILES`] must have markers, so that a file that lost them stops the
/// handout instead of letting the reference's feature through. A tree without a reference
/// is a students' tree already, and is taken as it is.
pub fn plan(tree: &Path) -> Result<Plan, String> {
    plan_with(tree, Lent::Nothing)
}

/// Works out the students' tree of `tree`, with the reference layers `lent` in it: the
/// reference Raft (for Labs 3 and 4: `grader handout --raft-reference`, and the pristine
/// tree of `grader grade --raft-reference`), or the reference Raft and rsm (for Lab 4:
/// `--rsm-reference`). Such a tree has `raft/src/reference/`, the `raft` crate's
/// `reference` feature and the `tests` crate's `raft-reference` (see
/// [`layout::KEPT_WITH_THE_RAFT_REFERENCE`]), and the Markdown's `<!-- raft-reference`
/// blocks; with the rsm also `kvraft/src/reference_rsm.rs`, the `rsm-reference` features of
/// `kvraft` and `tests`, and the `rsm-reference` blocks; never the reference KV or sharded
/// KV.
pub fn plan_with(tree: &Path, lent: Lent) -> Result<Plan, String> {
    let raft_reference = lent >= Lent::Raft;
    let rsm_reference = lent == Lent::RaftAndRsm;
    if raft_reference && !layout::has_raft_reference(tree) {
        return Err(format!(
            "--raft-reference: {} has no reference Raft ({} is not here)",
            tree.display(),
            layout::RAFT_REFERENCE
        ));
    }
    if rsm_reference && !layout::has_rsm_reference(tree) {
        return Err(format!(
            "--rsm-reference: {} has no reference rsm ({} is not here)",
            tree.display(),
            layout::RSM_REFERENCE
        ));
    }
    let from_instructors = layout::has_reference(tree);
    let listing = files::workspace_files(tree)?;
    let mut summary = Written::default();
    let mut planned = Vec::new();
    for path in &listing.files {
        let kept_reference = lent.keeps(path);
        if layout::is_instructors_only(path) && !kept_reference {
            summary.left_out.push(path.clone());
            continue;
        }
        let source = tree.join(path);
        let bytes =
            std::fs::read(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
        summary.files.push(path.clone());
        let Ok(text) = String::from_utf8(bytes) else {
            planned.push((path.clone(), Content::Copy));
            continue;
        };
        // The grader's own source goes unchanged (as its README says): its marker rules'
        // tests quote markers, which applying them would cut out of the tests.
        if path.starts_with("grader/src/") {
            planned.push((path.clone(), Content::Copy));
            continue;
        }
        let keep_instructors = layout::KEPT_WITH_THE_RAFT_REFERENCE.contains(&path.as_str());
        let mut rewritten = markers::rewrite_with(
            path,
            &text,
            markers::Options {
                raft_reference,
                rsm_reference,
                keep_instructors,
            },
        )?;
        if raft_reference && path == "tests/Cargo.toml" {
            add_reference_features(&mut rewritten, rsm_reference)?;
        }
        if from_instructors
            && rewritten.markers == 0
            && layout::MARKED_FILES.contains(&path.as_str())
        {
            return Err(format!(
                "{path} has no `instructors` markers, but it names the reference: mark the lines \
                 the students' tree must not have (see grader/src/markers.rs)"
            ));
        }
        // With the reference Raft, its feature is meant to be there: only the reference
        // KV's or sharded KV's would be a leak, outside the files kept in their instructors'
        // version.
        let names: Vec<&str> = match lent {
            Lent::Nothing => layout::REFERENCE_FEATURE_NAMES.to_vec(),
            Lent::Raft => [KV_REFERENCE_FEATURE_NAMES, &[RSM_REFERENCE_FEATURE_NAME]].concat(),
            Lent::RaftAndRsm => KV_REFERENCE_FEATURE_NAMES.to_vec(),
        };
        let expected_there = path.starts_with("grader/src/")
            || kept_reference
            || (raft_reference && keep_instructors);
        if !expected_there && names.iter().any(|name| rewritten.text.contains(name)) {
            summary.naming_the_reference.push(path.clone());
        }
        if rewritten.markers > 0 {
            summary.rewritten.push(path.clone());
            planned.push((path.clone(), Content::Text(rewritten.text)));
        } else {
            planned.push((path.clone(), Content::Copy));
        }
    }
    if from_instructors {
        for marked in layout::MARKED_FILES {
            if !listing.files.iter().any(|path| path == marked) {
                return Err(format!(
                    "{marked} is missing from {}: the handout expects it, with `instructors` \
                     markers",
                    tree.display()
                ));
            }
        }
    }
    Ok(Plan {
        tree: tree.to_path_buf(),
        files: planned,
        summary,
    })
}

/// Gives the handout's `tests/Cargo.toml` the `raft-reference` feature, and the
/// `rsm-reference` one if `rsm_reference`, unless it has them (a students' tree made with
/// the reference layers, planned again by `grader grade`).
fn add_reference_features(
    manifest: &mut markers::Rewritten,
    rsm_reference: bool,
) -> Result<(), String> {
    let has = |feature: &str| {
        manifest
            .text
            .lines()
            .any(|line| line.starts_with(&format!("{feature} =")))
    };
    if has("raft-reference") {
        if rsm_reference && !has("rsm-reference") {
            return Err(
                "tests/Cargo.toml has the `raft-reference` feature but not `rsm-reference`: \
                 this tree was handed out with the reference Raft alone"
                    .into(),
            );
        }
        return Ok(());
    }
    if manifest
        .text
        .lines()
        .any(|line| line.trim() == "[features]")
    {
        return Err(
            "tests/Cargo.toml has a [features] table in the students' tree: the grader cannot \
             add the `raft-reference` feature to it (see RAFT_REFERENCE_FEATURE in \
             grader/src/handout.rs)"
                .into(),
        );
    }
    if !manifest.text.ends_with('\n') {
        manifest.text.push('\n');
    }
    manifest.text.push_str(RAFT_REFERENCE_FEATURE);
    if rsm_reference {
        manifest.text.push_str(RSM_REFERENCE_FEATURE);
    }
    // Counted as a marker applied: the file is written, not copied.
    manifest.markers += 1;
    Ok(())
}

impl Plan {
    /// Writes the students' tree into `dir`. A file copied as it is keeps its modification
    /// time: cargo then finds the framework's crates (labrpc, the checker, the timeline),
    /// which no submission can change, fresh in `grader grade`'s target directory from one
    /// submission to the next, and compiles only the crates with lab code (whose artifacts
    /// it removes between submissions anyway) and those with rewritten files.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        for (path, content) in &self.files {
            let source = self.tree.join(path);
            let target = dir.join(path);
            match content {
                Content::Copy => files::copy_file_keeping_time(&source, &target)?,
                Content::Text(text) => files::write_like(&target, text, &source)?,
            }
        }
        Ok(())
    }
}

/// Makes `dir` ready for a handout: created if missing; refused if it has files, unless
/// `force` (then files of the same name are replaced and nothing else is removed), or if it
/// lies inside `tree`.
pub fn prepare_dir(tree: &Path, dir: &Path, force: bool) -> Result<PathBuf, String> {
    let existed = dir.exists();
    if existed && !dir.is_dir() {
        return Err(format!("{} exists and is not a directory", dir.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let canonical = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    let tree = tree
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", tree.display()))?;
    if canonical.starts_with(&tree) {
        if !existed {
            let _ = std::fs::remove_dir(&canonical);
        }
        return Err(format!(
            "{} is inside the tree it would be made from ({}): choose a directory outside it",
            dir.display(),
            tree.display()
        ));
    }
    let has_entries = std::fs::read_dir(&canonical)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .next()
        .is_some();
    if has_entries && !force {
        return Err(format!(
            "{} is not empty; --force writes over it (files of the same name are replaced, \
             nothing else is removed)",
            dir.display()
        ));
    }
    Ok(canonical)
}
