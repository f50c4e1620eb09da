//! JUnit XML: a testsuite per part, named by its lab (`Lab 2 (Raft): 2A`), a testcase per
//! test; a failing test's `<failure>` has its first failure as the message and the replay
//! command in its text.
//!
//! CI viewers group by lab through each testcase's `classname`, `lab2_raft.2A` (Jenkins reads
//! the part before the last dot as the package, the rest as the class) and each testsuite's
//! `package` (`lab2_raft`). All text is cleaned ([`text::clean`]) and escaped.

use std::fmt::Write as _;

use super::{Report, table, text};

/// The lab a part belongs to: its name for people, and as a package name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lab {
    /// `Lab 2 (Raft)`.
    pub name: &'static str,
    /// `lab2_raft`.
    pub package: &'static str,
}

/// Lab 2: Raft, the course's parts 2A–2D and the tests beyond the course (2X, 2E, 2F).
const RAFT: Lab = Lab {
    name: "Lab 2 (Raft)",
    package: "lab2_raft",
};

/// Lab 3: the key/value service, 3A and 3B and the RSM layer under them, and the tests
/// beyond the course (3X, 3C).
const KV: Lab = Lab {
    name: "Lab 3 (KV)",
    package: "lab3_kv",
};

/// Lab 4: the sharded key/value service, 4A (the shard controller) and 4B, and the course's
/// challenges (4C).
const SHARD: Lab = Lab {
    name: "Lab 4 (Sharded KV)",
    package: "lab4_shardkv",
};

/// What no catalogued test belongs to (a report naming a part this grader does not know).
const OTHER: Lab = Lab {
    name: "Other",
    package: "other",
};

/// The lab of `part` (`"2A"`, `"RSM"`), by the catalogue's suite its tests are listed in.
pub fn lab(part: &str) -> Lab {
    let in_suite = |suite: &[catalogue::Test]| suite.iter().any(|t| t.part == part);
    if in_suite(catalogue::RAFT) || in_suite(catalogue::STRICT) {
        RAFT
    } else if in_suite(catalogue::KV) {
        KV
    } else if in_suite(catalogue::SHARD) {
        SHARD
    } else {
        OTHER
    }
}

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
        let lab = lab(&part.part);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}: {}\" package=\"{}\" tests=\"{}\" failures=\"{failing}\" errors=\"0\" time=\"{time:.3}\">",
            lab.name,
            escape(&part.part),
            lab.package,
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
                "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
                lab.package,
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

/// Cleans text ([`text::clean`]) and escapes it for XML attributes and content; drops the
/// characters XML 1.0 cannot hold.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in text::clean(raw).chars() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Reason, SeedRecord};
    use crate::report::{Header, TestResults};

    fn failing(name: &str, message: &str) -> TestResults {
        TestResults {
            test: catalogue::find(name).expect("a catalogued test"),
            planned: 1,
            skipped: 0,
            points: 1,
            seeds: vec![SeedRecord {
                seed: 1,
                outcome: Outcome::Fail {
                    reason: Reason::TestFailed,
                    message: message.into(),
                },
                timeline: None,
            }],
        }
    }

    fn report(results: Vec<TestResults>) -> Report {
        let header = Header::for_tests();
        Report::new(header, results, false)
    }

    #[test]
    fn every_part_belongs_to_its_lab() {
        for part in ["2A", "2B", "2C", "2D", "2X", "2E", "2F"] {
            assert_eq!(lab(part), RAFT, "{part}");
        }
        for part in ["RSM", "3A", "3B", "3X", "3C"] {
            assert_eq!(lab(part), KV, "{part}");
        }
        for part in ["4A", "4B", "4C", "4X"] {
            assert_eq!(lab(part), SHARD, "{part}");
        }
        assert_eq!(lab("9Z"), OTHER);
        let parts = catalogue::parts();
        assert!(parts.iter().all(|part| lab(part) != OTHER), "{parts:?}");
    }

    #[test]
    fn suites_are_named_by_lab_and_hostile_text_stays_text() {
        let xml = render(&report(vec![
            failing("initial_election_2a", "<failure>\u{1b}[2J\u{0}\r\"x\" & y"),
            failing("basic_rsm", "fine"),
            failing("basic_3a", "fine"),
            failing("basic_4a", "fine"),
            failing("join_leave_4b", "fine"),
            failing("challenge1_delete_4c", "fine"),
        ]));
        let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suites: Vec<(&str, &str)> = document
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .map(|n| {
                (
                    n.attribute("name").unwrap(),
                    n.attribute("package").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            suites,
            [
                ("Lab 2 (Raft): 2A", "lab2_raft"),
                ("Lab 3 (KV): RSM", "lab3_kv"),
                ("Lab 3 (KV): 3A", "lab3_kv"),
                ("Lab 4 (Sharded KV): 4A", "lab4_shardkv"),
                ("Lab 4 (Sharded KV): 4B", "lab4_shardkv"),
                ("Lab 4 (Sharded KV): 4C", "lab4_shardkv")
            ]
        );
        let cases: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|n| n.attribute("classname").unwrap())
            .collect();
        assert_eq!(
            cases,
            [
                "lab2_raft.2A",
                "lab3_kv.RSM",
                "lab3_kv.3A",
                "lab4_shardkv.4A",
                "lab4_shardkv.4B",
                "lab4_shardkv.4C"
            ]
        );
        let message = document
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .and_then(|n| n.attribute("message"))
            .unwrap();
        assert_eq!(message, "seed 1: <failure>\"x\" & y");
    }
}
