//! The grade: what every test did on every seed, scored, and its renderings.
//!
//! A [`Report`] holds every seed's record, so that shards' reports merge into exactly the
//! report one run would have made, and every rendering (table, JSON, Gradescope, JUnit,
//! Markdown) reads the same numbers.

pub mod gradescope;
pub mod junit;
pub mod markdown;
pub mod table;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cli::Shard;
use crate::outcome::{Outcome, Reason, SeedRecord};

/// A whole grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The grader's version.
    pub grader_version: String,
    /// What was graded, and how (its fields sit at the top level of the JSON).
    #[serde(flatten)]
    pub header: Header,
    /// Set if grading was stopped (Ctrl-C) before every seed was decided.
    pub interrupted: bool,
    /// Why nothing was graded, if the code did not build.
    pub build_error: Option<String>,
    /// Points earned.
    pub score: u32,
    /// Points available.
    pub max_score: u32,
    /// Points by part.
    pub parts: Vec<PartScore>,
    /// Every selected test.
    pub tests: Vec<TestReport>,
}

/// The seeds of each test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSpan {
    /// The first seed.
    pub first: u64,
    /// How many seeds.
    pub count: u64,
}

/// A graded submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Where it was.
    pub path: String,
    /// The student-editable files taken from it.
    pub taken: Vec<String>,
    /// The files it had that grading ignored (not student-editable).
    pub ignored: Vec<String>,
}

/// One part's points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartScore {
    /// The part (`"2A"`).
    pub part: String,
    /// Points earned.
    pub score: u32,
    /// Points available.
    pub max_score: u32,
}

/// One test's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// Its name (`"figure8_2c"`).
    pub name: String,
    /// Its part (`"2C"`).
    pub part: String,
    /// The course's name for it; empty for a test beyond the course (part 2X).
    pub course_name: String,
    /// What it checks.
    pub description: String,
    /// Points earned: all of them if it passed on every seed planned, else none.
    pub score: u32,
    /// Points available.
    pub max_score: u32,
    /// Seeds this report was to run.
    pub planned: u64,
    /// Seeds run.
    pub run: u64,
    /// Seeds passed.
    pub passed: u64,
    /// Seeds skipped after the test crashed (`--max-crashes`).
    pub skipped: u64,
    /// Failed seeds by reason.
    pub failures: BTreeMap<Reason, u64>,
    /// Median virtual time of the passing seeds, in nanoseconds.
    pub median_virtual_ns: Option<u64>,
    /// Median CPU time of the passing seeds, in nanoseconds.
    pub median_cpu_ns: Option<u64>,
    /// The lowest failing seed, with how to replay it.
    pub first_failure: Option<Failure>,
    /// Every seed's record, in seed order.
    pub seeds: Vec<SeedRecord>,
}

/// A failing seed, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// Why, in a word.
    pub reason: Reason,
    /// The first line of what went wrong.
    pub message: String,
    /// The command that replays it.
    pub replay: String,
    /// The path of its timeline page, if the run drew one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
}

/// What a report is about, apart from its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Which code was graded, in words.
    pub implementation: String,
    /// Whether that is the reference implementation.
    pub reference: bool,
    /// The git commit of the tree graded (`-dirty` if it had changes), if in git.
    pub commit: Option<String>,
    /// The submission graded (`grader grade`), with the files taken and ignored.
    pub submission: Option<Submission>,
    /// How `cargo test` was invoked to build the binaries (for replay commands).
    pub cargo_args: String,
    /// The seeds run for each test: `first .. first + count`.
    pub seeds: SeedSpan,
    /// The share of the work this report covers, if sharded (`None` after a merge).
    pub shard: Option<Shard>,
    /// Whether every seed was run twice and compared.
    pub check_determinism: bool,
}

/// One test's raw results, before scoring.
#[derive(Debug, Clone)]
pub struct TestResults {
    /// The test.
    pub test: &'static catalogue::Test,
    /// Seeds it was to run.
    pub planned: u64,
    /// Seeds skipped.
    pub skipped: u64,
    /// What passing it is worth (the catalogue's points, or the rubric's).
    pub points: u32,
    /// The records, in any order.
    pub seeds: Vec<SeedRecord>,
}

impl Report {
    /// Scores `results` (points from the catalogue).
    pub fn new(header: Header, results: Vec<TestResults>, interrupted: bool) -> Report {
        let tests: Vec<TestReport> = results
            .into_iter()
            .map(|r| score_test(r, &header))
            .collect();
        Report::assemble(header, tests, interrupted, None)
    }

    fn assemble(
        header: Header,
        tests: Vec<TestReport>,
        interrupted: bool,
        build_error: Option<String>,
    ) -> Report {
        let mut parts: Vec<PartScore> = Vec::new();
        for test in &tests {
            match parts.iter_mut().find(|p| p.part == test.part) {
                Some(part) => {
                    part.score += test.score;
                    part.max_score += test.max_score;
                }
                None => parts.push(PartScore {
                    part: test.part.clone(),
                    score: test.score,
                    max_score: test.max_score,
                }),
            }
        }
        Report {
            grader_version: env!("CARGO_PKG_VERSION").to_owned(),
            header,
            interrupted,
            build_error,
            score: parts.iter().map(|p| p.score).sum(),
            max_score: parts.iter().map(|p| p.max_score).sum(),
            parts,
            tests,
        }
    }

    /// The replay command of a seed of a test of this report.
    pub fn replay(&self, test: &str, seed: u64, reason: Reason) -> String {
        replay_command(&self.header.cargo_args, test, seed, reason)
    }
}

/// `LAB_SEED=<seed> cargo test <args> -- --exact <test>`, checking determinism when that is
/// what failed.
pub fn replay_command(cargo_args: &str, test: &str, seed: u64, reason: Reason) -> String {
    let check = if reason == Reason::NotDeterministic {
        "LAB_CHECK_DETERMINISM=1 "
    } else {
        ""
    };
    format!("LAB_SEED={seed} {check}cargo test {cargo_args} -- --exact {test}")
}

fn score_test(results: TestResults, header: &Header) -> TestReport {
    let TestResults {
        test,
        planned,
        skipped,
        points,
        mut seeds,
    } = results;
    seeds.sort_by_key(|r| r.seed);
    seeds.dedup_by_key(|r| r.seed);
    let run = seeds.len() as u64;
    let passed = seeds.iter().filter(|r| r.outcome.passed()).count() as u64;
    let mut failures: BTreeMap<Reason, u64> = BTreeMap::new();
    let mut first_failure = None;
    let mut virtual_times = Vec::new();
    let mut cpu_times = Vec::new();
    for record in &seeds {
        match &record.outcome {
            Outcome::Pass { virtual_ns, cpu_ns } => {
                virtual_times.push(*virtual_ns);
                cpu_times.extend(*cpu_ns);
            }
            Outcome::Fail { reason, message } => {
                *failures.entry(*reason).or_default() += 1;
                first_failure.get_or_insert_with(|| Failure {
                    seed: record.seed,
                    reason: *reason,
                    message: message.clone(),
                    replay: replay_command(&header.cargo_args, test.name, record.seed, *reason),
                    timeline: record.timeline.clone(),
                });
            }
        }
    }
    let earned = planned > 0 && passed == planned;
    TestReport {
        name: test.name.to_owned(),
        part: test.part.to_owned(),
        course_name: test.course_name.to_owned(),
        description: test.description.to_owned(),
        score: if earned { points } else { 0 },
        max_score: points,
        planned,
        run,
        passed,
        skipped,
        failures,
        median_virtual_ns: median(&mut virtual_times),
        median_cpu_ns: median(&mut cpu_times),
        first_failure,
        seeds,
    }
}

fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

/// Combines shard reports of the same code and seeds into the report of the whole.
pub fn merge(reports: Vec<Report>) -> Result<Report, String> {
    let mut reports = reports.into_iter();
    let first = reports.next().ok_or("nothing to merge")?;
    let mut header = first.header.clone();
    header.shard = None;
    let mut interrupted = first.interrupted;
    let mut build_error = first.build_error.clone();
    let mut by_test: Vec<TestReport> = first.tests;
    for report in reports {
        let other = &report.header;
        if (other.implementation != header.implementation)
            || (other.commit != header.commit)
            || (other.seeds != header.seeds)
            || (other.check_determinism != header.check_determinism)
            || (other.cargo_args != header.cargo_args)
        {
            return Err(format!(
                "the reports graded different things: {} at {:?}, seeds {:?} and {} at {:?}, seeds {:?}",
                header.implementation,
                header.commit,
                header.seeds,
                other.implementation,
                other.commit,
                other.seeds
            ));
        }
        interrupted |= report.interrupted;
        if build_error.is_none() {
            build_error = report.build_error;
        }
        for test in report.tests {
            match by_test.iter_mut().find(|t| t.name == test.name) {
                Some(existing) => {
                    if existing.max_score != test.max_score {
                        return Err(format!(
                            "the reports give {} different points ({} and {}): were they \
                             graded with different rubrics?",
                            test.name, existing.max_score, test.max_score
                        ));
                    }
                    existing.planned += test.planned;
                    existing.skipped += test.skipped;
                    existing.seeds.extend(test.seeds);
                }
                None => by_test.push(test),
            }
        }
    }
    let mut results = Vec::new();
    for test in by_test {
        let entry = catalogue::find(&test.name).ok_or_else(|| {
            format!(
                "the reports name a test this grader does not know: {}",
                test.name
            )
        })?;
        results.push(TestResults {
            test: entry,
            planned: test.planned,
            skipped: test.skipped,
            // The shards were scored with the same points (checked above): the
            // catalogue's, or a rubric's.
            points: test.max_score,
            seeds: test.seeds,
        });
    }
    // The catalogue's order, whatever order the shards came in.
    results.sort_by_key(|r| catalogue::all().position(|t| t.name == r.test.name));
    let tests = results
        .into_iter()
        .map(|r| score_test(r, &header))
        .collect();
    Ok(Report::assemble(header, tests, interrupted, build_error))
}
