//! The grade: what every test did on every seed, scored, and its renderings.
//!
//! A [`Report`] holds every seed's record, so that shards' reports merge into exactly the
//! report one run would have made, and every rendering (table, JSON, Gradescope, JUnit,
//! Markdown) reads the same numbers. The text in it that a student controls (messages,
//! build errors, paths, file names) is cleaned as it enters ([`text::clean`]).

pub mod gradescope;
pub mod junit;
pub mod markdown;
mod merge;
pub mod table;
pub mod text;

pub use merge::{merge, merge_named};

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
    /// The content hash of each file taken, in the order of `taken`
    /// ([`crate::digest::content_hash`]): shards of one grade must have graded the same
    /// files. Empty in the reports of graders before it.
    #[serde(default)]
    pub hashes: Vec<String>,
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
    /// Which seeds were run twice and compared.
    pub check_determinism: crate::cli::Determinism,
    /// The identity of the instructor's rubric graded with (`Rubric::identity`), or
    /// `None` for the catalogue's points.
    #[serde(default)]
    pub rubric: Option<String>,
}

#[cfg(test)]
impl Header {
    /// A header for the reports' own tests: the student's code, seed 1 alone.
    pub(crate) fn for_tests() -> Header {
        Header {
            implementation: "student's code".into(),
            reference: false,
            commit: None,
            submission: None,
            cargo_args: "--release -p tests".into(),
            seeds: SeedSpan { first: 1, count: 1 },
            shard: None,
            check_determinism: crate::cli::Determinism::Off,
            rubric: None,
        }
    }
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

    /// The report of code that did not build: every test in `results` is planned and none
    /// ran. `errors` are the compiler's.
    pub fn build_failed(header: Header, results: Vec<TestResults>, errors: String) -> Report {
        let tests: Vec<TestReport> = results
            .into_iter()
            .map(|r| score_test(r, &header))
            .collect();
        Report::assemble(header, tests, false, Some(errors))
    }

    /// Every report is made here, so every report has its text cleaned.
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
        let mut report = Report {
            grader_version: env!("CARGO_PKG_VERSION").to_owned(),
            header,
            interrupted,
            build_error,
            score: parts.iter().map(|p| p.score).sum(),
            max_score: parts.iter().map(|p| p.max_score).sum(),
            parts,
            tests,
        };
        report.clean_text();
        report
    }

    /// Cleans every string in the report ([`text::clean`]): the build error keeps its
    /// lines, everything else is one line. Cleaning is idempotent, so renderers may call
    /// it again on a report that was cleaned already (or read from a file).
    pub fn clean_text(&mut self) {
        let line = |s: &mut String| *s = text::clean_line(s);
        line(&mut self.grader_version);
        let header = &mut self.header;
        line(&mut header.implementation);
        header.commit.iter_mut().for_each(line);
        line(&mut header.cargo_args);
        header.rubric.iter_mut().for_each(line);
        if let Some(submission) = &mut header.submission {
            line(&mut submission.path);
            submission
                .taken
                .iter_mut()
                .chain(&mut submission.hashes)
                .chain(&mut submission.ignored)
                .for_each(line);
        }
        if let Some(errors) = &mut self.build_error {
            *errors = text::clean(errors);
        }
        for part in &mut self.parts {
            line(&mut part.part);
        }
        for test in &mut self.tests {
            for field in [
                &mut test.name,
                &mut test.part,
                &mut test.course_name,
                &mut test.description,
            ] {
                line(field);
            }
            if let Some(failure) = &mut test.first_failure {
                line(&mut failure.message);
                line(&mut failure.replay);
                failure.timeline.iter_mut().for_each(line);
            }
            for record in &mut test.seeds {
                if let Outcome::Fail { message, .. } = &mut record.outcome {
                    line(message);
                }
                record.timeline.iter_mut().for_each(line);
            }
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
