//! A Markdown summary, e.g. for a CI job's summary page.
//!
//! A student's text (a failure's message, the build error, a path, a file name) is cleaned
//! ([`text::clean`]) and then escaped for where it goes. In running text and table cells,
//! `<`, `>` and `&` become entities, so no raw HTML passes, and Markdown's punctuation is
//! escaped with a backslash, so the text makes no link, image, emphasis or cell of its own
//! ([`inline`]). In a code span or code block, where Markdown shows everything as it is,
//! the delimiters are made longer than any run of backticks inside, so the text cannot
//! close them ([`code_span`], [`code_block`]).

use std::fmt::Write as _;

use super::{Report, table, text};

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = format!("## {}\n\n", inline(&table::title(report)));
    if let Some(errors) = &report.build_error {
        let _ = writeln!(
            out,
            "The code does not build, so no test ran:\n\n{}\n",
            code_block(errors)
        );
    }
    out.push_str("| part | points |\n| --- | ---: |\n");
    for part in &report.parts {
        let _ = writeln!(
            out,
            "| {} | {}/{} |",
            inline(&part.part),
            part.score,
            part.max_score
        );
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
                format!("<br>[timeline](file://{})", link_target(path))
            });
            format!(
                "seed {} ({}): {}<br>{}{timeline}",
                f.seed,
                f.reason.describe(),
                inline(&f.message),
                code_span(&f.replay)
            )
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}/{} | {} | {} | {} |",
            inline(&test.part),
            code_span(&test.name),
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
        let ignored: Vec<String> = submission.ignored.iter().map(|f| inline(f)).collect();
        let _ = writeln!(
            out,
            "\nIgnored submitted files (not student-editable): {}",
            ignored.join(", ")
        );
    }
    out
}

/// `text` on one line, shown as it is in running text or a table cell: HTML's special
/// characters as entities, Markdown's (emphasis, links, code, cells, strikethrough, math,
/// headings) escaped with a backslash.
pub fn inline(text: &str) -> String {
    let text = text::clean_line(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` on one line as a code span in a table cell: between runs of backticks longer
/// than any inside it, with its `|`s escaped (a table splits its cells before it reads
/// code spans, and gives `\|` back as `|`).
pub fn code_span(text: &str) -> String {
    let text = text::clean_line(text).replace('|', "\\|");
    if text.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    // A space each side when the text starts or ends with a backtick (it would join the
    // fence) or a space (Markdown strips one from each side of a span).
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text`, keeping its lines, as a fenced code block whose fence no line of it can close.
pub fn code_block(text: &str) -> String {
    let text = text::clean(text);
    let fence = "`".repeat((longest_backtick_run(&text) + 1).max(3));
    format!("{fence}text\n{}\n{fence}", text.trim_end_matches('\n'))
}

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A path as a link's target: everything but letters, digits, `/`, `-`, `.`, `_` and `~`
/// percent-encoded, so that no space, parenthesis, bracket or `|` ends the link or the cell.
fn link_target(path: &str) -> String {
    let mut out = String::new();
    for byte in text::clean_line(path).bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of a table row: split at the `|`s that are not escaped.
    fn cells(row: &str) -> usize {
        let bytes = row.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
            .count()
            - 1
    }

    #[test]
    fn inline_text_passes_no_html_and_no_markdown() {
        let hostile = "<script>alert(1)</script> &amp; | **bold** [link](https://x) \
                       ![img](https://x/t.png) `code` $x$ ~~s~~ # \\";
        let escaped = inline(hostile);
        assert!(
            !escaped.contains('<') && !escaped.contains('>'),
            "{escaped}"
        );
        assert!(escaped.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;"));
        for (raw, shown) in [
            ("|", "\\|"),
            ("**bold**", "\\*\\*bold\\*\\*"),
            ("[link]", "\\[link\\]"),
            ("`code`", "\\`code\\`"),
            ("$x$", "\\$x\\$"),
            ("~~s~~", "\\~\\~s\\~\\~"),
            ("# \\", "\\# \\\\"),
        ] {
            assert!(
                hostile.contains(raw) && escaped.contains(shown),
                "{escaped}"
            );
        }
        // Cleaned too: one line, no escape sequence.
        assert_eq!(inline("a\nb\u{1b}[2Jc"), "a bc");
    }

    #[test]
    fn code_spans_and_blocks_cannot_be_closed_from_inside() {
        assert_eq!(code_span("cargo test"), "`cargo test`");
        assert_eq!(code_span("a ` b"), "``a ` b``");
        assert_eq!(code_span("``x"), "``` ``x ```");
        assert_eq!(code_span("a|b"), "`a\\|b`");
        let block = code_block("error\n```\n<img src=x onerror=alert(1)>\n````\n");
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````"), "{block}");
        assert_eq!(block.lines().filter(|l| l.starts_with("`````")).count(), 2);
    }

    #[test]
    fn a_hostile_report_renders_safely() {
        use crate::outcome::{Outcome, Reason, SeedRecord};
        use crate::report::{Header, Report, SeedSpan, Submission, TestResults};
        let header = Header {
            implementation: "student's code".into(),
            reference: false,
            commit: Some("abc1234".into()),
            submission: Some(Submission {
                path: "subs/<b>bob</b>".into(),
                taken: vec![],
                hashes: vec![],
                ignored: vec!["raft/x|y.rs".into(), "<img src=x>.rs".into()],
            }),
            cargo_args: "--release -p tests".into(),
            seeds: SeedSpan { first: 1, count: 1 },
            shard: None,
            check_determinism: crate::cli::Determinism::Off,
            rubric: None,
        };
        let results = vec![TestResults {
            test: catalogue::find("initial_election_2a").unwrap(),
            planned: 1,
            skipped: 0,
            points: 6,
            seeds: vec![SeedRecord {
                seed: 1,
                outcome: Outcome::Fail {
                    reason: Reason::TestFailed,
                    message: "<details open>| x | \u{1b}[2J\rtotal 228/228 `".into(),
                },
                timeline: Some("target/timeline/a b)|(<x>.html".into()),
            }],
        }];
        let report = Report::build_failed(
            header,
            results,
            "error: ```\n</details><script>x</script>".into(),
        );
        let markdown = render(&report);
        // The build error is in a code block, which Markdown shows as it is.
        let (before, rest) = markdown.split_once("````text\n").expect("a code block");
        let (inside, after) = rest.split_once("\n````\n").expect("its end");
        assert_eq!(inside, "error: ```\n</details><script>x</script>");
        let outside_code = format!("{before}{after}");
        for raw in ["<details", "<script", "<b>", "<img", "\u{1b}", "\r"] {
            assert!(!outside_code.contains(raw), "{raw:?} in {markdown}");
        }
        assert!(
            markdown.contains("subs/&lt;b&gt;bob&lt;/b&gt;"),
            "{markdown}"
        );
        assert!(markdown.contains("raft/x\\|y.rs, &lt;img src=x&gt;.rs"));
        assert!(markdown.contains("(file://target/timeline/a%20b%29%7C%28%3Cx%3E.html)"));
        let row = markdown
            .lines()
            .find(|l| l.starts_with("| 2A | `initial_election_2a`"))
            .expect("the test's row");
        assert_eq!(cells(row), 7, "{row}");
    }
}
