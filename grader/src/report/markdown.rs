//! A Markdown summary, e.g. for a CI job's summary page.

use std::fmt::Write as _;

use super::{Report, table};

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = format!("## {}\n\n", table::title(report));
    if let Some(errors) = &report.build_error {
        let _ = writeln!(
            out,
            "The code does not build, so no test ran:\n\n```text\n{errors}\n```\n"
        );
    }
    out.push_str("| part | points |\n| --- | ---: |\n");
    for part in &report.parts {
        let _ = writeln!(out, "| {} | {}/{} |", part.part, part.score, part.max_score);
    }
    let _ = writeln!(
        out,
        "| **total** | **{}/{}** |\n",
        report.score, report.max_score
    );
    out.push_str(
        "| part | test | seeds passed | points | median virtual | median CPU | first failure |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | --- |\n");
    for test in &report.tests {
        let failure = test.first_failure.as_ref().map_or(String::new(), |f| {
            let timeline = f.timeline.as_ref().map_or(String::new(), |path| {
                format!("<br>[timeline](file://{})", path.replace(' ', "%20"))
            });
            format!(
                "seed {} ({}): {}<br>`{}`{timeline}",
                f.seed,
                f.reason.describe(),
                cell(&f.message),
                f.replay
            )
        });
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {}/{} | {} | {} | {} |",
            test.part,
            test.name,
            table::seeds_column(test),
            test.score,
            test.max_score,
            test.median_virtual_ns
                .map_or("-".into(), |ns| table::seconds(ns, 2)),
            test.median_cpu_ns.map_or("-".into(), table::milliseconds),
            failure
        );
    }
    if report.interrupted {
        out.push_str("\n**Interrupted:** this grade covers only the seeds that ran.\n");
    }
    if let Some(submission) = &report.header.submission
        && !submission.ignored.is_empty()
    {
        let _ = writeln!(
            out,
            "\nIgnored submitted files (not student-editable): {}",
            submission.ignored.join(", ")
        );
    }
    out
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
