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
    for manifest in ["raft/Cargo.toml", "tests/Cargo.toml", "shardkv/Cargo.toml"] {
        let text = read(manifest);
        assert!(!text.contains("reference"), "{manifest}:\n{text}");
    }
    // The sharded KV builds its skeleton alone, as the raft crate does.
    let shardkv = read("shardkv/src/lib.rs");
    for gone in ["feature = \"reference\"", "mod reference", "reference::"] {
        assert!(
            !shardkv.contains(gone),
            "shardkv/src/lib.rs has {gone:?}:\n{shardkv}"
        );
    }
    assert!(shardkv.contains("pub const IS_REFERENCE: bool = false;"));
    assert!(files.iter().any(|f| f == "shardkv/src/skeleton/mod.rs"));
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
        "docs/lab-shardkv.md",
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
    package_features(&handout);

    // A directory with files is refused, unless --force.
    let again = grader(&["handout".as_ref(), handout.as_os_str()]);
    assert_eq!(again.status.code(), Some(2), "{}", both(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty; --force"));
    let forced = grader(&["handout".as_ref(), "--force".as_ref(), handout.as_os_str()]);
    assert!(forced.status.success(), "{}", both(&forced));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `grader handout --raft-reference` (for Labs 3 and 4): the reference Raft and its features
/// are in, with the students' instructions for it; the reference KV and sharded KV are not,
/// and nothing names their features. In that tree the grader refuses `--reference`, Lab 2's parts with
/// `--raft-reference`, and making a handout (all before building anything).
#[test]
fn the_raft_reference_handout_has_the_reference_raft_and_not_the_kv() {
    let dir = scratch("handout-raft-reference");
    let handout = dir.join("students");
    let output = grader(&[
        "handout".as_ref(),
        "--raft-reference".as_ref(),
        handout.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", both(&output));
    let files = common::files_under(&handout);
    assert!(files.iter().any(|f| f == "raft/src/reference/mod.rs"));
    assert!(files.iter().any(|f| f == "kvraft/src/skeleton/mod.rs"));
    assert!(files.iter().any(|f| f == "shardkv/src/skeleton/mod.rs"));
    assert!(!files.iter().any(|f| f == "kvraft/src/reference_rsm.rs"));
    for file in &files {
        assert!(!file.starts_with("kvraft/src/reference/"), "{file} is in");
        assert!(!file.starts_with("shardkv/src/reference/"), "{file} is in");
        assert!(
            !grader::layout::is_instructors_only(file) || file.starts_with("raft/src/reference/"),
            "{file} is in the handout"
        );
    }
    let read = |path: &str| std::fs::read_to_string(handout.join(path)).expect(path);
    // The raft crate builds the reference with its feature, the skeleton without.
    let lib = read("raft/src/lib.rs");
    for kept in [
        "#[cfg(feature = \"reference\")]\nmod reference;",
        "pub use reference::Raft;",
        "#[cfg(not(feature = \"reference\"))]\n#[allow(missing_docs)]\nmod skeleton;",
        "pub const IS_REFERENCE: bool = cfg!(feature = \"reference\");",
    ] {
        assert!(lib.contains(kept), "raft/src/lib.rs lacks {kept:?}:\n{lib}");
    }
    assert!(!lib.contains("IS_REFERENCE: bool = false"), "{lib}");
    assert!(read("raft/Cargo.toml").contains("\nreference = []"));
    let tests_manifest = read("tests/Cargo.toml");
    assert!(tests_manifest.contains("[features]\nraft-reference = [\"raft/reference\"]"));
    // The replay command names the feature the binary was built with.
    assert!(read("tests/src/lib.rs").contains("(raft::IS_REFERENCE, \"raft-reference\"),"));
    for file in &files {
        let Ok(text) = std::fs::read_to_string(handout.join(file)) else {
            continue;
        };
        if file.starts_with("grader/src/") {
            continue;
        }
        assert!(!text.contains("// instructors"), "{file} kept a marker");
        assert!(
            !text.contains("<!-- raft-reference"),
            "{file} kept a marker"
        );
        if file.starts_with("raft/src/reference/")
            || grader::layout::KEPT_WITH_THE_RAFT_REFERENCE.contains(&&**file)
        {
            continue;
        }
        for name in [
            "kvraft-reference",
            "kvraft/reference",
            "rsm-reference",
            "shardkv-reference",
            "shardkv/reference",
            "features reference",
        ] {
            assert!(!text.contains(name), "{file} names {name:?}");
        }
    }
    let kvraft_lib = read("kvraft/src/lib.rs");
    assert!(kvraft_lib.contains("pub const IS_RSM_REFERENCE: bool = false;"));
    let lab4 = read("docs/lab-shardkv.md");
    assert!(lab4.contains("This tree has the course's reference Raft"));
    assert!(!lab4.contains("reference rsm layer too") && !lab4.contains("<!--"));
    // The students' instructions for it are in, in the Lab 3 handout and the grader's.
    let lab = read("docs/lab-kvraft.md");
    assert!(lab.contains("cargo test --release -p tests 3a --features raft-reference"));
    assert!(lab.contains("cargo run --release -p grader -- --raft-reference"));
    assert!(lab.contains("This tree has it: the course's reference Raft"));
    assert!(read("grader/README.md").contains("| `--raft-reference` | off |"));
    // The grader's own source is as it is in the instructors' tree (its tests quote markers).
    let markers = std::fs::read_to_string(common::tree().join("grader/src/markers.rs"));
    assert_eq!(read("grader/src/markers.rs"), markers.expect("markers.rs"));
    // The manifests are valid, and `tests` has the one feature.
    let features = package_features(&handout);
    assert_eq!(
        features["tests"],
        serde_json::json!({"raft-reference": ["raft/reference"]})
    );
    assert_eq!(features["raft"], serde_json::json!({"reference": []}));
    assert_eq!(features["kvraft"], serde_json::json!({}));
    assert_eq!(features["shardkv"], serde_json::json!({}));

    // The grader run in that tree: refusals that need no build.
    let in_handout = |args: &[&str]| grader_in(&handout, args);
    let reference = in_handout(&["--reference"]);
    assert_eq!(reference.status.code(), Some(2), "{}", both(&reference));
    assert!(String::from_utf8_lossy(&reference.stderr).contains("has no reference implementation"));
    let lab2 = in_handout(&["--raft-reference", "--part", "2a,3a"]);
    assert_eq!(lab2.status.code(), Some(2), "{}", both(&lab2));
    assert!(
        String::from_utf8_lossy(&lab2.stderr).contains("2A are Lab 2's, which test the Raft alone"),
        "{}",
        both(&lab2)
    );
    let again = in_handout(&[
        "handout",
        "--raft-reference",
        dir.join("again").to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", both(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("students' tree already"));
    let rsm = in_handout(&["--rsm-reference"]);
    assert_eq!(rsm.status.code(), Some(2), "{}", both(&rsm));
    assert!(
        String::from_utf8_lossy(&rsm.stderr).contains("this tree has no reference rsm"),
        "{}",
        both(&rsm)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `grader handout --rsm-reference` (for Lab 4): the reference Raft and the reference rsm
/// alone are in, with their features and the students' instructions for them; the
/// reference KV service and sharded KV are not, and nothing names their features. In that
/// tree `grader --rsm-reference` takes Lab 4's parts alone (before building anything).
#[test]
fn the_rsm_reference_handout_has_the_reference_rsm_and_not_the_kv() {
    let dir = scratch("handout-rsm-reference");
    let handout = dir.join("students");
    let output = grader(&[
        "handout".as_ref(),
        "--rsm-reference".as_ref(),
        handout.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", both(&output));
    let files = common::files_under(&handout);
    for expected in [
        "raft/src/reference/mod.rs",
        "kvraft/src/reference_rsm.rs",
        "kvraft/src/skeleton/rsm.rs",
        "shardkv/src/skeleton/mod.rs",
    ] {
        assert!(files.iter().any(|f| f == expected), "{expected} is not in");
    }
    for file in &files {
        assert!(!file.starts_with("kvraft/src/reference/"), "{file} is in");
        assert!(!file.starts_with("shardkv/src/reference/"), "{file} is in");
        assert!(
            !grader::layout::is_instructors_only(file)
                || file.starts_with("raft/src/reference/")
                || file == "kvraft/src/reference_rsm.rs",
            "{file} is in the handout"
        );
    }
    let read = |path: &str| std::fs::read_to_string(handout.join(path)).expect(path);
    // The kvraft crate exports the reference rsm with its feature, the student's without;
    // the student's KV service is the only one there.
    let lib = read("kvraft/src/lib.rs");
    for kept in [
        "#[cfg(feature = \"rsm-reference\")]\nmod reference_rsm;",
        "#[cfg(feature = \"rsm-reference\")]\npub use reference_rsm::Rsm;",
        "#[cfg(not(feature = \"rsm-reference\"))]\npub use skeleton::Rsm;",
        "pub use skeleton::{Clerk, KvServer};",
        "pub const IS_RSM_REFERENCE: bool = true;",
        "pub const IS_REFERENCE: bool = false;",
    ] {
        assert!(
            lib.contains(kept),
            "kvraft/src/lib.rs lacks {kept:?}:\n{lib}"
        );
    }
    for gone in [
        "mod reference;",
        "feature = \"reference\"",
        "// rsm-reference",
    ] {
        assert!(
            !lib.contains(gone),
            "kvraft/src/lib.rs has {gone:?}:\n{lib}"
        );
    }
    let kvraft_manifest = read("kvraft/Cargo.toml");
    assert!(
        kvraft_manifest.contains("[features]\n")
            && kvraft_manifest.contains("\nrsm-reference = []\n")
            && !kvraft_manifest.contains("\nreference ="),
        "{kvraft_manifest}"
    );
    // The students' instructions for it are in: the Lab 4 handout's and the grader's.
    let lab = read("docs/lab-shardkv.md");
    assert!(lab.contains("It has the course's reference rsm layer too"));
    assert!(lab.contains("This tree has the course's reference Raft"));
    assert!(lab.contains("cargo run --release -p grader -- --rsm-reference"));
    assert!(!lab.contains("<!-- rsm-reference") && !lab.contains("<!-- instructors"));
    assert!(read("grader/README.md").contains("| `--rsm-reference` | off |"));
    // And the reference Raft's, as `--raft-reference` has them.
    assert!(read("docs/lab-kvraft.md").contains("This tree has it: the course's reference Raft"));
    for file in &files {
        let Ok(text) = std::fs::read_to_string(handout.join(file)) else {
            continue;
        };
        if file.starts_with("grader/src/") {
            continue;
        }
        assert!(!text.contains("// instructors"), "{file} kept a marker");
        assert!(!text.contains("rsm-reference:"), "{file} kept a marker");
        if file.starts_with("raft/src/reference/")
            || grader::layout::KEPT_WITH_THE_RAFT_REFERENCE.contains(&&**file)
        {
            continue;
        }
        for name in [
            "kvraft-reference",
            "kvraft/reference",
            "shardkv-reference",
            "shardkv/reference",
            "features reference",
        ] {
            assert!(!text.contains(name), "{file} names {name:?}");
        }
    }
    // The manifests are valid, with the features the instructions name.
    let features = package_features(&handout);
    assert_eq!(
        features["tests"],
        serde_json::json!({
            "raft-reference": ["raft/reference"],
            "rsm-reference": ["kvraft/rsm-reference"],
        })
    );
    assert_eq!(features["raft"], serde_json::json!({"reference": []}));
    assert_eq!(features["kvraft"], serde_json::json!({"rsm-reference": []}));
    assert_eq!(features["shardkv"], serde_json::json!({}));

    // The grader there: Lab 4 alone with --rsm-reference, refused before any build.
    let in_handout = |args: &[&str]| grader_in(&handout, args);
    let lab3 = in_handout(&["--rsm-reference", "--part", "3a,4b"]);
    assert_eq!(lab3.status.code(), Some(2), "{}", both(&lab3));
    assert!(
        String::from_utf8_lossy(&lab3.stderr).contains("3A are Lab 2's or Lab 3's"),
        "{}",
        both(&lab3)
    );
    let reference = in_handout(&["--reference"]);
    assert_eq!(reference.status.code(), Some(2), "{}", both(&reference));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The usual handout has no reference Raft: `--raft-reference` there says where it comes
/// from, before building anything.
#[test]
fn without_the_reference_raft_raft_reference_says_where_it_comes_from() {
    let dir = scratch("handout-no-raft-reference");
    let handout = dir.join("students");
    write_handout(&handout);
    let output = grader_in(&handout, &["--raft-reference"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("this tree has no reference Raft") && stderr.contains("--part rsm,3a,3b"),
        "{}",
        both(&output)
    );
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
/// kept between runs), builds its grader and 2A tests, and runs its skeleton's 2A tests.
/// Run by `.ci/run`: `cargo test --workspace --features tests/reference --test handout --
/// --ignored`.
#[test]
#[ignore = "builds the students' tree: minutes cold; .ci/run runs it"]
fn the_handout_builds_and_its_skeleton_fails_fast() {
    let dir = scratch("handout-build");
    let handout = dir.join("students");
    write_handout(&handout);
    let target = common::target_dir().join("handout");
    // The dependencies as the workspace's own builds left them (CI has built them by now):
    // the handout then compiles its own crates alone.
    common::copy_dependency_artifacts("debug", &target.join("debug"));
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

/// The handout for Lab 4 with the reference rsm and Raft compiles cleanly with their
/// features, as its students build it (in a target directory of its own: its crates have
/// the usual handout's names and paths, with other sources). Run by `.ci/run` with the test
/// above.
#[test]
#[ignore = "builds a students' tree: a minute cold; .ci/run runs it"]
fn the_rsm_reference_handout_builds_with_its_features() {
    let dir = scratch("handout-rsm-build");
    let handout = dir.join("students");
    let output = grader(&[
        "handout".as_ref(),
        "--rsm-reference".as_ref(),
        handout.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", both(&output));
    let target = common::target_dir().join("handout-rsm-reference");
    common::copy_dependency_artifacts("debug", &target.join("debug"));
    let clippy = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "clippy",
            "-p",
            "tests",
            "--all-targets",
            "--features",
            "raft-reference,rsm-reference",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(&handout)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        clippy.status.success(),
        "the handout with the reference rsm does not compile cleanly: {}",
        both(&clippy)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every package's cargo features in the tree `dir` (`cargo metadata`, which also checks
/// that its manifests are valid), by package name.
fn package_features(dir: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let metadata = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(dir)
        .output()
        .expect("cargo metadata runs");
    assert!(metadata.status.success(), "{}", both(&metadata));
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).expect("JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().expect("a package name").to_owned();
            (name, p["features"].clone())
        })
        .collect()
}

/// Runs this build's grader with `args` in the tree `dir`.
fn grader_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the grader runs")
}
