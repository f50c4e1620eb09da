//! The students' tree: the instructors' tree without the reference implementations and
//! the material that would reveal them, with every file's `instructors` markers applied.
//!
//! `grader handout DIR` writes it for students; `grader grade` writes it as the pristine
//! tree a submission is graded in, so a submission is built exactly as the students' own
//! tree builds, and never with the reference.

use std::path::{Path, PathBuf};

use crate::files;
use crate::layout;
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
    plan_with(tree, false)
}

/// Works out the students' tree of `tree`, with the reference Raft in it if
/// `raft_reference` (for Labs 3 and 4: `grader handout --raft-reference`, and the pristine
/// tree of `grader grade --raft-reference`). That tree has `raft/src/reference/`, the
/// `raft` crate's `reference` feature and the `tests` crate's `raft-reference` (see
/// [`layout::KEPT_WITH_THE_RAFT_REFERENCE`]), and the Markdown's `<!-- raft-reference`
/// blocks; never the reference KV or sharded KV.
pub fn plan_with(tree: &Path, raft_reference: bool) -> Result<Plan, String> {
    if raft_reference && !layout::has_raft_reference(tree) {
        return Err(format!(
            "--raft-reference: {} has no reference Raft ({} is not here)",
            tree.display(),
            layout::RAFT_REFERENCE
        ));
    }
    let from_instructors = layout::has_reference(tree);
    let listing = files::workspace_files(tree)?;
    let mut summary = Written::default();
    let mut planned = Vec::new();
    for path in &listing.files {
        let kept_reference = raft_reference && path.starts_with(layout::RAFT_REFERENCE);
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
                keep_instructors,
            },
        )?;
        if raft_reference && path == "tests/Cargo.toml" {
            add_raft_reference_feature(&mut rewritten)?;
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
        let names = if raft_reference {
            KV_REFERENCE_FEATURE_NAMES
        } else {
            layout::REFERENCE_FEATURE_NAMES
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

/// Gives the handout's `tests/Cargo.toml` the `raft-reference` feature, unless it has it
/// (a students' tree made with the reference Raft, planned again by `grader grade`).
fn add_raft_reference_feature(manifest: &mut markers::Rewritten) -> Result<(), String> {
    if manifest
        .text
        .lines()
        .any(|line| line.starts_with("raft-reference ="))
    {
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
    // Counted as a marker applied: the file is written, not copied.
    manifest.markers += 1;
    Ok(())
}

impl Plan {
    /// Writes the students' tree into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        for (path, content) in &self.files {
            let source = self.tree.join(path);
            let target = dir.join(path);
            match content {
                Content::Copy => files::copy_file(&source, &target)?,
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
