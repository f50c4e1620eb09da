//! Grading a tree: build its test binaries, run the selected seeds, score them.

use std::path::{Path, PathBuf};

use crate::child::ChildSettings;
use crate::cli::{GradeArgs, Outputs};
use crate::compile::{self, Implementation};
use crate::progress::Progress;
use crate::report::{self, Header, Report, SeedSpan, Submission, TestResults};
use crate::rubric::Rubric;
use crate::schedule::{self, Work};
use crate::select;

/// What to grade.
#[derive(Debug, Clone)]
pub struct Target {
    /// The workspace to build and run.
    pub tree: PathBuf,
    /// Which Raft in it.
    pub implementation: Implementation,
    /// The submission copied into it, if any.
    pub submission: Option<Submission>,
    /// The git commit of the framework graded with (see [`crate::source::git_commit`]).
    pub commit: Option<String>,
    /// Where cargo builds, if not where it would by itself.
    pub target_dir: Option<PathBuf>,
    /// For untrusted code (a submission): build it jailed, within these limits.
    pub build_limits: Option<compile::BuildLimits>,
}

/// Builds and runs what `args` select in `target`; an error is a mistake in the arguments.
/// A build failure is a report with no points, not an error.
pub fn grade(
    target: &Target,
    args: &GradeArgs,
    settings: &ChildSettings,
    quiet: bool,
) -> Result<Report, String> {
    let selected = select::for_implementation(target.implementation, &args.part, &args.test)?;
    let rubric = match &args.rubric {
        Some(path) => Rubric::load(path)?,
        None => Rubric::default(),
    };
    let (first, count) = select::shard_seeds(args.seed, args.seeds, args.shard);
    let header = Header {
        implementation: target.implementation.describe().to_owned(),
        reference: target.implementation == Implementation::Reference,
        commit: target.commit.clone(),
        submission: target.submission.clone(),
        cargo_args: target.implementation.cargo_args().to_owned(),
        seeds: SeedSpan {
            first: args.seed,
            count: args.seeds,
        },
        shard: args.shard,
        check_determinism: args.determinism(),
        rubric: rubric.identity(),
    };
    let planned = |_: &catalogue::Test| count;
    let binaries = match compile::build(
        &target.tree,
        target.implementation,
        &selected,
        target.target_dir.as_deref(),
        target.build_limits,
    ) {
        Ok(binaries) => binaries,
        Err(failure) => {
            let errors = format!("{}\n\n{}", failure.command, failure.errors);
            let results = selected
                .iter()
                .map(|&test| TestResults {
                    test,
                    planned: planned(test),
                    skipped: 0,
                    points: rubric.points(test),
                    seeds: Vec::new(),
                })
                .collect();
            return Ok(Report::build_failed(header, results, errors));
        }
    };
    let mut work = Vec::new();
    for &test in &selected {
        let binary = binaries.get(test.target).ok_or_else(|| {
            format!(
                "the build made no test binary {:?} for {} (is tests/tests/{}.rs there?)",
                test.target, test.name, test.target
            )
        })?;
        work.push(Work {
            test,
            binary: binary.clone(),
            first,
            count,
        });
    }
    let jobs = args.children.jobs.unwrap_or_else(default_jobs);
    if !quiet {
        eprintln!(
            "grader: running {} tests × {count} seeds (from seed {first}) on {jobs} workers",
            work.len()
        );
    }
    let totals: Vec<(&'static str, u64)> = work.iter().map(|w| (w.test.name, w.count)).collect();
    let progress = Progress::new(&totals, quiet);
    let decided = schedule::run(
        &work,
        jobs,
        args.max_crashes,
        args.max_failures,
        settings,
        &progress,
    );
    progress.finish();
    let mut decided = decided;
    let results = selected
        .iter()
        .map(|&test| TestResults {
            test,
            planned: planned(test),
            skipped: decided.skipped.get(test.name).copied().unwrap_or(0),
            points: rubric.points(test),
            seeds: decided.records.remove(test.name).unwrap_or_default(),
        })
        .collect();
    Ok(Report::new(header, results, decided.interrupted))
}

/// One worker per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Writes the report files `outputs` asks for.
pub fn write_outputs(report: &Report, outputs: &Outputs) -> Result<(), String> {
    let write = |path: &Option<PathBuf>, text: String| -> Result<(), String> {
        let Some(path) = path else { return Ok(()) };
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    // The report's text was cleaned as it entered (see `Report::clean_text`); the JSON is
    // cleaned again here, as each other renderer cleans what it writes, so that no way of
    // making a report can put a student's escape sequences in a file.
    let mut cleaned = report.clone();
    cleaned.clean_text();
    write(&outputs.json, pretty_json(&cleaned))?;
    write(
        &outputs.gradescope,
        pretty_json(&report::gradescope::render(report)),
    )?;
    write(&outputs.junit, report::junit::render(report))?;
    write(&outputs.markdown, report::markdown::render(report))?;
    Ok(())
}

/// `grader merge FILE...`: reads the shards' `--json` reports and merges them, naming each
/// by its path in errors ([`report::merge_named`]).
pub fn merge_files(paths: &[PathBuf]) -> Result<Report, String> {
    let reports = paths
        .iter()
        .map(|path| Ok((path.display().to_string(), read_report(path)?)))
        .collect::<Result<Vec<_>, String>>()?;
    report::merge_named(reports)
}

/// Reads a report written with `--json`.
pub fn read_report(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a grader report: {e}", path.display()))
}

/// `value` as indented JSON.
fn pretty_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
