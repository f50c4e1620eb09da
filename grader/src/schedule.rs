//! Spreading the seeds of the selected tests over `--jobs` child processes at a time.
//!
//! Two rounds through a work queue. First a probe of each test (its first two seeds) measures
//! what a seed of it costs with this code. Then the rest of every test's seeds is cut into
//! batches and queued longest first (by that measure), so the last batches to finish are
//! short ones and no core idles while another works through a long test alone.
//!
//! Where batches start and end never depends on a measurement: they are cut at every
//! multiple of the test's [`batch_seeds`], which comes from the catalogue's figure for the
//! reference (its slowest seed's CPU time), never from this run. Which seeds share a process
//! then depends only on the seeds asked for, not on how loaded the machine was, so code
//! whose damage outlives a seed (memory leaked with `mem::forget` or kept in a `static`)
//! gets the same verdict on every run of the same command. Sizing batches by that figure
//! is what keeps one test from bounding the wall time: 98 seeds of the slowest test
//! (`snapshot_recover_many_clients_3b`, ~0.55 s each) in one child were some 50 s of a
//! 180 s grade of Lab 3, more than a core's share on four cores, and a batch that a busy
//! machine slows down cannot be shared out.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::child::{self, Batch, ChildSettings};
use crate::outcome::{Outcome, SeedRecord};
use crate::progress::Progress;

/// Seeds of each test run first, to measure it.
const PROBE_SEEDS: u64 = 2;

/// The most seeds in a batch, and where batches of every test end: large enough that
/// starting a process (a few milliseconds) and running its first seed twice (the default
/// determinism check) are a small share of a batch of a fast test (100 × ~0.1 ms to
/// 100 × ~100 ms), small enough that a batch of one leaves the other cores work to do.
pub const BATCH_SEEDS: u64 = 100;

/// The reference CPU time one batch is sized for: 20 s by the catalogue's figures (about
/// 15 s in practice: the figure is the slowest seed's), so that a 100-seed grade of Lab 3
/// (some 180 s of CPU) has no batch longer than a twelfth of it and the run ends within a
/// few per cent of its CPU time over the cores, on 2 cores and on 8. Smaller costs more CPU
/// for little: each batch is a process start and one seed run twice (the determinism
/// check), which at 10 s added 4 % to Lab 3's CPU against 1 % at 20 s.
const BATCH_CPU: Duration = Duration::from_secs(20);

/// The batch sizes to choose from: the divisors of [`BATCH_SEEDS`], so that every batch
/// boundary of 100 stays one (a shard, or a run with more seeds, cuts the same seeds
/// apart).
const BATCH_SIZES: &[u64] = &[100, 50, 25, 20, 10, 5, 4, 2, 1];

/// How many seeds of `test` share a batch: the largest of [`BATCH_SIZES`] whose seeds cost
/// at most [`BATCH_CPU`] by the catalogue's figure for the reference's slowest seed
/// (`cpu_budget / CPU_BUDGET_MULTIPLE`, which is that figure or 100 ms if it is less). A
/// fixed figure, not this run's measurement: see the module's comment.
pub fn batch_seeds(test: &str) -> u64 {
    let per_seed = catalogue::cpu_budget(test) / catalogue::CPU_BUDGET_MULTIPLE;
    BATCH_SIZES
        .iter()
        .copied()
        .find(|&size| per_seed * u32::try_from(size).unwrap_or(u32::MAX) <= BATCH_CPU)
        .unwrap_or(1)
}

/// Seeds `first .. end` cut at every multiple of `size`, as `(first, count)`.
fn batch_ranges(mut first: u64, end: u64, size: u64) -> Vec<(u64, u64)> {
    let size = size.max(1);
    let mut ranges = Vec::new();
    while first < end {
        let boundary = (first / size + 1).saturating_mul(size);
        let count = boundary.min(end) - first;
        ranges.push((first, count));
        first += count;
    }
    ranges
}

/// The seeds of one test to run.
#[derive(Debug, Clone)]
pub struct Work {
    /// The test.
    pub test: &'static catalogue::Test,
    /// Its test binary.
    pub binary: PathBuf,
    /// The first seed.
    pub first: u64,
    /// How many seeds.
    pub count: u64,
}

/// What running the work decided.
#[derive(Debug, Default)]
pub struct Decided {
    /// Per test, the seeds decided, in seed order.
    pub records: BTreeMap<&'static str, Vec<SeedRecord>>,
    /// Per test, the seeds skipped because it crashed too often.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Set if Ctrl-C stopped the run before everything was decided.
    pub interrupted: bool,
}

/// Shared by the workers.
struct Shared<'a> {
    settings: &'a ChildSettings,
    progress: &'a Progress,
    max_crashes: usize,
    max_failures: usize,
    decided: Mutex<Decided>,
    /// Per test, the seeds on which a child crashed.
    crashes: Mutex<BTreeMap<&'static str, Vec<u64>>>,
    /// Per test, the seeds that failed (crashes included).
    failures: Mutex<BTreeMap<&'static str, Vec<u64>>>,
    /// Children run holding it shared; a batch that hit the wall-clock limit beside others
    /// runs again holding it alone, before any seed is charged with the timeout.
    machine: std::sync::RwLock<()>,
    /// Per test, how many seeds were run again to confirm a failure on real resources.
    confirmations: Mutex<BTreeMap<&'static str, usize>>,
}

/// The most seeds of one test run again to confirm a failure on real resources
/// ([`Outcome::failed_on_real_resources`]): a machine in trouble distorts a few seeds, and
/// code that really is stuck or slow fails every seed, which need not all run twice.
pub const MAX_CONFIRMATIONS: usize = 3;

/// Runs `work` on `jobs` workers and returns every seed's record.
pub fn run(
    work: &[Work],
    jobs: usize,
    max_crashes: usize,
    max_failures: usize,
    settings: &ChildSettings,
    progress: &Progress,
) -> Decided {
    let shared = Shared {
        settings,
        progress,
        max_crashes: max_crashes.max(1),
        max_failures: max_failures.max(1),
        decided: Mutex::new(Decided::default()),
        crashes: Mutex::new(BTreeMap::new()),
        failures: Mutex::new(BTreeMap::new()),
        machine: std::sync::RwLock::new(()),
        confirmations: Mutex::new(BTreeMap::new()),
    };
    let jobs = jobs.max(1);

    // Round 1: probes, the slowest by the catalogue's figures first, so that the last probe
    // to end (all must end before round 2) is a short one.
    let mut probes: Vec<(Batch, Duration)> = work
        .iter()
        .filter(|w| w.count > 0)
        .map(|w| {
            let batch = Batch {
                binary: w.binary.clone(),
                test: w.test.name,
                first: w.first,
                count: w.count.min(PROBE_SEEDS),
            };
            (batch, Duration::ZERO)
        })
        .collect();
    probes.sort_by_key(|(batch, _)| std::cmp::Reverse(catalogue::cpu_budget(batch.test)));
    let measured = drain(&shared, probes, jobs);

    // Round 2: the rest, in batches cut at multiples of each test's batch size, longest
    // first.
    let mut batches = Vec::new();
    for w in work {
        let end = w.first + w.count;
        let per_seed = measured
            .get(w.test.name)
            .copied()
            .unwrap_or(Duration::from_millis(50));
        let size = batch_seeds(w.test.name);
        for (first, count) in batch_ranges(w.first + w.count.min(PROBE_SEEDS), end, size) {
            let cost = per_seed * u32::try_from(count).unwrap_or(u32::MAX);
            batches.push((
                Batch {
                    binary: w.binary.clone(),
                    test: w.test.name,
                    first,
                    count,
                },
                cost,
            ));
        }
    }
    batches.sort_by_key(|(_, cost)| std::cmp::Reverse(*cost));
    drain(&shared, batches, jobs);

    let mut decided = shared
        .decided
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    for records in decided.records.values_mut() {
        records.sort_by_key(|r| r.seed);
    }
    if !decided.interrupted {
        settle(&mut decided, work, max_crashes.max(1), max_failures.max(1));
    }
    decided
}

/// Makes the outcome independent of the order batches ran in: a test whose children
/// crashed `max_crashes` times, or that failed `max_failures` times, keeps its seeds up to
/// its `max_crashes`-th lowest crash or `max_failures`-th lowest failure, whichever is
/// lower (all of which ran, whatever the order), and every seed above counts as skipped.
fn settle(decided: &mut Decided, work: &[Work], max_crashes: usize, max_failures: usize) {
    for w in work {
        let Some(records) = decided.records.get_mut(w.test.name) else {
            continue;
        };
        let crash_seeds: Vec<u64> = records
            .iter()
            .filter(|r| matches!(&r.outcome, Outcome::Fail { reason, .. } if reason.is_crash()))
            .map(|r| r.seed)
            .collect();
        let failure_seeds: Vec<u64> = records
            .iter()
            .filter(|r| !r.outcome.passed())
            .map(|r| r.seed)
            .collect();
        let last_kept = [
            crash_seeds.get(max_crashes - 1),
            failure_seeds.get(max_failures - 1),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(&last_kept) = last_kept {
            records.retain(|r| r.seed <= last_kept);
            let skipped = w.count - records.len() as u64;
            decided.skipped.insert(w.test.name, skipped);
        }
    }
}

/// Runs every batch of the queue on `jobs` workers; returns, per test, the wall-clock time a
/// seed took in its batches (start-up included).
fn drain(
    shared: &Shared<'_>,
    batches: Vec<(Batch, Duration)>,
    jobs: usize,
) -> BTreeMap<&'static str, Duration> {
    let (queue, work) = crossbeam_channel::unbounded::<Batch>();
    for (batch, _) in batches {
        let _ = queue.send(batch);
    }
    drop(queue);
    let measured = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let work = work.clone();
            let measured = &measured;
            scope.spawn(move || {
                for batch in work.iter() {
                    if let Some(per_seed) = run_batch(shared, batch) {
                        lock(measured).insert(per_seed.0, per_seed.1);
                    }
                }
            });
        }
    });
    measured.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Runs one batch to its end, restarting after each crash at the next seed; returns the
/// wall-clock time per seed it measured.
fn run_batch(shared: &Shared<'_>, mut batch: Batch) -> Option<(&'static str, Duration)> {
    let started = std::time::Instant::now();
    let seeds = batch.count;
    let mut alone = false;
    loop {
        if shared.settings.stop.load(Ordering::SeqCst) {
            lock(&shared.decided).interrupted = true;
            return None;
        }
        // Skip a batch only when enough crashes are known *below* it: then the seeds that
        // stay (up to the max_crashes-th lowest crash) are the same whatever order the
        // batches ran in, and `settle` can cut the rest the same way every time.
        let crashed_below = lock(&shared.crashes).get(batch.test).map_or(0, |seeds| {
            seeds.iter().filter(|&&s| s < batch.first).count()
        });
        let failed_below = lock(&shared.failures).get(batch.test).map_or(0, |seeds| {
            seeds.iter().filter(|&&s| s < batch.first).count()
        });
        if crashed_below >= shared.max_crashes || failed_below >= shared.max_failures {
            *lock(&shared.decided).skipped.entry(batch.test).or_default() += batch.count;
            shared.progress.skipped(batch.test, batch.count);
            return None;
        }
        let ran = if alone {
            let _alone = shared.machine.write().unwrap_or_else(|e| e.into_inner());
            child::run(&batch, shared.settings, true)
        } else {
            let _shared = shared.machine.read().unwrap_or_else(|e| e.into_inner());
            child::run(&batch, shared.settings, false)
        };
        alone = false;
        let mut run = match ran {
            Ok(run) => run,
            Err(e) => {
                // The binary cannot be started at all: nothing else will go better.
                shared.progress.note(&format!(
                    "grader: cannot run {}: {e}",
                    batch.binary.display()
                ));
                shared.settings.stop.store(true, Ordering::SeqCst);
                lock(&shared.decided).interrupted = true;
                return None;
            }
        };
        confirm_real_resource_failures(shared, &batch, &mut run.records);
        let crashes: Vec<u64> = run
            .records
            .iter()
            .filter(|r| matches!(&r.outcome, Outcome::Fail { reason, .. } if reason.is_crash()))
            .map(|r| r.seed)
            .collect();
        if !crashes.is_empty() {
            lock(&shared.crashes)
                .entry(batch.test)
                .or_default()
                .extend(crashes);
        }
        if run.unsigned > 0 {
            shared.progress.note(&format!(
                "grader: {}: ignored {} result line(s) that labrpc did not sign (written by \
                 lab code) in the child of seeds {}..",
                batch.test, run.unsigned, batch.first
            ));
        }
        let failures: Vec<u64> = run
            .records
            .iter()
            .filter(|r| !r.outcome.passed())
            .map(|r| r.seed)
            .collect();
        if !failures.is_empty() {
            lock(&shared.failures)
                .entry(batch.test)
                .or_default()
                .extend(failures);
        }
        shared.progress.decided(batch.test, &run.records);
        if let Some(left) = run.stopped {
            // The child stopped at its `max_failures`-th failure: the rest is not run.
            *lock(&shared.decided).skipped.entry(batch.test).or_default() += left;
            shared.progress.skipped(batch.test, left);
        }
        lock(&shared.decided)
            .records
            .entry(batch.test)
            .or_default()
            .extend(run.records);
        if run.interrupted {
            lock(&shared.decided).interrupted = true;
            return None;
        }
        if run.timed_out_shared {
            shared.progress.note(&format!(
                "grader: {}: the child of seeds {}.. hit the wall-clock limit beside others; \
                 running it again alone before charging a seed",
                batch.test, batch.first
            ));
            alone = true;
        }
        match run.rest {
            Some((first, count)) => {
                batch.first = first;
                batch.count = count;
            }
            None => break,
        }
    }
    let per_seed = started.elapsed() / u32::try_from(seeds.max(1)).unwrap_or(u32::MAX);
    Some((batch.test, per_seed))
}

/// Runs again, alone on the machine, each seed of `records` that failed on a limit of real
/// resources (up to [`MAX_CONFIRMATIONS`] per test), and keeps what the second run decided
/// if it passed. The simulation is deterministic, so code that really never yields or
/// really is too slow fails the same way again; a verdict the machine caused does not
/// come back. (Only a failure is run again, so a second run can never cost a seed its
/// pass.)
fn confirm_real_resource_failures(shared: &Shared<'_>, batch: &Batch, records: &mut [SeedRecord]) {
    for record in records {
        if !record.outcome.failed_on_real_resources() || shared.settings.stop.load(Ordering::SeqCst)
        {
            continue;
        }
        {
            let mut confirmations = lock(&shared.confirmations);
            let done = confirmations.entry(batch.test).or_default();
            if *done >= MAX_CONFIRMATIONS {
                continue;
            }
            *done += 1;
        }
        let again = Batch {
            first: record.seed,
            count: 1,
            ..batch.clone()
        };
        let rerun = {
            let _alone = shared.machine.write().unwrap_or_else(|e| e.into_inner());
            child::run(&again, shared.settings, true)
        };
        let Some(second) = rerun
            .ok()
            .and_then(|run| run.records.into_iter().find(|r| r.seed == record.seed))
        else {
            continue;
        };
        let first_message = match &record.outcome {
            Outcome::Fail { message, .. } => message.lines().next().unwrap_or("").to_owned(),
            Outcome::Pass { .. } => String::new(),
        };
        if second.outcome.passed() {
            shared.progress.note(&format!(
                "grader: {} seed {} failed on a real-resource limit ({first_message}), then \
                 passed when run again alone: the machine, not the code, caused the first \
                 verdict (short of memory, or overloaded), so the seed passes",
                batch.test, record.seed
            ));
            *record = second;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_at_multiples_of_batch_seeds_whatever_the_range() {
        assert_eq!(batch_ranges(3, 2001, 100).first(), Some(&(3, 97)));
        assert_eq!(batch_ranges(3, 2001, 100)[1], (100, 100));
        assert_eq!(batch_ranges(3, 2001, 100).last(), Some(&(2000, 1)));
        assert_eq!(batch_ranges(150, 160, 100), [(150, 10)]);
        assert_eq!(batch_ranges(7, 7, 100), []);
        let total: u64 = batch_ranges(3, 2001, 100).iter().map(|r| r.1).sum();
        assert_eq!(total, 1998);
        assert_eq!(
            batch_ranges(3, 31, 10),
            [(3, 7), (10, 10), (20, 10), (30, 1)]
        );
        assert_eq!(batch_ranges(5, 8, 0), [(5, 1), (6, 1), (7, 1)]);
    }

    #[test]
    fn slow_tests_get_smaller_batches_that_still_end_at_every_hundred() {
        // Fast tests: the whole hundred.
        assert_eq!(batch_seeds("initial_election_2a"), 100);
        assert_eq!(
            batch_seeds("persist_partition_unreliable_linearizable_3a"),
            100
        );
        assert_eq!(batch_seeds("reliable_churn_2c"), 100);
        // The slowest (791 ms at most by the catalogue): 25 seeds, under BATCH_CPU.
        assert_eq!(batch_seeds("snapshot_recover_many_clients_3b"), 25);
        assert_eq!(batch_seeds("persist_concurrent_3a"), 50);
        for test in catalogue::all() {
            let size = batch_seeds(test.name);
            assert_eq!(BATCH_SEEDS % size, 0, "{}: {size}", test.name);
            let per_seed = catalogue::cpu_budget(test.name) / catalogue::CPU_BUDGET_MULTIPLE;
            assert!(
                size == 1 || per_seed * u32::try_from(size).unwrap() <= BATCH_CPU,
                "{}: {size} seeds of {per_seed:?}",
                test.name
            );
        }
        // Lab 3 at 100 seeds: no batch is more than a tenth of a core's share of the work
        // on two cores, by the same figures.
        let lab3: Vec<&catalogue::Test> = catalogue::KV.iter().collect();
        let cost = |t: &catalogue::Test, seeds: u64| {
            catalogue::cpu_budget(t.name) / catalogue::CPU_BUDGET_MULTIPLE
                * u32::try_from(seeds).unwrap()
        };
        let total: Duration = lab3.iter().map(|t| cost(t, 100)).sum();
        let longest = lab3
            .iter()
            .map(|t| cost(t, batch_seeds(t.name)))
            .max()
            .unwrap();
        assert!(longest * 20 <= total, "{longest:?} of {total:?}");
    }
}
