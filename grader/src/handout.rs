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
    let from_instructors = layout::has_reference(tree);
    let listing = files::workspace_files(tree)?;
    let mut summary = Written::default();
    let mut planned = Vec::new();
    for path in &listing.files {
        if layout::is_instructors_only(path) {
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
        let rewritten = markers::rewrite(path, &text)?;
        if from_instructors
            && rewritten.markers == 0
            && layout::MARKED_FILES.contains(&path.as_str())
        {
            return Err(format!(
                "{path} has no `instructors` markers, but it names the reference: mark the lines \
                 the students' tree must not have (see grader/src/markers.rs)"
            ));
        }
        if !path.starts_with("grader/src/")
            && layout::REFERENCE_FEATURE_NAMES
                .iter()
                .any(|name| rewritten.text.contains(name))
        {
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
