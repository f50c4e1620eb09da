//! `grader swarm`: hunts for a failing seed under randomized fault plans.
//!
//! Each seed runs with `LAB_SWARM=1`: every network of the run draws its fault numbers
//! (loss, request delay, dead-end delays, reordering) between the course's and none, from
//! the seed (labrpc's `FaultPlan::swarm`). Every such run is also a possible run under the
//! course's model, so a failure is a real bug, one the course's plan would hit less often.
//! Seeds go by in rounds of batches over every selected test until the time is up or a
//! seed fails; the failure's replay command reproduces it exactly.

use std::time::{Duration, Instant};

use crate::child::ChildSettings;
use crate::compile::{self, Implementation};
use crate::outcome::{Outcome, SeedRecord};
use crate::progress::Progress;
use crate::report::text;
use crate::schedule::{self, Work};
use crate::select;

/// What to hunt in.
#[derive(Debug, Clone)]
pub struct Hunt {
    /// Which Raft.
    pub implementation: Implementation,
    /// Parts to run (`2a`, ...), or all.
    pub parts: Vec<String>,
    /// Tests to run, or all.
    pub tests: Vec<String>,
    /// The first seed.
    pub first_seed: u64,
    /// Seeds per test in each round.
    pub seeds_per_round: u64,
    /// When to give up.
    pub time: Duration,
    /// Child processes at once.
    pub jobs: usize,
}

/// How a hunt ended.
#[derive(Debug)]
pub enum Found {
    /// A seed failed.
    Failure {
        /// The test.
        test: &'static str,
        /// The failing seed and why.
        record: SeedRecord,
        /// The command that replays it.
        replay: String,
        /// Seeds run before it was found, over all tests.
        seeds_run: u64,
    },
    /// Time ran out (or Ctrl-C) with every seed passing.
    Nothing {
        /// Seeds run, over all tests.
        seeds_run: u64,
        /// The seeds each test ran: `first_seed .. first_seed + this`.
        per_test: u64,
    },
}

/// Builds the tests in `tree` and runs rounds of swarm seeds until one fails or time is
/// up. `settings.swarm` must be on.
pub fn hunt(
    tree: &std::path::Path,
    hunt: &Hunt,
    settings: &ChildSettings,
) -> Result<Found, String> {
    assert!(settings.swarm, "a hunt runs its children with LAB_SWARM=1");
    let selected = select::for_implementation(hunt.implementation, &hunt.parts, &hunt.tests)?;
    let binaries = compile::build(tree, hunt.implementation, &selected, None, None)
        .map_err(|failure| format!("{}\n\n{}", failure.command, failure.errors))?;
    // The hunt's time is for running seeds: a first build can take minutes, and a hunt
    // whose time went on the build would report that no seed failed having run none.
    let started = Instant::now();
    let mut first = hunt.first_seed;
    let mut seeds_run = 0;
    eprintln!(
        "grader swarm: {} tests, rounds of {} seeds each, from seed {first}, for up to {:?}",
        selected.len(),
        hunt.seeds_per_round,
        hunt.time
    );
    // At least one round, however short the time.
    let mut first_round = true;
    while (first_round || started.elapsed() < hunt.time)
        && !settings.stop.load(std::sync::atomic::Ordering::SeqCst)
    {
        first_round = false;
        let work: Vec<Work> = selected
            .iter()
            .map(|&test| {
                let binary = binaries
                    .get(test.target)
                    .cloned()
                    .ok_or_else(|| format!("the build made no test binary {:?}", test.target))?;
                Ok(Work {
                    test,
                    binary,
                    first,
                    count: hunt.seeds_per_round,
                })
            })
            .collect::<Result<_, String>>()?;
        let progress = Progress::new(&[], true);
        let decided = schedule::run(&work, hunt.jobs, 1, 1, settings, &progress);
        let failure = decided
            .records
            .iter()
            .flat_map(|(&test, records)| records.iter().map(move |r| (test, r)))
            .filter(|(_, record)| !record.outcome.passed())
            .min_by_key(|(_, record)| record.seed);
        let decided_now: u64 = decided.records.values().map(|r| r.len() as u64).sum();
        seeds_run += decided_now;
        if let Some((test, record)) = failure {
            let replay = format!(
                "LAB_SWARM=1 LAB_SEED={} cargo test {} -- --exact {test}",
                record.seed,
                hunt.implementation.cargo_args()
            );
            return Ok(Found::Failure {
                test,
                record: record.clone(),
                replay,
                seeds_run,
            });
        }
        if decided.interrupted {
            break;
        }
        first += hunt.seeds_per_round;
        eprintln!(
            "grader swarm: {seeds_run} seeds passed so far (up to seed {}), {:.0} s",
            first - 1,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Found::Nothing {
        seeds_run,
        per_test: first - hunt.first_seed,
    })
}

/// What the terminal shows for a hunt's end.
pub fn describe(found: &Found) -> String {
    match found {
        Found::Failure {
            test,
            record,
            replay,
            seeds_run,
        } => {
            let (reason, message) = match &record.outcome {
                // The message is the test's output: cleaned before a terminal sees it.
                Outcome::Fail { reason, message } => (reason.describe(), text::clean_line(message)),
                Outcome::Pass { .. } => ("passed", String::new()),
            };
            format!(
                "grader swarm: {test} failed on seed {seed} under a swarm fault plan (after \
                 {seeds_run} seeds)\n  {reason}: {message}\nreplay:  {replay}\n\
                 (the replayed run prints its fault plan)\n",
                seed = record.seed
            )
        }
        Found::Nothing {
            seeds_run,
            per_test,
        } => format!(
            "grader swarm: no failure in {seeds_run} seeds ({per_test} per test) under swarm \
             fault plans\n"
        ),
    }
}
