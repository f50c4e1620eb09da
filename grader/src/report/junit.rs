//! JUnit XML: a testsuite per part, a testcase per test; a failing test's `<failure>` has
//! its first failure as the message and the replay command in its text.

use std::fmt::Write as _;

use super::{Report, table};

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report
        .tests
        .iter()
        .filter(|t| t.score < t.max_score)
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
        escape(&table::title(report)),
        report.tests.len()
    );
    for part in &report.parts {
        let tests: Vec<_> = report
            .tests
            .iter()
            .filter(|t| t.part == part.part)
            .collect();
        let failing = tests.iter().filter(|t| t.score < t.max_score).count();
        let time: f64 = tests
            .iter()
            .flat_map(|t| &t.seeds)
            .filter_map(|r| match r.outcome {
                crate::outcome::Outcome::Pass { cpu_ns, .. } => cpu_ns,
                crate::outcome::Outcome::Fail { .. } => None,
            })
            .sum::<u64>() as f64
            / 1e9;
        let _ = writeln!(
            out,
            "  <testsuite name=\"raft {}\" tests=\"{}\" failures=\"{failing}\" errors=\"0\" time=\"{time:.3}\">",
            escape(&part.part),
            tests.len()
        );
        for test in tests {
            let cpu: u64 = test
                .seeds
                .iter()
                .filter_map(|r| match r.outcome {
                    crate::outcome::Outcome::Pass { cpu_ns, .. } => cpu_ns,
                    crate::outcome::Outcome::Fail { .. } => None,
                })
                .sum();
            let _ = write!(
                out,
                "    <testcase classname=\"raft.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&part.part),
                escape(&test.name),
                cpu as f64 / 1e9
            );
            if test.score == test.max_score {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let (message, kind, text) = match &test.first_failure {
                Some(failure) => (
                    format!("seed {}: {}", failure.seed, failure.message),
                    failure.reason.describe(),
                    format!(
                        "{}\nreplay: {}{}",
                        table::failure_counts(test),
                        failure.replay,
                        failure
                            .timeline
                            .as_ref()
                            .map_or(String::new(), |t| format!("\ntimeline: {t}"))
                    ),
                ),
                None => (
                    table::failure_counts(test),
                    "not run",
                    report.build_error.clone().unwrap_or_default(),
                ),
            };
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&message),
                escape(kind),
                escape(&text)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
