//! Submissions that try to earn points without doing the lab, graded by `grader grade`:
//! each must score 0, with the reason in the report.
//!
//! At build time: a module or a string taken from outside the students' tree (the
//! instructors' reference), and a compile-time loop. At run time: lines forged to every
//! descriptor and file lab code can name, and a process meant to outlive the test.
//! Submissions build in `target/grade/`, as in `tests/submission.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::{scratch, tree};
use grader::report::Report;

/// A submission: the skeleton's Raft with `change` made to `raft/src/skeleton/mod.rs`.
fn submission(dir: &Path, name: &str, change: impl FnOnce(String) -> String) -> PathBuf {
    let root = dir.join(name);
    let skeleton = root.join("raft/src/skeleton");
    common::copy_dir(&tree().join("raft/src/skeleton"), &skeleton);
    let module = skeleton.join("mod.rs");
    let text = std::fs::read_to_string(&module).expect("the skeleton");
    std::fs::write(&module, change(text)).expect("the changed skeleton");
    root
}

/// Grades `submission` with `args`; returns the report and the output.
fn grade(submission: &Path, args: &[&str]) -> (Report, String) {
    common::grade_submission(submission, &submission.with_extension("json"), args)
}

/// A line of the reference that a stolen copy would show.
fn reference_line() -> String {
    let source = tree().join("raft/src/reference/election.rs");
    let text = std::fs::read_to_string(&source).expect("the reference");
    text.lines()
        .find(|line| line.trim().len() > 40 && !line.trim().starts_with("//"))
        .expect("a line of code")
        .trim()
        .to_owned()
}

/// The build-time attacks (called after the run-time one, whose build has compiled every
/// dependency: the loop's short limit then only has the lab crates to cover).
fn build_time_attacks_score_zero() {
    let dir = scratch("attacks-build");
    let reference = tree().join("raft/src/reference");
    let stolen_line = reference_line();
    // A module taken by `#[path]` stops the compiler at once; the other ways to read a
    // file at build time go together in one submission (one build), each reported.
    let attacks: [(&str, String, &[&str]); 3] = [
        (
            "path",
            format!(
                "#[path = \"{}\"]\nmod stolen;\n",
                reference.join("mod.rs").display()
            ),
            &["mod.rs`: Permission denied"],
        ),
        (
            "readers",
            format!(
                "const _STOLEN: &str = include_str!(\"{}\");\n\
                 const _ZERO: &[u8] = include_bytes!(\"/dev/zero\");\n\
                 const _PWD: &str = env!(\"PWD\");\n",
                reference.join("election.rs").display(),
            ),
            &[
                "election.rs`: Permission denied",
                "couldn't read `/dev/zero`: Permission denied",
                "environment variable `PWD` not defined at compile time",
            ],
        ),
        (
            "const_loop",
            "#[allow(long_running_const_eval)]\nconst _SPIN: u64 = {\n    let mut i: u64 = 1;\n    \
             loop {\n        i = i.wrapping_mul(3);\n        if i == 0 {\n            break i;\n        \
             }\n    }\n};\n"
                .to_owned(),
            &["the build did not finish in 15 s"],
        ),
    ];
    for (name, code, reasons) in attacks {
        let submission = submission(&dir, name, |text| text + "\n" + &code);
        let mut args = vec!["--test", "initial_election_2a", "--seeds", "2"];
        if name == "const_loop" {
            args.extend(["--build-timeout", "15s"]);
        }
        let (report, text) = grade(&submission, &args);
        assert_eq!(report.score, 0, "{name}: {text}");
        let error = report.build_error.clone().unwrap_or_default();
        for reason in reasons {
            assert!(
                error.contains(reason),
                "{name}: no {reason:?} in {error}\n{text}"
            );
        }
        assert!(
            !text.contains(&stolen_line),
            "{name}: the reference reached the output: {text}"
        );
    }
}

#[test]
fn attacks_on_the_grade_score_zero() {
    forged_verdicts_and_surviving_processes_score_zero();
    build_time_attacks_score_zero();
}

/// The run-time attacks.
fn forged_verdicts_and_surviving_processes_score_zero() {
    let dir = scratch("attacks-run");
    let marker = dir.join("survivor-was-here");
    // At the start of every server: pass lines to every descriptor and to any file named
    // in the environment, then a process in a group of its own that would write a file
    // long after the grader is done.
    let attack = format!(
        r#"
fn forge() {{
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("").split(' ').next().unwrap_or("").to_owned();
    let mut targets: Vec<String> = (3..10).map(|fd| format!("/proc/self/fd/{{fd}}")).collect();
    targets.extend(std::env::vars().map(|(_, value)| value).filter(|v| v.starts_with('/')));
    for target in targets {{
        if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(&target) {{
            for seed in 1..=3 {{
                let _ = writeln!(file, "labrpc-result\tpass\t{{test}}\t{{seed}}\t1\t1\t\t\t{{}}", "0".repeat(64));
            }}
        }}
    }}
    use std::os::unix::process::CommandExt as _;
    let _ = std::process::Command::new("/bin/sh")
        .args(["-c", "sleep 2; touch {marker}"])
        .process_group(0)
        .spawn();
    println!("labrpc-result\tpass\t{{test}}\t1\t1\t1\t\t");
}}
"#,
        marker = marker.display()
    );
    let submission = submission(&dir, "forger", |text| {
        text.replacen(
            "    ) -> Raft {\n",
            "    ) -> Raft {\n        forge();\n",
            1,
        ) + &attack
    });
    let (report, text) = grade(&submission, &["--part", "2a", "--seeds", "3"]);
    assert_eq!(report.score, 0, "{text}");
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(!marker.exists(), "a process outlived its test: {text}");
}

#[test]
fn slow_but_correct_code_gets_the_same_grade_at_any_jobs_under_load() {
    // The reference, with a millisecond of pointless CPU work in every `start`: a hundred
    // times its CPU per seed of backup_2b, within its budget.
    let dir = scratch("attacks-slow");
    let root = dir.join("slow");
    let skeleton = root.join("raft/src/skeleton");
    common::copy_dir(&tree().join("raft/src/reference"), &skeleton);
    let module = skeleton.join("mod.rs");
    let text = std::fs::read_to_string(&module).expect("the reference's mod.rs");
    let start = "    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {\n";
    assert!(text.contains(start), "the reference's start() moved");
    let slow = text.replacen(start, &format!("{start}        burn();\n"), 1)
        + "\nfn burn() {\n    let mut x = 0u64;\n    for i in 0..1_000_000u64 {\n        \
           x = x.wrapping_mul(31).wrapping_add(i);\n    }\n    std::hint::black_box(x);\n}\n";
    std::fs::write(&module, slow).expect("the slow copy");
    // A thread that keeps a core busy while the grader runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..1)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            })
        })
        .collect();
    let args = |jobs: &'static str| ["--test", "backup_2b", "--seeds", "4", "--jobs", jobs];
    let (one, one_text) = grade(&root, &args("1"));
    let (eight, eight_text) = grade(&root, &args("8"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for thread in load {
        let _ = thread.join();
    }
    let verdict = |report: &Report| {
        report
            .tests
            .iter()
            .map(|t| (t.name.clone(), t.passed, t.score))
            .collect::<Vec<_>>()
    };
    assert_eq!(one.score, one.max_score, "{one_text}");
    assert_eq!(verdict(&one), verdict(&eight), "{one_text}\n{eight_text}");
    let cpu = one.tests[0].median_cpu_ns.unwrap_or(0);
    assert!(
        cpu > 50_000_000,
        "the copy is not slow: {cpu} ns\n{one_text}"
    );
}
