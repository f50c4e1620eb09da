//! The terminal table.
//!
//! Every string from the report goes through [`text::clean_line`] (or [`text::clean`], for
//! the build error's lines) on its way out, whether or not the report was cleaned: a
//! terminal obeys what it is sent.

use std::fmt::Write as _;

use super::{Report, TestReport, text};

/// The report as a table for the terminal, failures (with replay commands) below it.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", title(report));
    if let Some(submission) = &report.header.submission {
        let _ = writeln!(
            out,
            "Submission: {}",
            text::clean_line(&crate::submission::summary(submission))
        );
    }
    if let Some(errors) = &report.build_error {
        // Indented, so that no line of the compiler's (which quotes the student's code)
        // can pass for one of the grader's.
        let errors: Vec<String> = text::clean(errors)
            .lines()
            .map(|line| format!("    {line}"))
            .collect();
        let _ = writeln!(
            out,
            "\nThe code does not build, so no test ran:\n\n{}\n",
            errors.join("\n")
        );
    }
    let name_width = report
        .tests
        .iter()
        .map(|t| text::clean_line(&t.name).chars().count())
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
            text::clean_line(&test.part),
            text::clean_line(&test.name),
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
            text::clean_line(&part.part),
            part.score,
            part.max_score
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
            let _ = writeln!(
                out,
                "\n{}: {}",
                text::clean_line(&test.name),
                failure_counts(test)
            );
            if let Some(failure) = &test.first_failure {
                let _ = writeln!(
                    out,
                    "  seed {}: {}",
                    failure.seed,
                    text::clean_line(&failure.message)
                );
                let _ = writeln!(out, "  replay:  {}", text::clean_line(&failure.replay));
                if let Some(timeline) = &failure.timeline {
                    let _ = writeln!(out, "  timeline: {}", text::clean_line(timeline));
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

/// The report's first line: the grade and what was graded (cleaned, on one line).
pub fn title(report: &Report) -> String {
    let mut line = format!(
        "Grade: {}/{} for the {}",
        report.score,
        report.max_score,
        text::clean_line(&report.header.implementation)
    );
    if let Some(commit) = &report.header.commit {
        let _ = write!(line, " at commit {}", text::clean_line(commit));
    }
    if let Some(submission) = &report.header.submission {
        let _ = write!(line, ", submission {}", text::clean_line(&submission.path));
    }
    let _ = write!(
        line,
        "; seeds {}..={}",
        report.header.seeds.first,
        report.header.seeds.first + report.header.seeds.count.saturating_sub(1)
    );
    if let Some(shard) = report.header.shard {
        let _ = write!(line, ", shard {}/{}", shard.index, shard.count);
    }
    if report.header.check_determinism != crate::cli::Determinism::FirstSeed {
        let _ = write!(line, ", {}", report.header.check_determinism.describe());
    }
    line
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
            "{} skipped (the test had lost its points: --max-failures, --max-crashes)",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Reason, SeedRecord};
    use crate::report::{Header, TestResults};

    #[test]
    fn a_hostile_message_cannot_draw_over_the_table() {
        let header = Header::for_tests();
        let failing = TestResults {
            test: catalogue::find("initial_election_2a").expect("a catalogued test"),
            planned: 1,
            skipped: 0,
            points: 6,
            seeds: vec![SeedRecord {
                seed: 1,
                outcome: Outcome::Fail {
                    reason: Reason::TestFailed,
                    message: "boom\u{1b}[2J\u{1b}[H\ntotal 228/228\r\u{8}\u{9b}K".into(),
                },
                timeline: Some("t\u{1b}]0;x\u{7}.html".into()),
            }],
        };
        let mut report = Report::new(header, vec![failing], false);
        // Set after the report was made, so the renderer's own cleaning is what is tested.
        report.build_error = Some("error\u{1b}[31m\ntotal 228/228".into());
        let table = render(&report);
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(table.contains("  seed 1: boom total 228/228\n"), "{table}");
        assert!(table.contains("  timeline: t.html\n"), "{table}");
        assert!(
            table.contains("\n    error\n    total 228/228\n"),
            "{table}"
        );
        let totals: Vec<&str> = table.lines().filter(|l| l.starts_with("total")).collect();
        assert_eq!(totals, ["total       0/6  "]);
    }
}
