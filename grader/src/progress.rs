//! Telling the person waiting how far grading has got: a live bar on a terminal, plain
//! lines otherwise (CI logs).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::outcome::SeedRecord;

/// Progress over the seeds of every selected test.
pub struct Progress {
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

struct State {
    /// Per test: seeds planned, decided (or skipped), failed.
    tests: BTreeMap<&'static str, Counts>,
    tests_done: usize,
    failures: u64,
    /// Seeds decided or skipped, of `total`.
    seeds_done: u64,
    total: u64,
    /// Without a bar: the last tenth of the seeds reported by a line.
    tenths_said: u64,
    started: std::time::Instant,
}

#[derive(Default)]
struct Counts {
    planned: u64,
    done: u64,
    passed: u64,
}

impl Progress {
    /// Progress over `planned` seeds per test; `quiet` prints nothing.
    pub fn new(planned: &[(&'static str, u64)], quiet: bool) -> Progress {
        let total: u64 = planned.iter().map(|(_, n)| n).sum();
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed:>4} [{bar:30}] {pos}/{len} seeds  {msg}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        let progress = Progress {
            bar,
            state: Mutex::new(State {
                tests: planned
                    .iter()
                    .map(|&(test, planned)| {
                        (
                            test,
                            Counts {
                                planned,
                                ..Counts::default()
                            },
                        )
                    })
                    .collect(),
                tests_done: 0,
                failures: 0,
                seeds_done: 0,
                total,
                tenths_said: 0,
                started: std::time::Instant::now(),
            }),
        };
        if quiet {
            progress
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .tests
                .clear();
        }
        progress
    }

    /// Records seeds decided.
    pub fn decided(&self, test: &'static str, records: &[SeedRecord]) {
        let passed = records.iter().filter(|r| r.outcome.passed()).count() as u64;
        self.advance(test, records.len() as u64, passed);
    }

    /// Records seeds skipped.
    pub fn skipped(&self, test: &'static str, count: u64) {
        self.advance(test, count, 0);
    }

    fn advance(&self, test: &'static str, done: u64, passed: u64) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        state.failures += done - passed;
        let Some(counts) = state.tests.get_mut(test) else {
            return;
        };
        counts.done += done;
        counts.passed += passed;
        let finished = (counts.done >= counts.planned).then(|| {
            format!(
                "{test}: {} of {} seeds passed",
                counts.passed, counts.planned
            )
        });
        if finished.is_some() {
            state.tests_done += 1;
        }
        state.seeds_done += done;
        let message = format!(
            "{}/{} tests done, {} seeds failed or skipped",
            state.tests_done,
            state.tests.len(),
            state.failures
        );
        // Without a bar, a line at every tenth of the seeds as well, once the run has
        // lasted 10 s: with the longest batches first, tests finish only near the end of a
        // long run, which would otherwise print nothing for most of it.
        let tenths = (state.seeds_done * 10)
            .checked_div(state.total)
            .unwrap_or(10)
            .min(10);
        let long = state.started.elapsed() >= std::time::Duration::from_secs(10);
        let tenth_line = (long && tenths > state.tenths_said && tenths < 10).then(|| {
            format!(
                "grader: {}/{} seeds decided after {:.0?}, {message}",
                state.seeds_done,
                state.total,
                state.started.elapsed()
            )
        });
        state.tenths_said = state.tenths_said.max(tenths);
        drop(guard);
        match &self.bar {
            Some(bar) => {
                bar.inc(done);
                bar.set_message(message);
                if let Some(line) = finished {
                    bar.println(line);
                }
            }
            None => {
                if let Some(line) = tenth_line {
                    eprintln!("{line}");
                }
                if let Some(line) = finished {
                    eprintln!("{line}  ({message})");
                }
            }
        }
    }

    /// Prints a line without breaking the bar.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
