//! Listing a tree's files and copying them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Directories never taken from a tree: build output and version control.
const SKIPPED_DIRS: &[&str] = &["target", ".git"];

/// The files of a tree, as `/`-separated paths relative to its root, sorted.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Regular files.
    pub files: Vec<String>,
    /// Anything else met (symbolic links, sockets...): never copied.
    pub others: Vec<String>,
}

/// The files of the workspace `tree`: those git tracks, when it is a git checkout (so that
/// build output and stray local files stay out), else every file outside `target/` and
/// `.git/`.
pub fn workspace_files(tree: &Path) -> Result<Listing, String> {
    match git_tracked(tree) {
        Some(files) => {
            let mut listing = Listing::default();
            for file in files {
                match std::fs::symlink_metadata(tree.join(&file)) {
                    Ok(meta) if meta.is_file() => listing.files.push(file),
                    // Tracked but deleted in the working tree: it is not part of this tree.
                    Err(_) => {}
                    Ok(_) => listing.others.push(file),
                }
            }
            Ok(listing)
        }
        None => walk(tree),
    }
}

/// What `git ls-files` lists in `tree`, or `None` if `tree` is not in git.
fn git_tracked(tree: &Path) -> Option<Vec<String>> {
    let output = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--", "."])
        .current_dir(tree)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let mut files: Vec<String> = output
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    files.sort();
    files.dedup();
    Some(files)
}

/// Every file under `root` outside the [`SKIPPED_DIRS`], without following symbolic links.
pub fn walk(root: &Path) -> Result<Listing, String> {
    let mut listing = Listing::default();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let name = entry.file_name();
            let path = relative.join(&name);
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {}: {e}", root.join(&path).display()))?;
            let text = slash_path(&path);
            if kind.is_dir() {
                if !SKIPPED_DIRS.iter().any(|skipped| name == *skipped) {
                    pending.push(path);
                }
            } else if kind.is_file() {
                listing.files.push(text);
            } else {
                listing.others.push(text);
            }
        }
    }
    listing.files.sort();
    listing.others.sort();
    Ok(listing)
}

/// `path` with `/` between its components, whatever the platform.
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Copies `from` to `to`, making `to`'s directory; permissions (e.g. a script's executable
/// bit) come along.
pub fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    make_parent(to)?;
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Copies the file `from` to `to` (creating its directory) with `from`'s modification time.
pub fn copy_file_keeping_time(from: &Path, to: &Path) -> Result<(), String> {
    copy_file(from, to)?;
    let failed = |e: std::io::Error| format!("cannot set the time of {}: {e}", to.display());
    let modified = std::fs::metadata(from).and_then(|m| m.modified());
    let modified = modified.map_err(failed)?;
    // Opened for reading: the owner may set the times of a read-only file too.
    std::fs::File::open(to)
        .and_then(|file| file.set_modified(modified))
        .map_err(failed)
}

/// Writes `text` to `to` with the permissions of `like`.
pub fn write_like(to: &Path, text: &str, like: &Path) -> Result<(), String> {
    make_parent(to)?;
    std::fs::write(to, text).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    if let Ok(meta) = std::fs::metadata(like) {
        std::fs::set_permissions(to, meta.permissions())
            .map_err(|e| format!("cannot set the permissions of {}: {e}", to.display()))?;
    }
    Ok(())
}

fn make_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display())),
        None => Ok(()),
    }
}

/// A temporary directory, removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<system temp>/<prefix>-<pid>-<n>`.
    pub fn new(prefix: &str) -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        for n in 0..1000 {
            let path = base.join(format!("{prefix}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
        Err(format!(
            "cannot create a directory {prefix}-* in {}",
            base.display()
        ))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `name` as a file name: anything but ASCII letters, digits, `-`, `_` and `.` replaced by
/// `_` (test names, seeds and submission names become file names).
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
