//! Whose files are whose: what a student may edit, and what only instructors have.
//!
//! These lists are the one place that says so. `grader grade` takes the student-editable
//! files, and nothing else, from a submission; `grader handout` leaves the instructors-only
//! files out of the students' tree. Each lab adds a line to each list.

use std::path::Path;

/// The files a student may edit, as paths relative to the workspace root; an entry ending
/// in `/` is a directory and everything under it.
///
/// Only the skeleton: everything else (labrpc, the harness and the tests, the catalogue and
/// its points, the manifests and their features, the grader) is the framework the grade
/// is measured with, so grading takes it from the instructors' tree whatever a submission
/// holds. `docs/lab-raft.md` (section 2), `docs/lab-kvraft.md` and `docs/lab-shardkv.md`
/// (section 1) tell students the same.
pub const STUDENT_EDITABLE: &[&str] = &[
    "kvraft/src/skeleton/",
    "raft/src/skeleton/",
    "shardkv/src/skeleton/",
];

/// The reference implementations: what the students' tree must not contain.
pub const REFERENCE: &[&str] = &[
    "kvraft/src/reference/",
    "kvraft/src/reference_rsm.rs",
    "raft/src/reference/",
    "shardkv/src/reference/",
];

/// The reference Raft alone: what a handout for Labs 3 and 4 may include
/// (`grader handout --raft-reference`), so that a student whose Raft is not finished can do
/// Labs 3 and 4 on it.
pub const RAFT_REFERENCE: &str = "raft/src/reference/";

/// The reference rsm alone (without the reference KV service): what a handout for Lab 4 may
/// add to the reference Raft (`grader handout --rsm-reference`), so that a student whose rsm
/// is not finished can do Lab 4 on it.
pub const RSM_REFERENCE: &str = "kvraft/src/reference_rsm.rs";

/// Which reference layers a handout holds under the student's code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lent {
    /// None: the usual students' tree.
    #[default]
    Nothing,
    /// The reference Raft (`--raft-reference`, for Labs 3 and 4).
    Raft,
    /// The reference Raft and rsm (`--rsm-reference`, for Lab 4).
    RaftAndRsm,
}

impl Lent {
    /// What `--raft-reference` and `--rsm-reference` ask for (the rsm brings the Raft).
    pub fn from_flags(raft_reference: bool, rsm_reference: bool) -> Lent {
        if rsm_reference {
            Lent::RaftAndRsm
        } else if raft_reference {
            Lent::Raft
        } else {
            Lent::Nothing
        }
    }

    /// Whether `path` is a reference file this handout keeps.
    pub fn keeps(self, path: &str) -> bool {
        (self >= Lent::Raft && path.starts_with(RAFT_REFERENCE))
            || (self == Lent::RaftAndRsm && path == RSM_REFERENCE)
    }
}

/// The files a handout with the reference Raft keeps in their instructors' version (see
/// [`crate::markers::Options`]): every line marked `instructors` in them is about the
/// reference Raft, its feature, or the replay command's features, all of which that handout
/// needs. `tests/Cargo.toml` is not here: its `instructors` block holds the reference KV's
/// and sharded KV's features too, so the handout writes the `raft-reference` feature in it
/// instead (`crate::handout`).
pub const KEPT_WITH_THE_RAFT_REFERENCE: &[&str] =
    &["raft/Cargo.toml", "raft/src/lib.rs", "tests/src/lib.rs"];

/// Instructors' material beside the reference that the handout leaves out too: the
/// grader's tests that grade the reference or make handouts (they need the reference to
/// pass), the benchmark figures measured on it, the broken variants of it (patches
/// that show the reference), and the CI script that draws one of them.
pub const INSTRUCTORS_MATERIAL: &[&str] = &[
    ".ci/check_timelines.sh",
    "BENCHMARKS.md",
    "grader/tests/grade.rs",
    "grader/tests/handout.rs",
    "grader/tests/submission.rs",
    "grader/tests/attacks.rs",
    "grader/tests/gradescope.rs",
    "grader/tests/common/",
    "tests/mutants/",
];

/// Files that must hold `instructors` markers (see [`crate::markers`]): the places that
/// name the reference, so that the handout builds without it. A file in this list without
/// a marker stops `grader handout`, rather than letting the reference through.
pub const MARKED_FILES: &[&str] = &[
    ".ci/run",
    "README.md",
    "docs/fault-model.md",
    "docs/lab-extensions.md",
    "docs/lab-kvraft.md",
    "docs/lab-raft.md",
    "docs/lab-shardkv.md",
    "grader/README.md",
    "kvraft/Cargo.toml",
    "kvraft/src/lib.rs",
    "raft/Cargo.toml",
    "raft/src/lib.rs",
    "shardkv/Cargo.toml",
    "shardkv/src/lib.rs",
    "tests/Cargo.toml",
    "tests/src/lib.rs",
];

/// Text that names the reference's cargo features. Outside the grader's own source (whose
/// `--reference` says that a handout has none), the handout should contain none of it;
/// `grader handout` lists the files that still do.
pub const REFERENCE_FEATURE_NAMES: &[&str] = &[
    "feature = \"reference\"",
    "features reference",
    "kvraft-reference",
    "kvraft/reference",
    "raft-reference",
    "rsm-reference",
    "raft/reference",
    "shardkv-reference",
    "shardkv/reference",
    "tests/reference",
];

/// Whether `path` (relative, `/`-separated) is matched by one of `entries`.
fn matches(entries: &[&str], path: &str) -> bool {
    entries.iter().any(|entry| {
        if entry.ends_with('/') {
            path.starts_with(entry)
        } else {
            path == *entry
        }
    })
}

/// Whether a student may edit `path`.
pub fn is_student_editable(path: &str) -> bool {
    matches(STUDENT_EDITABLE, path)
}

/// Whether `path` stays out of the students' tree.
pub fn is_instructors_only(path: &str) -> bool {
    matches(REFERENCE, path) || matches(INSTRUCTORS_MATERIAL, path)
}

/// Whether `tree` holds every reference implementation (the instructors' tree); a handout
/// has none, or (made with `--raft-reference`) the reference Raft alone.
pub fn has_reference(tree: &Path) -> bool {
    REFERENCE.iter().all(|entry| tree.join(entry).exists())
}

/// Whether `tree` holds the reference Raft: the instructors' tree, or a handout made with
/// `--raft-reference`.
pub fn has_raft_reference(tree: &Path) -> bool {
    tree.join(RAFT_REFERENCE).is_dir()
}

/// Whether `tree` holds the reference rsm: the instructors' tree, or a handout made with
/// `--rsm-reference`.
pub fn has_rsm_reference(tree: &Path) -> bool {
    tree.join(RSM_REFERENCE).is_file()
}

/// The student-editable files as a list for `--help` and messages, e.g. `raft/src/skeleton/**`.
pub fn editable_list() -> String {
    STUDENT_EDITABLE
        .iter()
        .map(|entry| {
            if entry.ends_with('/') {
                format!("{entry}**")
            } else {
                (*entry).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skeleton_is_editable_and_nothing_else() {
        assert!(is_student_editable("raft/src/skeleton/mod.rs"));
        assert!(is_student_editable("raft/src/skeleton/new/file.rs"));
        for path in [
            "raft/src/skeleton",
            "raft/src/skeletonx/mod.rs",
            "raft/src/lib.rs",
            "raft/Cargo.toml",
            "tests/src/suites/raft_2a.rs",
            "Cargo.toml",
        ] {
            assert!(!is_student_editable(path), "{path}");
        }
        assert!(is_student_editable("kvraft/src/skeleton/server.rs"));
        assert!(!is_student_editable("kvraft/src/lib.rs"));
        assert!(is_student_editable("shardkv/src/skeleton/ctrler.rs"));
        for path in [
            "shardkv/src/lib.rs",
            "shardkv/src/common.rs",
            "shardkv/Cargo.toml",
            "shardkv/src/reference/kv_server.rs",
        ] {
            assert!(!is_student_editable(path), "{path}");
        }
        assert_eq!(
            editable_list(),
            "kvraft/src/skeleton/**, raft/src/skeleton/**, shardkv/src/skeleton/**"
        );
    }

    #[test]
    fn the_reference_and_its_tests_are_instructors_only() {
        assert!(is_instructors_only("raft/src/reference/mod.rs"));
        assert!(is_instructors_only("kvraft/src/reference/server.rs"));
        assert!(is_instructors_only("kvraft/src/reference_rsm.rs"));
        assert!(is_instructors_only("shardkv/src/reference/ctrler.rs"));
        assert!(!is_instructors_only("shardkv/src/skeleton/ctrler.rs"));
        assert!(!is_instructors_only("shardkv/src/lib.rs"));
        assert!(is_instructors_only("grader/tests/grade.rs"));
        assert!(!is_instructors_only("grader/tests/hostile.rs"));
        assert!(!is_instructors_only("raft/src/lib.rs"));
    }

    #[test]
    fn each_handout_keeps_its_reference_layers_and_no_more() {
        let raft = "raft/src/reference/election.rs";
        let kv = "kvraft/src/reference/server.rs";
        for (lent, keeps_raft, keeps_rsm) in [
            (Lent::Nothing, false, false),
            (Lent::Raft, true, false),
            (Lent::RaftAndRsm, true, true),
        ] {
            assert_eq!(lent.keeps(raft), keeps_raft, "{lent:?}");
            assert_eq!(lent.keeps(RSM_REFERENCE), keeps_rsm, "{lent:?}");
            assert!(!lent.keeps(kv) && !lent.keeps("shardkv/src/reference/ctrler.rs"));
        }
        assert_eq!(Lent::from_flags(false, true), Lent::RaftAndRsm);
        assert_eq!(Lent::from_flags(true, false), Lent::Raft);
    }
}
