//! Spreading the seeds of the selected tests over `--jobs` child processes at a time.
//!
//! Two rounds through a work queue. First a probe of each test (its first two seeds) measures
//! what a seed of it costs with this code. Then the rest of every test's seeds is cut into
//! batches and queued longest first (by that measure), so the last batches to finish are
//! short ones and no core idles while another works through a long test alone.
//!
//! Where batches start and end never depends on a measurement: they are cut at every
//! multiple of [`BATCH_SEEDS`]. Which seeds share a process then depends only on the seeds
//! asked for, not on how loaded the machine was, so code whose damage outlives a seed
//! (memory leaked with `mem::forget` or kept in a `static`) gets the same verdict on every
//! run of the same command.

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

/// Batches end at every multiple of this seed number. Large enough that starting a
/// process (a few milliseconds) is a small share of a batch of even the fastest test
/// (100 × ~0.1 ms), small enough that a batch of the slowest one (100 × ~40 ms) leaves
/// the other core work to do.
pub const BATCH_SEEDS: u64 = 100;

/// Seeds `first .. end` cut at every multiple of [`BATCH_SEEDS`], as `(first, count)`.
fn batch_ranges(mut first: u64, end: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    while first < end {
        let boundary = (first / BATCH_SEEDS + 1).saturating_mul(BATCH_SEEDS);
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
}

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
    };
    let jobs = jobs.max(1);

    // Round 1: probes, later parts first (they are the slow ones, as a rule).
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
    probes.sort_by_key(|(batch, _)| {
        std::cmp::Reverse(catalogue::find(batch.test).map_or("", |t| t.part))
    });
    let measured = drain(&shared, probes, jobs);

    // Round 2: the rest, in batches cut at multiples of BATCH_SEEDS, longest first.
    let mut batches = Vec::new();
    for w in work {
        let end = w.first + w.count;
        let per_seed = measured
            .get(w.test.name)
            .copied()
            .unwrap_or(Duration::from_millis(50));
        for (first, count) in batch_ranges(w.first + w.count.min(PROBE_SEEDS), end) {
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
        let run = match ran {
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_at_multiples_of_batch_seeds_whatever_the_range() {
        assert_eq!(batch_ranges(3, 2001).first(), Some(&(3, 97)));
        assert_eq!(batch_ranges(3, 2001)[1], (100, 100));
        assert_eq!(batch_ranges(3, 2001).last(), Some(&(2000, 1)));
        assert_eq!(batch_ranges(150, 160), [(150, 10)]);
        assert_eq!(batch_ranges(7, 7), []);
        let total: u64 = batch_ranges(3, 2001).iter().map(|r| r.1).sum();
        assert_eq!(total, 1998);
    }
}
