//! Grading a class: many submissions in one command, one report each and a class CSV,
//! with the instructors' tree checked unchanged after each.

use std::path::{Path, PathBuf};

use crate::digest;
use crate::report::Report;
use crate::submission;

/// One submission to grade: a name for its reports, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A name made of the submission directory's name (made unique), safe as a file name.
    pub name: String,
    /// The submission directory.
    pub path: PathBuf,
}

/// The submissions `paths` name: each path is a submission (it holds the student's code at
/// its root or one directory below), or a folder of submissions (each directory in it is
/// one). Names are the directories' names, made safe for file names and unique.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Entry>, String> {
    let mut found = Vec::new();
    for path in paths {
        match submission::find_root(path) {
            Ok(_) => found.push(path.clone()),
            Err(alone) => {
                let Ok(entries) = std::fs::read_dir(path) else {
                    return Err(alone);
                };
                let mut inside: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|p| p.is_dir() && submission::find_root(p).is_ok())
                    .collect();
                if inside.is_empty() {
                    return Err(alone);
                }
                inside.sort();
                found.extend(inside);
            }
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    for path in found {
        let base = safe_name(
            &path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "submission".into()),
        );
        let mut name = base.clone();
        let mut n = 2;
        while entries.iter().any(|e| e.name == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        entries.push(Entry { name, path });
    }
    Ok(entries)
}

/// `name` with anything but letters, digits, `-`, `_` and `.` replaced, and no leading dot.
fn safe_name(name: &str) -> String {
    let safe = crate::files::safe_name(name);
    let safe = safe.trim_start_matches('.').to_owned();
    if safe.is_empty() {
        "submission".into()
    } else {
        safe
    }
}

/// A fingerprint of the files `grader grade` takes from the instructors' tree (its
/// handout's files, as they are on disk): equal before and after a submission, or
/// something changed the tree while grading.
pub fn tree_fingerprint(files: &[(String, Vec<u8>)]) -> String {
    let mut all = Vec::new();
    for (path, bytes) in files {
        all.extend_from_slice(path.as_bytes());
        all.push(0);
        all.extend_from_slice(digest::content_hash(bytes).as_bytes());
        all.push(b'\n');
    }
    digest::content_hash(&all)
}

/// [`tree_fingerprint`] of `tree`'s handout files as they are on disk now.
pub fn fingerprint(tree: &Path) -> Result<String, String> {
    let plan = crate::handout::plan(tree)?;
    let mut files = Vec::new();
    for path in &plan.summary.files {
        let bytes = std::fs::read(tree.join(path))
            .map_err(|e| format!("cannot read {}: {e}", tree.join(path).display()))?;
        files.push((path.clone(), bytes));
    }
    Ok(tree_fingerprint(&files))
}

/// The class CSV's header: name, path, score, max score, a column per part, the seconds
/// the submission took, and what went wrong first.
pub fn csv_header(parts: &[&str]) -> String {
    let mut columns = vec![
        "name".to_owned(),
        "submission".to_owned(),
        "score".to_owned(),
        "max_score".to_owned(),
    ];
    columns.extend(parts.iter().map(|p| p.to_string()));
    columns.extend(["seconds".to_owned(), "problem".to_owned()]);
    columns.join(",") + "\n"
}

/// One submission's CSV row (`report` is `None` when grading it failed: `problem` says why).
pub fn csv_row(
    entry: &Entry,
    parts: &[&str],
    report: Option<&Report>,
    seconds: f64,
    problem: &str,
) -> String {
    let mut fields = vec![
        entry.name.clone(),
        entry.path.display().to_string(),
        report.map_or(String::new(), |r| r.score.to_string()),
        report.map_or(String::new(), |r| r.max_score.to_string()),
    ];
    for part in parts {
        fields.push(report.map_or(String::new(), |r| {
            r.parts
                .iter()
                .find(|p| p.part == *part)
                .map_or(String::new(), |p| p.score.to_string())
        }));
    }
    fields.push(format!("{seconds:.1}"));
    let problem = match report {
        _ if !problem.is_empty() => problem.to_owned(),
        Some(r) if r.build_error.is_some() => "does not build".to_owned(),
        Some(r) => r
            .tests
            .iter()
            .find_map(|t| {
                t.first_failure
                    .as_ref()
                    .map(|f| format!("{}: seed {} {}", t.name, f.seed, f.reason.describe()))
            })
            .unwrap_or_default(),
        None => String::new(),
    };
    fields.push(problem);
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
        + "\n"
}

/// A CSV field, quoted when it must be, with control characters and a leading formula
/// sign taken out (a spreadsheet would run `=…` as a formula).
fn csv_field(text: &str) -> String {
    let text: String = crate::report::text::clean(text).replace('\n', " ");
    let text = text.trim_start_matches(['=', '+', '-', '@']).to_owned();
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Refuses a tree with uncommitted changes (a grade names the commit it was graded with,
/// which must be the code that graded), unless the instructor says otherwise.
pub fn check_clean(tree: &Path, allow_dirty: bool) -> Result<(), String> {
    match crate::source::git_commit(tree) {
        Some(commit) if commit.ends_with("-dirty") && !allow_dirty => Err(format!(
            "{} has uncommitted changes: a grade names the commit it was graded with, so \
             commit them first (or pass --allow-dirty)",
            tree.display()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::TempDir;

    fn make_submission(dir: &Path) {
        std::fs::create_dir_all(dir.join("raft/src/skeleton")).unwrap();
        std::fs::write(dir.join("raft/src/skeleton/mod.rs"), "").unwrap();
    }

    #[test]
    fn a_folder_of_submissions_is_expanded_with_unique_safe_names() {
        let dir = TempDir::new("grader-unit-class").unwrap();
        let class = dir.path().join("class");
        make_submission(&class.join("alice"));
        make_submission(&class.join("bob smith"));
        make_submission(&class.join("carol/repo"));
        std::fs::create_dir_all(class.join("notes")).unwrap();
        let single = dir.path().join("other/alice");
        make_submission(&single);
        let entries = expand(&[class.clone(), single.clone()]).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob_smith", "carol", "alice-2"]);
        assert!(expand(&[dir.path().join("missing")]).is_err());
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("\x1b[2Jtotal"), "total");
    }

    #[test]
    fn a_tree_with_uncommitted_changes_is_refused_unless_allowed() {
        let dir = TempDir::new("grader-unit-dirty").unwrap();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        std::fs::write(dir.path().join("a.rs"), "1").unwrap();
        if !(git(&["init", "-q"])
            && git(&["add", "a.rs"])
            && git(&[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "a",
            ]))
        {
            return; // no git here: nothing to check
        }
        assert!(check_clean(dir.path(), false).is_ok());
        std::fs::write(dir.path().join("a.rs"), "2").unwrap();
        let refused = check_clean(dir.path(), false).unwrap_err();
        assert!(refused.contains("uncommitted changes"), "{refused}");
        assert!(check_clean(dir.path(), true).is_ok());
    }

    #[test]
    fn the_fingerprint_sees_any_change() {
        let a = vec![("a.rs".to_owned(), b"x".to_vec())];
        let b = vec![("a.rs".to_owned(), b"y".to_vec())];
        let c = vec![("b.rs".to_owned(), b"x".to_vec())];
        assert_ne!(tree_fingerprint(&a), tree_fingerprint(&b));
        assert_ne!(tree_fingerprint(&a), tree_fingerprint(&c));
        assert_eq!(tree_fingerprint(&a), tree_fingerprint(&a.clone()));
    }
}
