//! Taking a submission: its student-editable files, copied over a pristine tree, and the
//! list of the files it had that grading ignores.

use std::path::{Path, PathBuf};

use crate::report::{Submission, text};
use crate::{digest, files, layout};

/// The editable directories (entries of [`layout::STUDENT_EDITABLE`] ending in `/`).
fn editable_dirs() -> impl Iterator<Item = &'static str> {
    layout::STUDENT_EDITABLE
        .iter()
        .copied()
        .filter(|entry| entry.ends_with('/'))
}

/// Whether `dir` holds one of the editable directories.
fn holds_editable(dir: &Path) -> bool {
    editable_dirs().any(|editable| dir.join(editable).is_dir())
}

/// Where the repository's files are in `submission`: at its root, or in the one directory
/// below it that holds the student's code (an unpacked archive, a checkout in a folder).
pub fn find_root(submission: &Path) -> Result<PathBuf, String> {
    if !submission.exists() {
        return Err(format!(
            "the submission {} does not exist",
            submission.display()
        ));
    }
    if !submission.is_dir() {
        return Err(format!(
            "the submission {} is not a directory (unpack an archive first)",
            submission.display()
        ));
    }
    if holds_editable(submission) {
        return Ok(submission.to_path_buf());
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(submission)
        .map_err(|e| format!("cannot read {}: {e}", submission.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && holds_editable(path))
        .collect();
    candidates.sort();
    match candidates.len() {
        1 => Ok(candidates.remove(0)),
        0 => Err(format!(
            "the submission {} has no {}, neither at its root nor one directory below: a \
             submission is the student's copy of the repository (at least the files a student \
             edits, at their paths)",
            submission.display(),
            editable_dirs().collect::<Vec<_>>().join(" or ")
        )),
        _ => Err(format!(
            "the submission {} holds several copies of the student's code: {}",
            submission.display(),
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Copies the student-editable files of `submission` over the pristine tree `pristine`:
/// each editable directory the submission has replaces the pristine one (so a file the
/// student deleted or renamed is gone), and nothing else is taken. Returns what was taken
/// and which submitted files were ignored: those outside the editable files that are not
/// the same as in the pristine tree (an unchanged copy of a framework file is neither).
pub fn take(submission: &Path, pristine: &Path) -> Result<Submission, String> {
    let root = find_root(submission)?;
    let listing = files::walk(&root)?;
    for editable in editable_dirs() {
        if root.join(editable).is_dir() {
            let replaced = pristine.join(editable);
            if replaced.exists() {
                std::fs::remove_dir_all(&replaced)
                    .map_err(|e| format!("cannot clear {}: {e}", replaced.display()))?;
            }
        }
    }
    let mut taken = Vec::new();
    let mut hashes = Vec::new();
    let mut ignored = Vec::new();
    for path in &listing.files {
        let source = root.join(path);
        let target = pristine.join(path);
        if layout::is_student_editable(path) {
            files::copy_file(&source, &target)?;
            // The hash of what is graded: the copy.
            let bytes = std::fs::read(&target)
                .map_err(|e| format!("cannot read {}: {e}", target.display()))?;
            hashes.push(digest::content_hash(&bytes));
            taken.push(path.clone());
        } else if !same_contents(&source, &target) {
            ignored.push(path.clone());
        }
    }
    ignored.extend(listing.others.iter().cloned());
    ignored.sort();
    // File names are the student's to choose, escape sequences included: cleaned as they
    // enter the report (the files themselves were copied under their own names above).
    let clean = |names: Vec<String>| names.iter().map(|n| text::clean_line(n)).collect();
    Ok(Submission {
        path: text::clean_line(&submission.display().to_string()),
        taken: clean(taken),
        hashes,
        ignored: clean(ignored),
    })
}

/// Whether both files exist with the same bytes.
fn same_contents(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// At most this many ignored files are named on the terminal.
const NAMED_ON_TERMINAL: usize = 20;

/// What was taken and ignored, for the terminal.
pub fn summary(submission: &Submission) -> String {
    let mut text = format!(
        "took {} file(s) from {} ({})",
        submission.taken.len(),
        submission.path,
        layout::editable_list()
    );
    if submission.ignored.is_empty() {
        text.push_str("; ignored none");
        return text;
    }
    text.push_str(&format!(
        "; ignored {} submitted file(s) that students may not edit (grading uses the \
         framework's): {}",
        submission.ignored.len(),
        submission
            .ignored
            .iter()
            .take(NAMED_ON_TERMINAL)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if submission.ignored.len() > NAMED_ON_TERMINAL {
        text.push_str(&format!(
            " (and {} more)",
            submission.ignored.len() - NAMED_ON_TERMINAL
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::TempDir;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn takes_the_skeleton_and_lists_changed_framework_files() {
        let dir = TempDir::new("grader-unit-submission").unwrap();
        let pristine = dir.path().join("pristine");
        write(&pristine, "raft/src/skeleton/mod.rs", "pristine");
        write(
            &pristine,
            "raft/src/skeleton/old.rs",
            "deleted by the student",
        );
        write(&pristine, "raft/Cargo.toml", "pristine");
        write(&pristine, "README.md", "same");
        // Unpacked one directory below, as archives often are.
        let submitted = dir.path().join("upload");
        let root = submitted.join("my-raft");
        write(&root, "raft/src/skeleton/mod.rs", "student");
        write(&root, "raft/src/skeleton/extra.rs", "student");
        write(&root, "raft/Cargo.toml", "changed");
        write(&root, "README.md", "same");
        write(&root, "target/debug/junk", "build output");
        let submission = take(&submitted, &pristine).unwrap();
        assert_eq!(
            submission.taken,
            ["raft/src/skeleton/extra.rs", "raft/src/skeleton/mod.rs"]
        );
        assert_eq!(submission.ignored, ["raft/Cargo.toml"]);
        assert_eq!(
            submission.hashes,
            [
                crate::digest::content_hash(b"student"),
                crate::digest::content_hash(b"student")
            ]
        );
        assert!(!pristine.join("raft/src/skeleton/old.rs").exists());
        assert_eq!(
            std::fs::read_to_string(pristine.join("raft/Cargo.toml")).unwrap(),
            "pristine"
        );
        assert!(summary(&submission).contains("ignored 1 submitted file(s)"));
    }

    #[test]
    fn a_submission_of_the_sharded_kv_alone_is_taken() {
        let dir = TempDir::new("grader-unit-submission").unwrap();
        let pristine = dir.path().join("pristine");
        write(&pristine, "shardkv/src/skeleton/server.rs", "pristine");
        write(&pristine, "shardkv/src/lib.rs", "pristine");
        let submitted = dir.path().join("upload");
        write(&submitted, "shardkv/src/skeleton/server.rs", "student");
        write(&submitted, "shardkv/src/lib.rs", "changed");
        write(
            &submitted,
            "shardkv/src/reference/mod.rs",
            "not the student's to give",
        );
        let submission = take(&submitted, &pristine).unwrap();
        assert_eq!(submission.taken, ["shardkv/src/skeleton/server.rs"]);
        assert_eq!(
            submission.ignored,
            ["shardkv/src/lib.rs", "shardkv/src/reference/mod.rs"]
        );
        assert_eq!(
            std::fs::read_to_string(pristine.join("shardkv/src/lib.rs")).unwrap(),
            "pristine"
        );
        assert!(!pristine.join("shardkv/src/reference/mod.rs").exists());
    }

    #[test]
    fn file_names_enter_the_report_cleaned_and_files_keep_theirs() {
        let dir = TempDir::new("grader-unit-submission").unwrap();
        let pristine = dir.path().join("pristine");
        write(&pristine, "raft/src/skeleton/mod.rs", "pristine");
        let submitted = dir.path().join("upload");
        let hostile = "raft/src/skeleton/\u{1b}[2J\u{1b}[Htotal 228\r.rs";
        write(&submitted, hostile, "student");
        write(&submitted, "notes/\u{202e}sr.txt", "ignored");
        let submission = take(&submitted, &pristine).unwrap();
        assert_eq!(submission.taken, ["raft/src/skeleton/total 228.rs"]);
        assert_eq!(submission.hashes, [crate::digest::content_hash(b"student")]);
        assert_eq!(submission.ignored, ["notes/sr.txt"]);
        assert!(pristine.join(hostile).is_file());
    }

    #[test]
    fn a_submission_without_the_skeleton_is_refused_clearly() {
        let dir = TempDir::new("grader-unit-submission").unwrap();
        write(dir.path(), "src/mod.rs", "misplaced");
        let error = find_root(dir.path()).unwrap_err();
        assert!(
            error.contains(
                "has no kvraft/src/skeleton/ or raft/src/skeleton/ or shardkv/src/skeleton/"
            ),
            "{error}"
        );
        let missing = find_root(&dir.path().join("nowhere")).unwrap_err();
        assert!(missing.contains("does not exist"), "{missing}");
    }
}
