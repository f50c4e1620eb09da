//! `grader handout`: the students' tree has no reference and names none of its features, and
//! (in the ignored test, which `.ci/run` runs) it builds without a warning, passes clippy,
//! and its skeleton fails the 2A tests fast, saying what is missing.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{both, grader, scratch, write_handout};

/// Files of the handout that may still name a reference feature, and why. None: every
/// mention in the instructors' tree is marked, so the handout leaves it out.
const KNOWN_TO_NAME_THE_REFERENCE: &[&str] = &[];

#[test]
fn the_handout_has_no_reference_and_names_none_of_its_features() {
    let dir = scratch("handout");
    let handout = dir.join("students");
    write_handout(&handout);
    let files = common::files_under(&handout);

    assert!(files.iter().any(|f| f == "raft/src/skeleton/mod.rs"));
    for file in &files {
        assert!(
            !grader::layout::is_instructors_only(file),
            "{file} is in the handout"
        );
        assert!(!file.starts_with("target/") && !file.starts_with(".git/"));
    }
    let read = |path: &str| std::fs::read_to_string(handout.join(path)).expect(path);
    // The reference's module, feature and `cfg`s are gone; the skeleton is what is built.
    let lib = read("raft/src/lib.rs");
    for gone in ["feature = \"reference\"", "mod reference", "reference::"] {
        assert!(!lib.contains(gone), "raft/src/lib.rs has {gone:?}:\n{lib}");
    }
    assert!(lib.contains("mod skeleton;") && lib.contains("pub use skeleton::Raft;"));
    assert!(lib.contains("pub const IS_REFERENCE: bool = false;"));
    for manifest in ["raft/Cargo.toml", "tests/Cargo.toml"] {
        let text = read(manifest);
        assert!(!text.contains("reference"), "{manifest}:\n{text}");
    }
    assert!(!read(".ci/run").contains("reference"));
    let readme = read("README.md");
    assert!(!readme.contains("instructors -->") && !readme.contains("--reference"));
    assert!(readme.contains("raft/src/skeleton/"));
    // Nothing else names a reference feature, apart from the known places.
    for file in &files {
        if file.starts_with("grader/src/") || KNOWN_TO_NAME_THE_REFERENCE.contains(&&**file) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(handout.join(file)) else {
            continue;
        };
        for name in grader::layout::REFERENCE_FEATURE_NAMES {
            assert!(!text.contains(name), "{file} names {name:?}");
        }
        assert!(!text.contains("// instructors"), "{file} kept a marker");
    }
    // The students' prose shows the skeleton, not the reference: no Markdown file names the
    // reference's directories or flag, the instructors-only files, or shows a grade of the
    // reference. (The word "reference" alone stays allowed: "a stale reference to", and
    // prose about the course's reference solution's timings.)
    let markdown: Vec<&String> = files.iter().filter(|f| f.ends_with(".md")).collect();
    for expected in [
        "README.md",
        "grader/README.md",
        "docs/lab-raft.md",
        "docs/lab-kvraft.md",
    ] {
        assert!(
            markdown.iter().any(|f| *f == expected),
            "{expected} is not in the handout"
        );
    }
    for file in markdown {
        let text = read(file);
        for leak in [
            "--reference",
            "src/reference",
            "mutants",
            ".patch",
            "BENCHMARKS.md",
            "reference implementation (",
            "for the reference implementation",
            "<!-- instructors",
            "instructors -->",
            "<!-- students",
        ] {
            assert!(!text.contains(leak), "{file} has {leak:?}");
        }
        for line in text.lines().filter(|line| line.starts_with("Grade: ")) {
            assert!(
                line.contains("for the student code"),
                "{file} shows a grade that is not the student code's: {line}"
            );
        }
    }
    // The CI script stays executable.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(handout.join(".ci/run"))
            .expect(".ci/run")
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, ".ci/run is not executable");
    }
    // Its manifests are valid (a removed feature still named would fail here).
    let metadata = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(&handout)
        .output()
        .expect("cargo metadata runs");
    assert!(metadata.status.success(), "{}", both(&metadata));

    // A directory with files is refused, unless --force.
    let again = grader(&["handout".as_ref(), handout.as_os_str()]);
    assert_eq!(again.status.code(), Some(2), "{}", both(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty; --force"));
    let forced = grader(&["handout".as_ref(), "--force".as_ref(), handout.as_os_str()]);
    assert!(forced.status.success(), "{}", both(&forced));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_handout_inside_the_tree_is_refused() {
    let inside = common::tree()
        .join("target")
        .join("handout-inside-the-tree");
    let output = grader(&["handout".as_ref(), inside.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is inside the tree"));
    assert!(!inside.exists());
}

/// Checks the handout (every target compiles, clippy-clean; its own target directory,
/// kept between runs), builds its grader and 2A tests, and runs its skeleton's 2A tests. Run by `.ci/run`: `cargo test -p grader --test handout -- --ignored`.
#[test]
#[ignore = "builds the students' tree: minutes cold; .ci/run runs it"]
fn the_handout_builds_and_its_skeleton_fails_fast() {
    let dir = scratch("handout-build");
    let handout = dir.join("students");
    write_handout(&handout);
    let target = common::target_dir().join("handout");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let cargo_in_handout = |args: &[&str]| {
        Command::new(&cargo)
            .args(args)
            .current_dir(&handout)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("LAB_SEED")
            .env_remove("LAB_RUNS")
            .env_remove("LAB_CHECK_DETERMINISM")
            .env_remove("LAB_LOG")
            .output()
            .expect("cargo runs")
    };

    // Every target of the students' tree compiles without a warning, and passes the clippy
    // their CI holds their code to (clippy checks what a build compiles, without making
    // code for the many targets; what runs below is built in full).
    let started = Instant::now();
    let clippy = cargo_in_handout(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    assert!(
        clippy.status.success(),
        "the handout does not compile cleanly: {}",
        both(&clippy)
    );
    let stderr = String::from_utf8_lossy(&clippy.stderr);
    assert!(
        !stderr.contains("warning"),
        "the handout compiles with warnings: {stderr}"
    );
    eprintln!(
        "handout checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let grader = cargo_in_handout(&["build", "-p", "grader"]);
    assert!(grader.status.success(), "{}", both(&grader));

    // Built first (a workspace build can resolve dependency features differently from one
    // of the tests package alone), so the time is the tests': they must fail within
    // seconds, not hang.
    let built = cargo_in_handout(&["test", "-p", "tests", "--test", "raft_2a", "--no-run"]);
    assert!(built.status.success(), "{}", both(&built));
    let started = Instant::now();
    let tests = cargo_in_handout(&["test", "-p", "tests", "--test", "raft_2a"]);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&tests.stdout);
    assert!(
        !tests.status.success(),
        "the skeleton passed 2A: {}",
        both(&tests)
    );
    assert!(
        stdout.contains("test result: FAILED. 0 passed;"),
        "{}",
        both(&tests)
    );
    assert!(
        stdout.contains("expected one leader, got none"),
        "{}",
        both(&tests)
    );
    assert!(
        elapsed < Duration::from_secs(30),
        "the skeleton's 2A tests took {elapsed:?} to fail"
    );

    // The students' grader has no --reference to offer, and says so.
    let students_grader = target.join("debug").join("grader");
    let output = Command::new(&students_grader)
        .arg("--reference")
        .current_dir(&handout)
        .output()
        .expect("the handout's grader runs");
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("has no reference implementation"),
        "{}",
        both(&output)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
