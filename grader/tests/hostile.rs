//! A child whose lab code exits, aborts, overflows its stack, leaks memory, spins or hangs
//! fails that seed with the right reason, and the seeds after it still run; no seed passes
//! without its own pass line.
//!
//! The children are `examples/hostile_tests.rs`, a stand-in test binary built on labrpc that
//! misbehaves on seed 3 of each test.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use grader::child::{self, Batch, ChildSettings};
use grader::outcome::{Outcome, Reason, SeedRecord};
use grader::sandbox::GroupSet;

/// The example binary, built by `cargo test` beside this test's binary.
fn hostile_binary() -> PathBuf {
    let deps = std::env::current_exe().expect("the test binary's path");
    let profile = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps");
    let binary = profile.join("examples").join("hostile_tests");
    assert!(
        binary.exists(),
        "{} is missing: cargo test builds the examples",
        binary.display()
    );
    binary
}

/// The wall-clock limit of a child. Generous: the watchdog (300 ms of CPU time) must end a
/// spinning child long before it, however loaded the machine (CI runs other tests beside
/// these), or the test would see a timeout instead.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// The wall-clock limit of the child that hangs, which only the limit can end.
const HANG_TIMEOUT: Duration = Duration::from_secs(3);

fn settings(test: &str, check_determinism: bool) -> ChildSettings {
    let scratch = std::env::temp_dir().join(format!(
        "grader-test-{}-{test}-{check_determinism}",
        std::process::id(),
    ));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    ChildSettings {
        timeout: if test == "hangs" {
            HANG_TIMEOUT
        } else {
            CHILD_TIMEOUT
        },
        memory: 1 << 30,
        max_failures: None,
        load_factor: 1,
        cpu_budget: |_| Duration::from_millis(200),
        check_determinism: if check_determinism {
            grader::cli::Determinism::EverySeed
        } else {
            grader::cli::Determinism::Off
        },
        swarm: false,
        watchdog: Duration::from_millis(300),
        // Beside the scratch directory, which goes at the end of a run: the tests read the
        // pages after.
        pages: std::sync::Mutex::new(scratch.with_extension("pages")),
        scratch,
        jailed: true,
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    }
}

/// Runs seeds 1..=5 of `test`, restarting after a crash as the grader does; returns every
/// record and how many processes it took.
fn run_seeds(test: &'static str, check_determinism: bool) -> (Vec<SeedRecord>, usize) {
    let settings = settings(test, check_determinism);
    let mut batch = Batch {
        binary: hostile_binary(),
        test,
        first: 1,
        count: 5,
    };
    let mut records = Vec::new();
    let mut processes = 0;
    loop {
        let run = child::run(&batch, &settings, true).expect("the child starts");
        processes += 1;
        records.extend(run.records);
        match run.rest {
            Some((first, count)) => {
                batch.first = first;
                batch.count = count;
            }
            None => break,
        }
    }
    let _ = std::fs::remove_dir_all(&settings.scratch);
    (records, processes)
}

/// The failing seed's timeline page was drawn and linked, unless the process died in a
/// way that leaves no chance to draw (an abort, a stack overflow, the memory limit).
fn assert_timeline(test: &str, record: &SeedRecord, reason: Reason) {
    let drawn = matches!(
        reason,
        Reason::TestFailed | Reason::ExitCalled | Reason::Watchdog
    );
    match (&record.timeline, drawn) {
        (Some(path), true) => {
            assert!(
                path.ends_with(&format!("{test}-seed3.html")),
                "{test}: {path}"
            );
            let page = std::fs::read_to_string(path).expect("the timeline page exists");
            assert!(
                page.contains("<svg") || page.contains("id=\"data\""),
                "{test}: {path}"
            );
        }
        (None, false) => {}
        (timeline, _) => panic!("{test} ({reason:?}): timeline {timeline:?}"),
    }
}

/// Seeds 1, 2, 4 and 5 pass; seed 3 fails with `reason`, its message containing `says`.
fn assert_only_seed_3_fails(test: &'static str, reason: Reason, says: &str) {
    let started = Instant::now();
    let (records, processes) = run_seeds(test, false);
    let seeds: Vec<u64> = records.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, [1, 2, 3, 4, 5], "{test}: {records:?}");
    for record in &records {
        match (&record.outcome, record.seed) {
            (Outcome::Pass { .. }, seed) if seed != 3 => {}
            (
                Outcome::Fail {
                    reason: got,
                    message,
                },
                3,
            ) => {
                assert_eq!(*got, reason, "{test}: {message}");
                assert!(message.contains(says), "{test}: {message:?} lacks {says:?}");
                assert_timeline(test, record, reason);
            }
            _ => panic!("{test}: unexpected {record:?}"),
        }
    }
    let expected_processes = if reason.is_crash() { 2 } else { 1 };
    assert_eq!(processes, expected_processes, "{test}");
    eprintln!("{test}: {reason:?} in {:?}", started.elapsed());
}

#[test]
fn a_failing_seed_is_a_test_failure_and_the_others_pass() {
    assert_only_seed_3_fails("fails", Reason::TestFailed, "expected one leader");
}

#[test]
fn exit_in_lab_code_is_a_failure_not_a_pass() {
    assert_only_seed_3_fails("exits", Reason::ExitCalled, "exit");
}

#[test]
fn an_abort_is_a_failure() {
    assert_only_seed_3_fails("aborts", Reason::Aborted, "aborted");
}

#[test]
fn a_stack_overflow_is_a_failure() {
    assert_only_seed_3_fails("overflows", Reason::StackOverflow, "seed=3");
}

#[test]
fn a_memory_blow_up_is_stopped_by_the_limit() {
    assert_only_seed_3_fails("leaks", Reason::OutOfMemory, "memory allocation");
}

#[test]
fn code_that_never_yields_is_ended_by_the_watchdog() {
    // Measured in CPU time even in the jail, where /proc cannot be read: a loaded machine
    // never makes the watchdog fire.
    assert_only_seed_3_fails("spins", Reason::Watchdog, "of CPU time in one poll");
}

#[test]
fn a_child_that_hangs_is_killed_at_the_wall_clock_limit() {
    let settings = settings("hangs", false);
    let started = Instant::now();
    let run = child::run(
        &Batch {
            binary: hostile_binary(),
            test: "hangs",
            first: 1,
            count: 2,
        },
        &settings,
        true,
    )
    .expect("the child starts");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(
            &run.records[..],
            [SeedRecord {
                seed: 1,
                outcome: Outcome::Fail {
                    reason: Reason::Timeout,
                    ..
                },
                ..
            }]
        ),
        "{run:?}"
    );
    assert_eq!(run.rest, Some((2, 1)));
    let _ = std::fs::remove_dir_all(&settings.scratch);
}

#[test]
fn nondeterminism_is_named_as_such() {
    let (records, _) = run_seeds("not_deterministic", true);
    let failed: Vec<&SeedRecord> = records.iter().filter(|r| !r.outcome.passed()).collect();
    assert!(
        matches!(
            &failed[..],
            [SeedRecord {
                seed: 3,
                outcome: Outcome::Fail {
                    reason: Reason::NotDeterministic,
                    ..
                },
                ..
            }]
        ),
        "{records:?}"
    );
    // Without the check, the same code passes every seed.
    let (records, _) = run_seeds("not_deterministic", false);
    assert!(records.iter().all(|r| r.outcome.passed()), "{records:?}");
}

/// Seed 3 of an attack failed as a test failure (or with `reason`), with a message saying
/// the attack was refused at every step; every other seed passed.
fn assert_attack_refused(test: &'static str, reason: Reason) {
    let (records, _) = run_seeds(test, false);
    let seeds: Vec<u64> = records.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, [1, 2, 3, 4, 5], "{test}: {records:?}");
    for record in &records {
        match (&record.outcome, record.seed) {
            (Outcome::Pass { .. }, seed) if seed != 3 => {}
            (
                Outcome::Fail {
                    reason: got,
                    message,
                },
                3,
            ) => {
                assert_eq!(*got, reason, "{test}: {message}");
                if reason == Reason::TestFailed {
                    assert!(message.contains("refused"), "{test}: {message}");
                    assert!(
                        !message.contains("WORKED"),
                        "{test}: the attack worked: {message}"
                    );
                }
            }
            _ => panic!("{test}: unexpected {record:?}"),
        }
    }
}

#[test]
fn forged_result_lines_do_not_count() {
    assert_attack_refused("forges", Reason::TestFailed);
}

#[test]
fn lab_code_cannot_start_a_process() {
    assert_attack_refused("spawns", Reason::TestFailed);
}

#[test]
fn lab_code_reads_no_file_outside_its_binary() {
    assert_attack_refused("reads", Reason::TestFailed);
}

#[test]
fn lab_code_writes_no_file() {
    assert_attack_refused("writes", Reason::TestFailed);
    assert!(!std::path::Path::new("/tmp/hostile-wrote-this").exists());
}

#[test]
fn lab_code_cannot_start_a_test_of_its_own() {
    assert_attack_refused("nests", Reason::TestFailed);
}

#[test]
fn a_process_that_executes_itself_again_writes_no_verdict() {
    // The new image has no key (the pipe was read and closed; the files close on exec):
    // labrpc stops it, and the seed it ended in fails.
    assert_attack_refused("execs", Reason::Crashed);
}

#[test]
fn unsigned_lines_do_not_count_even_without_the_jail() {
    // Without Landlock, lab code can reopen the results file through /proc/self/fd and
    // write lines to it; the signature alone keeps them from counting.
    let mut settings = settings("forges", false);
    settings.jailed = false;
    let run = child::run(
        &Batch {
            binary: hostile_binary(),
            test: "forges",
            first: 1,
            count: 5,
        },
        &settings,
        true,
    )
    .expect("the child starts");
    let _ = std::fs::remove_dir_all(&settings.scratch);
    let seed_3 = &run.records[2];
    assert!(
        matches!(&seed_3.outcome, Outcome::Fail { message, .. } if message.contains("WORKED")),
        "without the jail the forged lines reach the file: {run:?}"
    );
    assert!(run.unsigned >= 1, "{run:?}");
}

#[test]
fn a_seed_over_its_cpu_budget_fails_as_too_slow() {
    let (records, _) = run_seeds("burns", false);
    let failed: Vec<&SeedRecord> = records.iter().filter(|r| !r.outcome.passed()).collect();
    assert!(
        matches!(
            &failed[..],
            [SeedRecord {
                seed: 3,
                outcome: Outcome::Fail {
                    reason: Reason::TooSlow,
                    ..
                },
                ..
            }]
        ),
        "{records:?}"
    );
}

#[test]
fn a_seed_that_burns_cpu_without_end_is_stopped_at_its_budget() {
    // Not at the wall-clock limit (30 s here): the budget (200 ms) is checked as it runs.
    let started = Instant::now();
    let (records, _) = run_seeds("burns_on", false);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let failed: Vec<&SeedRecord> = records.iter().filter(|r| !r.outcome.passed()).collect();
    assert!(
        matches!(
            &failed[..],
            [SeedRecord {
                seed: 3,
                outcome: Outcome::Fail {
                    reason: Reason::TooSlow,
                    ..
                },
                ..
            }]
        ),
        "{records:?}"
    );
}

/// A seed that fails on a limit of real resources (here the watchdog, on its first run
/// only, as when the machine ran short of memory) runs again alone before it is charged:
/// the simulation is deterministic, so a verdict that does not come back was the machine's.
/// Code that really spins fails the second run too.
#[test]
fn a_failure_on_real_resources_is_confirmed_by_a_second_run() {
    use grader::progress::Progress;
    use grader::schedule::{self, Work};
    let run = |test: &'static str| {
        let mut settings = settings(test, false);
        settings.jailed = false; // spins_once keeps a mark in a file
        // Not the directories of the test that runs `spins` through `child::run` beside
        // this one.
        settings.scratch = settings.scratch.with_extension("confirmed");
        settings.pages = std::sync::Mutex::new(settings.scratch.with_extension("confirmed-pages"));
        // The watchdog (300 ms), not the CPU budget, ends the spinning.
        settings.cpu_budget = |_| Duration::from_secs(5);
        std::fs::create_dir_all(&settings.scratch).expect("a scratch directory");
        let test: &'static catalogue::Test = Box::leak(Box::new(catalogue::Test {
            part: "X",
            name: test,
            course_name: "",
            target: "hostile_tests",
            points: 1,
            time_limit: Duration::from_secs(10),
            description: "",
        }));
        let work = [Work {
            test,
            binary: hostile_binary(),
            first: 1,
            count: 5,
        }];
        let progress = Progress::new(&[(test.name, 5)], true);
        let decided = schedule::run(&work, 1, 5, 5, &settings, &progress);
        let _ = std::fs::remove_dir_all(&settings.scratch);
        let _ = std::fs::remove_dir_all(settings.scratch.with_extension("confirmed-pages"));
        decided.records[test.name].clone()
    };
    let mark = std::env::temp_dir().join(format!("grader-spins-once-{}.ran", std::process::id()));
    let records = run("spins_once");
    assert!(mark.exists(), "seed 3's first run spun");
    let _ = std::fs::remove_file(&mark);
    assert_eq!(records.len(), 5, "{records:?}");
    assert!(records.iter().all(|r| r.outcome.passed()), "{records:?}");

    let records = run("spins");
    let failed: Vec<u64> = records
        .iter()
        .filter(|r| !r.outcome.passed())
        .map(|r| r.seed)
        .collect();
    assert_eq!(failed, [3], "{records:?}");
}
