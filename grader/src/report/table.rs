//! The terminal table.

use std::fmt::Write as _;

use super::{Report, TestReport};

/// The report as a table for the terminal, failures (with replay commands) below it.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", title(report));
    if let Some(submission) = &report.header.submission {
        let _ = writeln!(
            out,
            "Submission: {}",
            crate::submission::summary(submission)
        );
    }
    if let Some(errors) = &report.build_error {
        let _ = writeln!(
            out,
            "\nThe code does not build, so no test ran:\n\n{errors}\n"
        );
    }
    let name_width = report
        .tests
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "\n{:<4}  {:<name_width$}  {:>11}  {:>6}  {:>9}  {:>9}  first failure",
        "part", "test", "seeds", "points", "virtual", "cpu"
    );
    for test in &report.tests {
        let _ = writeln!(
            out,
            "{:<4}  {:<name_width$}  {:>11}  {:>6}  {:>9}  {:>9}  {}",
            test.part,
            test.name,
            seeds_column(test),
            format!("{}/{}", test.score, test.max_score),
            test.median_virtual_ns
                .map_or("-".into(), |ns| seconds(ns, 2)),
            test.median_cpu_ns.map_or("-".into(), milliseconds),
            test.first_failure
                .as_ref()
                .map_or(String::new(), |f| format!(
                    "seed {} ({})",
                    f.seed,
                    f.reason.describe()
                )),
        );
    }
    let _ = writeln!(out);
    for part in &report.parts {
        let _ = writeln!(
            out,
            "part {:<4} {:>3}/{:<3}",
            part.part, part.score, part.max_score
        );
    }
    let _ = writeln!(out, "total     {:>3}/{:<3}", report.score, report.max_score);
    let failing: Vec<&TestReport> = report
        .tests
        .iter()
        .filter(|t| t.first_failure.is_some() || t.skipped > 0)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\nFailures (the lowest failing seed of each test):");
        for test in failing {
            let _ = writeln!(out, "\n{}: {}", test.name, failure_counts(test));
            if let Some(failure) = &test.first_failure {
                let _ = writeln!(out, "  seed {}: {}", failure.seed, failure.message);
                let _ = writeln!(out, "  replay:  {}", failure.replay);
                if let Some(timeline) = &failure.timeline {
                    let _ = writeln!(out, "  timeline: {timeline}");
                }
            }
        }
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "\nInterrupted: this grade covers only the seeds that ran."
        );
    }
    out
}

/// The report's first line: the grade and what was graded.
pub fn title(report: &Report) -> String {
    let mut text = format!(
        "Grade: {}/{} for the {}",
        report.score, report.max_score, report.header.implementation
    );
    if let Some(commit) = &report.header.commit {
        let _ = write!(text, " at commit {commit}");
    }
    if let Some(submission) = &report.header.submission {
        let _ = write!(text, ", submission {}", submission.path);
    }
    let _ = write!(
        text,
        "; seeds {}..={}",
        report.header.seeds.first,
        report.header.seeds.first + report.header.seeds.count.saturating_sub(1)
    );
    if let Some(shard) = report.header.shard {
        let _ = write!(text, ", shard {}/{}", shard.index, shard.count);
    }
    if report.header.check_determinism {
        text.push_str(", each run twice to check determinism");
    }
    text
}

/// `passed/planned`, with skipped seeds noted.
pub fn seeds_column(test: &TestReport) -> String {
    format!("{}/{}", test.passed, test.planned)
}

/// How the failures split by reason, and what was skipped.
pub fn failure_counts(test: &TestReport) -> String {
    let mut parts: Vec<String> = test
        .failures
        .iter()
        .map(|(reason, count)| format!("{count} {}", reason.describe()))
        .collect();
    if test.skipped > 0 {
        parts.push(format!(
            "{} skipped after the process crashed",
            test.skipped
        ));
    }
    let not_run = test.planned.saturating_sub(test.run + test.skipped);
    if not_run > 0 {
        parts.push(format!("{not_run} not run"));
    }
    format!(
        "{} of {} seeds passed; {}",
        test.passed,
        test.planned,
        parts.join(", ")
    )
}

/// Nanoseconds as seconds.
pub fn seconds(ns: u64, decimals: usize) -> String {
    format!("{:.decimals$}s", ns as f64 / 1e9)
}

/// Nanoseconds as milliseconds.
pub fn milliseconds(ns: u64) -> String {
    format!("{:.1}ms", ns as f64 / 1e6)
}
