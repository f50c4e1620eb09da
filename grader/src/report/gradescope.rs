//! Gradescope's `results.json` (its autograder specification: `score`, and `tests` each with
//! `name`, `number`, `score`, `max_score`, `output`, `visibility`).
//!
//! Every text is cleaned ([`text::clean`]) and declared plain text (`output_format`,
//! `test_output_format`, `test_name_format`: `"text"`), so that Gradescope shows a
//! student's message as it is rather than as HTML or Markdown.

use serde_json::{Value, json};

use super::{Report, TestReport, table, text};

/// The report in Gradescope's format.
pub fn render(report: &Report) -> Value {
    let tests: Vec<Value> = report
        .tests
        .iter()
        .enumerate()
        .map(|(i, test)| {
            let mut output = format!("{}\n", text::clean_line(&test.description));
            if test.first_failure.is_none() && test.skipped == 0 && test.passed == test.planned {
                output.push_str(&format!("Passed on all {} seeds.", test.planned));
            } else {
                output.push_str(&table::failure_counts(test));
                if let Some(failure) = &test.first_failure {
                    output.push_str(&format!(
                        "\nSeed {}: {}\nReplay: {}",
                        failure.seed,
                        text::clean_line(&failure.message),
                        text::clean_line(&failure.replay)
                    ));
                    if let Some(timeline) = &failure.timeline {
                        output.push_str(&format!("\nTimeline: {}", text::clean_line(timeline)));
                    }
                }
            }
            let (part, name) = (text::clean_line(&test.part), text::clean_line(&test.name));
            json!({
                "name": if test.course_name.is_empty() {
                    format!("{part} {name}")
                } else {
                    format!("{part} {name} ({})", text::clean_line(&test.course_name))
                },
                "number": number(i, test),
                "score": test.score,
                "max_score": test.max_score,
                "output": output,
                "visibility": "visible",
            })
        })
        .collect();
    let mut output = table::title(report);
    if let Some(submission) = &report.header.submission {
        // Students see here which of their files grading did not take.
        output.push('\n');
        output.push_str(&text::clean_line(&crate::submission::summary(submission)));
    }
    if let Some(errors) = &report.build_error {
        output.push_str("\n\nThe code does not build, so no test ran:\n\n");
        output.push_str(&text::clean(errors));
    }
    json!({
        "score": report.score,
        "max_score": report.max_score,
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// The test's number, unique in a report and the same in every report: its part and its
/// place in that part in the catalogue (`"2A.1"`, `"2A.2"`, ..., `"4X.6"`), whatever was
/// selected. A test the catalogue does not know (which no report of this grader has) is
/// numbered past the part's catalogue tests, by its place in the report.
fn number(index: usize, test: &TestReport) -> String {
    let part = text::clean_line(&test.part);
    let in_part: Vec<&catalogue::Test> = catalogue::all().filter(|t| t.part == test.part).collect();
    let place = match in_part.iter().position(|t| t.name == test.name) {
        Some(place) => place + 1,
        None => in_part.len() + index + 1,
    };
    format!("{part}.{place}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Header, SeedSpan, TestResults};

    fn report_of(names: &[&str]) -> Report {
        let header = Header {
            implementation: "student's code".into(),
            reference: false,
            commit: None,
            submission: None,
            cargo_args: "--release -p tests".into(),
            seeds: SeedSpan { first: 1, count: 0 },
            shard: None,
            check_determinism: crate::cli::Determinism::Off,
            rubric: None,
        };
        let results = names
            .iter()
            .map(|name| TestResults {
                test: catalogue::find(name).expect("a catalogued test"),
                planned: 0,
                skipped: 0,
                points: 1,
                seeds: Vec::new(),
            })
            .collect();
        Report::new(header, results, false)
    }

    #[test]
    fn every_test_has_its_own_number_the_same_in_every_report() {
        let all: Vec<&str> = catalogue::all().map(|t| t.name).collect();
        let rendered = render(&report_of(&all));
        let numbers: Vec<&str> = rendered["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .map(|t| t["number"].as_str().expect("a number"))
            .collect();
        let distinct: std::collections::BTreeSet<&&str> = numbers.iter().collect();
        assert_eq!(distinct.len(), all.len(), "{numbers:?}");
        assert_eq!(&numbers[..3], ["2A.1", "2A.2", "2A.3"]);
        assert!(numbers.contains(&"RSM.8") && numbers.contains(&"3B.9"));
        assert!(numbers.contains(&"4A.2") && numbers.contains(&"4B.10"));
        assert_eq!(numbers.last(), Some(&"4X.6"));
        // A test keeps its number when fewer are selected.
        let some = render(&report_of(&["figure8_2c", "basic_3a", "concurrent1_4b"]));
        assert_eq!(some["tests"][0]["number"], "2C.4");
        assert_eq!(some["tests"][1]["number"], "3A.1");
        assert_eq!(some["tests"][2]["number"], "4B.5");
    }

    #[test]
    fn text_is_clean_and_declared_plain() {
        let mut report = report_of(&["initial_election_2a"]);
        report.build_error = Some("error\u{1b}[2J\n\u{202e}total 228/228".into());
        let rendered = render(&report);
        for field in ["output_format", "test_output_format", "test_name_format"] {
            assert_eq!(rendered[field], "text");
        }
        let output = rendered["output"].as_str().expect("an output");
        assert!(output.ends_with("error\ntotal 228/228"), "{output}");
    }
}
