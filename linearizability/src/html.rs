//! Renders an [`Explanation`] as a self-contained HTML page (inline style and script, no
//! network access), with the history's data embedded as JSON.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;
use std::path::Path;

use crate::explain::{Explanation, PartitionExplanation};
use crate::hash::FoldHasher;
use crate::json::{push_numbers, push_string};
use crate::model::{Model, Operation};

/// The page's style sheet.
const STYLE: &str = include_str!("html/page.css");
/// The page's script: reads the embedded data and draws the selected partition.
const SCRIPT: &str = include_str!("html/page.js");

/// Descriptions longer than this many characters are shortened on the page (keeping both
/// ends), so that a long history of long values still makes a page of a few megabytes.
const MAX_DESCRIPTION: usize = 120;
/// Greater times lose precision as JavaScript numbers.
const MAX_EXACT_JS_INTEGER: u64 = (1 << 53) - 1;

/// Writes the page of [`render_html`] to `path`.
pub fn write_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    explanation: &Explanation,
    path: &Path,
) -> std::io::Result<()> {
    std::fs::write(path, render_html(model, history, explanation))
}

/// A self-contained HTML page showing `history` and the `explanation` of its verdict
/// (from [`crate::check_verbose`] on the same history): one lane per client, one box per
/// operation, the longest partial linearizations numbered, and the operation that could
/// not be placed in red. The crate documentation says how to read it.
pub fn render_html<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    explanation: &Explanation,
) -> String {
    let data = page_data(model, history, explanation);
    let verdict = explanation.verdict;
    let mut page = String::with_capacity(data.len() + STYLE.len() + SCRIPT.len() + 2048);
    write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Linearizability: {verdict}</title>
<style>
{STYLE}</style>
</head>
<body>
<h1 id="verdict" class="verdict-{verdict:?}">History {verdict}</h1>
<div class="legend">
One lane per client; each box is an operation, from its call (left edge) to its return (right edge).
Time runs left to right, with long gaps compressed: compare positions, not lengths.
Pick a partition below (illegal ones in red), then one of its partial linearizations:
<span class="swatch linearized">green boxes</span> are linearized, numbered in order;
the <span class="swatch illegal">red box</span> could not be placed next, because its response came first;
<span class="swatch">grey boxes</span> are not in this linearization.
Hover over a box for details (with the state after it); click a box to show the longest linearization holding it.
</div>
<div id="partitions"></div>
<div id="linearizations"></div>
<div id="summary"></div>
<div id="timeline"></div>
<div id="tooltip" hidden></div>
<script type="application/json" id="history-data">{data}</script>
<script>
{SCRIPT}</script>
</body>
</html>
"#
    )
    .expect("writing to a String cannot fail");
    page
}

/// The JSON the page's script reads:
///
/// ```text
/// { "verdict": "Illegal", "timeOrigin": "0",
///   "ops": [[client, call, ret, "description"], ...],         // all of the history
///   "partitions": [{ "name", "verdict", "ops": [history index...],
///                    "states": ["state description", ...],     // shared by its lins
///                    "lins": [{ "order": [history index...],
///                               "states": [index into states...],
///                               "blocked": history index or -1 }],
///                    "longestFor": [index into lins or -1, parallel to ops] }] }
/// ```
///
/// Times are shifted by `timeOrigin` (a decimal string) when they would not fit exactly
/// in a JavaScript number.
fn page_data<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    explanation: &Explanation,
) -> String {
    let mut out = String::new();
    let max_time = history.iter().map(|op| op.ret).max().unwrap_or(0);
    let origin = if max_time > MAX_EXACT_JS_INTEGER {
        history.iter().map(|op| op.call).min().unwrap_or(0)
    } else {
        0
    };
    write!(
        out,
        r#"{{"verdict":"{:?}","timeOrigin":"{origin}","ops":["#,
        explanation.verdict
    )
    .expect("writing to a String cannot fail");
    for (i, op) in history.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write!(
            out,
            "[{},{},{},",
            op.client,
            op.call - origin,
            op.ret - origin
        )
        .expect("writing to a String cannot fail");
        push_string(
            &mut out,
            &shorten(&model.describe_operation(&op.input, &op.output)),
        );
        out.push(']');
    }
    out.push_str(r#"],"partitions":["#);
    for (i, part) in explanation.partitions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_partition(&mut out, part);
    }
    out.push_str("]}");
    out
}

fn push_partition(out: &mut String, part: &PartitionExplanation) {
    out.push_str(r#"{"name":"#);
    push_string(out, &part.name);
    write!(out, r#","verdict":"{:?}","ops":"#, part.verdict)
        .expect("writing to a String cannot fail");
    push_numbers(out, part.ops.iter().map(|&op| index(op)));

    // Reads repeat the state before them: store each distinct description once.
    let mut states: Vec<String> = Vec::new();
    let mut state_ids: HashMap<String, usize, BuildHasherDefault<FoldHasher>> = HashMap::default();
    let mut lins = String::new();
    for (k, lin) in part.linearizations.iter().enumerate() {
        if k > 0 {
            lins.push(',');
        }
        lins.push_str(r#"{"order":"#);
        push_numbers(&mut lins, lin.steps.iter().map(|step| index(step.op)));
        lins.push_str(r#","states":"#);
        let state_refs: Vec<i64> = lin
            .steps
            .iter()
            .map(|step| {
                let text = shorten(&step.state_after);
                let id = *state_ids.entry(text).or_insert_with_key(|text| {
                    states.push(text.clone());
                    states.len() - 1
                });
                index(id)
            })
            .collect();
        push_numbers(&mut lins, state_refs);
        write!(lins, r#","blocked":{}}}"#, lin.blocked.map_or(-1, index))
            .expect("writing to a String cannot fail");
    }
    out.push_str(r#","states":["#);
    for (k, state) in states.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        push_string(out, state);
    }
    out.push_str(r#"],"lins":["#);
    out.push_str(&lins);
    out.push_str(r#"],"longestFor":"#);
    push_numbers(
        out,
        part.longest_for_op
            .iter()
            .map(|best| best.map_or(-1, index)),
    );
    out.push('}');
}

/// An index as a JSON number.
fn index(i: usize) -> i64 {
    i64::try_from(i).expect("an index fits in an i64")
}

/// `text`, or its two ends around an ellipsis if it is longer than [`MAX_DESCRIPTION`]
/// characters. The end is kept longer: appended values grow at the end.
fn shorten(text: &str) -> String {
    let len = text.chars().count();
    if len <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let head = MAX_DESCRIPTION / 3;
    let tail = MAX_DESCRIPTION - head;
    let head_end = text.char_indices().nth(head).map_or(text.len(), |(i, _)| i);
    let tail_start = text
        .char_indices()
        .nth(len - tail)
        .map_or(text.len(), |(i, _)| i);
    format!(
        "{} … ({} characters) … {}",
        &text[..head_end],
        len - head - tail,
        &text[tail_start..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_keep_both_ends() {
        let text: String = (0..500)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let short = shorten(&text);
        assert!(short.starts_with("abcdefghij"));
        assert!(short.ends_with(&text[text.len() - 20..]));
        assert!(short.chars().count() < 160);
        assert_eq!(shorten("é"), "é");
    }
}
