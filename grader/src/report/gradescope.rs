//! Gradescope's `results.json` (its autograder specification: `score`, and `tests` each with
//! `name`, `score`, `max_score`, `output`, `visibility`).

use serde_json::{Value, json};

use super::Report;
use super::table;

/// The report in Gradescope's format.
pub fn render(report: &Report) -> Value {
    let tests: Vec<Value> = report
        .tests
        .iter()
        .map(|test| {
            let mut output = format!("{}\n", test.description);
            if test.first_failure.is_none() && test.skipped == 0 && test.passed == test.planned {
                output.push_str(&format!("Passed on all {} seeds.", test.planned));
            } else {
                output.push_str(&table::failure_counts(test));
                if let Some(failure) = &test.first_failure {
                    output.push_str(&format!(
                        "\nSeed {}: {}\nReplay: {}",
                        failure.seed, failure.message, failure.replay
                    ));
                    if let Some(timeline) = &failure.timeline {
                        output.push_str(&format!("\nTimeline: {timeline}"));
                    }
                }
            }
            json!({
                "name": if test.course_name.is_empty() {
                    format!("{} {}", test.part, test.name)
                } else {
                    format!("{} {} ({})", test.part, test.name, test.course_name)
                },
                "number": test.part,
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
        output.push_str(&crate::submission::summary(submission));
    }
    if let Some(errors) = &report.build_error {
        output.push_str("\n\nThe code does not build, so no test ran:\n\n");
        output.push_str(errors);
    }
    json!({
        "score": report.score,
        "max_score": report.max_score,
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}
