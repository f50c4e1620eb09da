//! Running one batch of seeds of one test in a child process, and reading what it decided.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use crate::channel::{self, Channel};
use crate::cli::Determinism;
use crate::crash::{self, Ending};
use crate::outcome::{Outcome, Reason, SeedRecord};
use crate::results;
use crate::sandbox::{self, Confinement, GroupSet, Jail};

/// How every child runs.
pub struct ChildSettings {
    /// Wall-clock limit for one child, at the least: a batch may take as long as its seeds'
    /// CPU budgets add up to, times [`ChildSettings::load_factor`] (see [`wall_limit`]).
    pub timeout: Duration,
    /// How many children share a core (`max(1, jobs / cores)`): the wall-clock limit
    /// stretches by as much, since a child waits for the CPU that long.
    pub load_factor: u32,
    /// Address-space limit for one child, in bytes.
    pub memory: u64,
    /// Which seeds run twice, their runs compared.
    pub check_determinism: Determinism,
    /// The CPU budget of one seed of a test (`catalogue::cpu_budget`; the grader's own
    /// tests give smaller ones).
    pub cpu_budget: fn(&str) -> Duration,
    /// A child stops after this many failed seeds (`LAB_MAX_FAILURES`); `None`: never.
    pub max_failures: Option<usize>,
    /// Run seeds under swarm fault plans (`LAB_SWARM=1`; `grader swarm`).
    pub swarm: bool,
    /// The watchdog's limit in the children (`LAB_WATCHDOG`): how long one step of lab
    /// code may run (CPU) or block before its test fails.
    pub watchdog: Duration,
    /// Where the children's result and stderr files go.
    pub scratch: PathBuf,
    /// Where the timeline pages of failing seeds are kept.
    /// (A lock: grading a class moves it from one submission's folder to the next.)
    pub pages: std::sync::Mutex<PathBuf>,
    /// Jail every child (Landlock and seccomp; see [`sandbox`]). Off only when the
    /// grader is told `--trusted`.
    pub jailed: bool,
    /// The process groups running now (for Ctrl-C).
    pub groups: GroupSet,
    /// Set by Ctrl-C: start nothing new.
    pub stop: AtomicBool,
}

/// A batch: seeds `first .. first + count` of one test, from one test binary.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The test binary.
    pub binary: PathBuf,
    /// The test's name.
    pub test: &'static str,
    /// The first seed.
    pub first: u64,
    /// How many seeds.
    pub count: u64,
}

/// What one child decided.
#[derive(Debug)]
pub struct BatchRun {
    /// The seeds it decided, in order: those with a result line, then, if the process
    /// ended mid-seed, that seed as a failure with the reason.
    pub records: Vec<SeedRecord>,
    /// The seeds left to run after a crash (`first .. first + count` of the batch).
    pub rest: Option<(u64, u64)>,
    /// The child's wall-clock time.
    pub wall: Duration,
    /// Set if Ctrl-C killed it: its undecided seeds were not run, not failed.
    pub interrupted: bool,
    /// Lines in its results that were not signed by labrpc (written by lab code), ignored.
    pub unsigned: usize,
    /// Set when the child stopped at its `max_failures`-th failure: how many seeds of the
    /// batch it did not run (skipped, not failed).
    pub stopped: Option<u64>,
    /// Set when the child hit the wall-clock limit while other children ran beside it: the
    /// seed it was in is not charged, and `rest` starts at it, to be run again alone.
    pub timed_out_shared: bool,
}

/// The wall-clock limit of a child running `batch`: the seeds' CPU budgets added up (or
/// `settings.timeout` if more), times the load factor. Only a safety net: a seed fails for
/// slowness by its CPU time, which hardly depends on load.
pub fn wall_limit(batch: &Batch, settings: &ChildSettings) -> Duration {
    let budgets = match catalogue::find(batch.test) {
        Some(_) => (settings.cpu_budget)(batch.test)
            .saturating_mul(u32::try_from(batch.count).unwrap_or(u32::MAX)),
        None => Duration::ZERO, // not a graded test (the grader's own tests)
    };
    budgets.max(settings.timeout) * settings.load_factor.max(1)
}

/// The largest file a test child may write (its timeline page): a page of the most events
/// a run records is well below it.
const CHILD_FILE_SIZE: u64 = 512 << 20;

/// Runs `batch` in a child process and returns what it decided. `alone`: no other child
/// runs beside it (a rerun after a timeout), so a timeout is charged to the seed.
pub fn run(batch: &Batch, settings: &ChildSettings, alone: bool) -> std::io::Result<BatchRun> {
    static NEXT_FILE: AtomicU64 = AtomicU64::new(0);
    let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
    let channel = Channel::new(&settings.scratch.join(n.to_string()))?;
    let stderr_path = settings.scratch.join(format!("{n}.stderr"));
    let stderr = File::create(&stderr_path)?;
    let mut command = Command::new(&batch.binary);
    command
        .args(["--exact", batch.test, "--test-threads=1", "-q"])
        // Nothing of the grader's environment (paths, home, tokens) reaches lab code.
        .env_clear()
        .env(channel::GRADER_VAR, "1")
        .env("LAB_SEED", batch.first.to_string())
        .env("LAB_RUNS", batch.count.to_string())
        .env("LAB_KEEP_GOING", "1")
        .env(
            "LAB_CHECK_DETERMINISM",
            settings.check_determinism.env_value(),
        )
        .env("LAB_SWARM", if settings.swarm { "1" } else { "0" })
        // labrpc stops a run over its budget while it runs (a pass over it is caught below).
        .env(
            "LAB_CPU_BUDGET",
            format!("{}ms", (settings.cpu_budget)(batch.test).as_millis().max(1)),
        )
        .env(
            "LAB_MAX_FAILURES",
            settings
                .max_failures
                .map_or(0, |max| max.max(1))
                .to_string(),
        )
        .env(
            "LAB_WATCHDOG",
            format!("{}ms", settings.watchdog.as_millis().max(1)),
        )
        // Each child draws the timeline of its first failing seed only: enough to show
        // every test's lowest failing seed, without a page per seed of a broken lab.
        .env("LAB_VIS", "first-failure")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let jail = if settings.jailed {
        let jail = Jail {
            read: Vec::new(),
            execute: sandbox::SYSTEM_LIBRARIES
                .iter()
                .map(PathBuf::from)
                .chain([batch.binary.clone()])
                .collect(),
            write: Vec::new(),
            no_processes: true,
        };
        Some(jail.prepare().map_err(std::io::Error::other)?)
    } else {
        None
    };
    let confinement = Confinement {
        memory: settings.memory,
        file_size: Some(CHILD_FILE_SIZE),
        fds: channel.descriptors()?,
        jail,
    };
    let started = Instant::now();
    let mut child = sandbox::spawn(&mut command, confinement)?;
    let group = child.id();
    settings.groups.insert(group);
    if settings.stop.load(Ordering::SeqCst) {
        sandbox::kill_group(group); // Ctrl-C came between the check and the spawn
    }
    let (done, wait_done) = crossbeam_channel::bounded::<()>(0);
    let timeout = wall_limit(batch, settings);
    let timer = std::thread::spawn(move || match wait_done.recv_timeout(timeout) {
        Err(RecvTimeoutError::Timeout) => {
            sandbox::kill_group(group);
            true
        }
        _ => false,
    });
    let status = child.wait();
    drop(done);
    let timed_out = timer.join().unwrap_or(false);
    // Whatever the child left behind in its group goes with it.
    sandbox::kill_group(group);
    settings.groups.remove(group);
    let wall = started.elapsed();

    // Every process of the child's group is gone (killed above; the jail lets it start no
    // other), so nothing can write to the channel's files any more.
    let (text, unsigned) = channel.read_results();
    let mut records = Vec::new();
    let mut next = batch.first;
    let end = batch.first + batch.count;
    for line in results::parse(&text) {
        // Seeds run in order; a line for any other test or seed is not this batch's.
        if line.test != batch.test || line.seed != next || next >= end {
            continue;
        }
        records.push(SeedRecord {
            seed: line.seed,
            outcome: line.outcome,
            timeline: None,
        });
        next += 1;
    }
    // Over its CPU budget, a pass is a failure: measured by labrpc on the seed's own thread,
    // so the verdict does not depend on what else the machine runs.
    let budget = (settings.cpu_budget)(batch.test);
    for record in &mut records {
        if let Outcome::Fail { reason, message } = &mut record.outcome
            && message.starts_with("labrpc: over its CPU budget")
        {
            *reason = Reason::TooSlow;
        }
        if let Outcome::Pass {
            cpu_ns: Some(cpu_ns),
            ..
        } = record.outcome
            && Duration::from_nanos(cpu_ns) > budget
        {
            record.outcome = Outcome::Fail {
                reason: Reason::TooSlow,
                message: format!(
                    "the seed passed, but used {:.2} s of CPU time, more than the test's \
                     budget of {:.2} s ({} times the reference's slowest seed, at least {} s): \
                     look for busy loops, or work that grows with the log",
                    cpu_ns as f64 / 1e9,
                    budget.as_secs_f64(),
                    catalogue::CPU_BUDGET_MULTIPLE,
                    catalogue::CPU_BUDGET_FLOOR.as_secs()
                ),
            };
        }
    }
    let stderr_tail = read_tail(&stderr_path, 256 << 10);
    if settings.check_determinism != Determinism::Off {
        mark_nondeterminism(&mut records, &stderr_tail);
    }
    let page = channel.page();
    let _ = std::fs::remove_file(&stderr_path);

    let interrupted = settings.stop.load(Ordering::SeqCst) && next < end;
    // labrpc's signed word that it stopped before seed `next` (LAB_MAX_FAILURES).
    let stop_line = format!("labrpc-stopped\t{}\t{next}", batch.test);
    let stopped = (next < end && text.lines().any(|line| line == stop_line)).then_some(end - next);
    let mut rest = None;
    let timed_out_shared = timed_out && !alone && next < end && !interrupted && stopped.is_none();
    if timed_out_shared {
        rest = Some((next, end - next));
    } else if next < end && !interrupted && stopped.is_none() {
        let (reason, message) = crash::classify(&Ending {
            stderr: &stderr_tail,
            status: status.ok(),
            timed_out: timed_out.then_some(timeout),
            memory_limit: settings.memory,
        });
        records.push(SeedRecord {
            seed: next,
            outcome: Outcome::Fail { reason, message },
            timeline: None,
        });
        if next + 1 < end {
            rest = Some((next + 1, end - next - 1));
        }
    }
    // The page the child drew (its first failing seed, or the seed it ended in, drawn on
    // its way out), kept under its name if it is a failing seed of this batch.
    if let Some((test, seed, file)) = page
        && test == batch.test
        && let Some(record) = records
            .iter_mut()
            .find(|r| r.seed == seed && matches!(r.outcome, Outcome::Fail { .. }))
    {
        record.timeline = channel::keep_page(file, &test, seed, &pages_dir(settings))
            .map(|path| path.display().to_string());
    }
    channel.remove();
    Ok(BatchRun {
        records,
        rest,
        wall,
        interrupted,
        unsigned,
        stopped,
        timed_out_shared,
    })
}

/// Where `settings` keeps pages now.
fn pages_dir(settings: &ChildSettings) -> PathBuf {
    settings
        .pages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Relabels the failures that were determinism failures: labrpc's message says so, or, when
/// the second run of a seed panicked, its stderr does.
fn mark_nondeterminism(records: &mut [SeedRecord], stderr: &str) {
    for record in records {
        let Outcome::Fail { reason, message } = &mut record.outcome else {
            continue;
        };
        let second_run_failed = format!(
            "the second run of seed {} failed although the first passed",
            record.seed
        );
        if message.contains("determinism check failed") {
            *reason = Reason::NotDeterministic;
        } else if stderr.contains(&second_run_failed) {
            *reason = Reason::NotDeterministic;
            *message = format!("{second_run_failed}: {message}");
        }
    }
}

/// The last `limit` bytes of a file, as text (lab code may print without bound; what
/// names a crash comes last).
fn read_tail(path: &Path, limit: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(length.saturating_sub(limit)));
    let mut bytes = Vec::new();
    let _ = file.take(limit).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
