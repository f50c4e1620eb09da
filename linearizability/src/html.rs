//! Renders an [`Explanation`] as a self-contained HTML page (inline style and script, no
//! network access), with the history's data embedded as JSON.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;
use std::path::Path;

use crate::explain::{Explanation, PartitionExplanation};
use crate::hash::FoldHasher;
use crate::json::{push_numbers, push_string};
use crate::model::{Model, NEVER_RETURNED, Operation};

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
One lane per client; each box is an operation, from its call (left edge) to its return (right edge; open-ended if it never returned).
Time runs left to right, with long gaps compressed: compare positions, not lengths.
<span class="swatch linearized">Green boxes</span> are linearized, numbered in order;
the <span class="swatch illegal">red box</span> could not be placed next, because its response came first;
<span class="swatch">grey boxes</span> are not in this linearization.
The page opens on the red box; the panel below says what state it met and how its result differs.
Hover over a box for details; click one to show the longest linearization holding it.
</div>
<div id="partitions"></div>
<div id="linearizations"></div>
<div id="summary"></div>
<div id="explain"></div>
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
///   "ops": [[client, call, ret (-1: never), "description"], ...], // all of the history
///   "partitions": [{ "name", "verdict", "ops": [history index...],
///                    "states": ["state description", ...],     // shared by its lins
///                    "searched": bool, "steps": search steps,
///                    "lins": [{ "order": [history index...],
///                               "states": [index into states...],
///                               "blocked": history index or -1,
///                               "met": "the state the blocked operation met",
///                               "mismatch": null or (see mismatch) }],
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
    // Operations that never returned are drawn open-ended, after every other time.
    let max_time = history
        .iter()
        .map(|op| {
            if op.ret == NEVER_RETURNED {
                op.call
            } else {
                op.ret
            }
        })
        .max()
        .unwrap_or(0);
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
        let ret = if op.ret == NEVER_RETURNED {
            -1
        } else {
            index((op.ret - origin) as usize)
        };
        write!(out, "[{},{},{ret},", op.client, op.call - origin)
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
        push_partition(&mut out, model, history, part);
    }
    out.push_str("]}");
    out
}

fn push_partition<M: Model>(
    out: &mut String,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &PartitionExplanation,
) {
    out.push_str(r#"{"name":"#);
    push_string(out, &part.name);
    write!(out, r#","verdict":"{:?}","ops":"#, part.verdict)
        .expect("writing to a String cannot fail");
    let initial = model.describe_state(&model.init());
    let mut mismatches: HashMap<(usize, String), String, BuildHasherDefault<FoldHasher>> =
        HashMap::default();
    let mut candidates: Option<Vec<(i64, &str)>> = None;
    push_numbers(out, part.ops.iter().map(|&op| index(op)));
    write!(
        out,
        r#","searched":{},"steps":{}"#,
        part.searched, part.steps
    )
    .expect("writing to a String cannot fail");

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
        write!(
            lins,
            r#","blocked":{},"met":"#,
            lin.blocked.map_or(-1, index)
        )
        .expect("writing to a String cannot fail");
        // The state the blocked operation met: after the last step, or the initial one.
        let met = lin
            .steps
            .last()
            .map_or(initial.as_str(), |step| step.state_after.as_str());
        push_string(&mut lins, &shorten(met));
        lins.push_str(r#","mismatch":"#);
        let claimed = lin
            .blocked
            .and_then(|op| model.describe_read_as_state(&history[op].input, &history[op].output));
        match (claimed, lin.blocked) {
            (Some(claimed), Some(blocked)) => {
                // Linearizations often end blocked at the same read in the same state:
                // compare the (possibly long) values once.
                let json = mismatches
                    .entry((blocked, met.to_string()))
                    .or_insert_with(|| {
                        let candidates =
                            candidates.get_or_insert_with(|| distinct_states(part, &initial));
                        mismatch(&claimed, met, candidates)
                    });
                lins.push_str(json);
            }
            _ => lins.push_str("null"),
        }
        lins.push('}');
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

/// How far the state a blocked read claims (`claimed`) departs from the state it met
/// (`met`) and from the nearest of the `candidates` (the one sharing the longest prefix
/// with it), as JSON:
/// `{"common": characters in common with the state met, "returned": a window of the claim
/// around where it departs, "met": the state met's window, "nearest": null or {"after":
/// history index (-1: initially), "common", "returned", "state"}}`.
/// `candidates` are the distinct states reached, each with the operation after which it
/// was first reached (-1: initially).
fn mismatch(claimed: &str, met: &str, candidates: &[(i64, &str)]) -> String {
    let mut out = String::new();
    let (common, returned, met_window) = departure(claimed, met);
    write!(out, r#"{{"common":{common},"returned":"#).expect("writing to a String cannot fail");
    push_string(&mut out, &returned);
    out.push_str(r#","met":"#);
    push_string(&mut out, &met_window);
    out.push_str(r#","nearest":"#);
    let mut best: Option<(usize, i64, &str)> = None;
    for &(after, state) in candidates {
        let shared = common_prefix(claimed, state);
        if state != met && best.is_none_or(|(most, _, _)| shared > most) {
            best = Some((shared, after, state));
        }
    }
    match best {
        Some((shared, after, state)) if shared > common => {
            let (_, returned, window) = departure(claimed, state);
            write!(out, r#"{{"after":{after},"common":{shared},"returned":"#)
                .expect("writing to a String cannot fail");
            push_string(&mut out, &returned);
            out.push_str(r#","state":"#);
            push_string(&mut out, &window);
            out.push('}');
        }
        _ => out.push_str("null"),
    }
    out.push('}');
    out
}

/// The distinct states of a partition's linearizations, each with the operation (history
/// index) after which it was first reached, -1 for the initial state.
fn distinct_states<'a>(part: &'a PartitionExplanation, initial: &'a str) -> Vec<(i64, &'a str)> {
    let mut seen: HashSet<&str, BuildHasherDefault<FoldHasher>> = HashSet::default();
    std::iter::once((-1, initial))
        .chain(
            part.linearizations
                .iter()
                .flat_map(|lin| lin.steps.iter())
                .map(|step| (index(step.op), step.state_after.as_str())),
        )
        .filter(|&(_, state)| seen.insert(state))
        .collect()
}

/// How many characters `a` and `b` have in common at their start.
fn common_prefix(a: &str, b: &str) -> usize {
    // Bytes compare faster than characters; back off to the last whole character.
    let mut end = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(end) {
        end -= 1;
    }
    a[..end].chars().count()
}

/// Where `a` departs from `b`: the characters they share at their start, and a window of
/// each around that point (a little context before, more after; "…" marks a cut).
fn departure(a: &str, b: &str) -> (usize, String, String) {
    const BEFORE: usize = 24;
    const AFTER: usize = 48;
    let common = common_prefix(a, b);
    let window = |text: &str| {
        let start = common.saturating_sub(BEFORE);
        let len = text.chars().count();
        let mut shown: String = text.chars().skip(start).take(BEFORE + AFTER).collect();
        if start > 0 {
            shown.insert(0, '…');
        }
        if start + BEFORE + AFTER < len {
            shown.push('…');
        }
        shown
    };
    (common, window(a), window(b))
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

#[cfg(test)]
mod mismatch_tests {
    use super::*;

    #[test]
    fn a_departure_is_found_past_a_long_common_prefix() {
        let met = format!("{}[1][2][3]", "x".repeat(100));
        let claimed = format!("{}[1][3]", "x".repeat(100));
        let (common, returned, window) = departure(&claimed, &met);
        assert_eq!(common, 104);
        // 24 characters of context, then the first difference.
        assert_eq!(returned, format!("…{}[1][3]", "x".repeat(20)));
        assert_eq!(window, format!("…{}[1][2][3]", "x".repeat(20)));
        assert_eq!(common_prefix("é[1]", "é[2]"), 2);
        assert_eq!(common_prefix("é", "è"), 0);
    }

    #[test]
    fn the_nearest_state_is_the_one_sharing_most() {
        let candidates = [(-1, "\"\""), (0, "\"[1]\""), (1, "\"[1][2]\"")];
        // The read claims [1][3]: it met [1][2], sharing `"[1][` (5 characters); no
        // state shares more, so no nearest one is named.
        let json = mismatch("\"[1][3]\"", "\"[1][2]\"", &candidates);
        assert!(json.starts_with(r#"{"common":5,"#), "{json}");
        assert!(json.ends_with(r#""nearest":null}"#), "{json}");
        // Met the initial state, but [1][2] was reached elsewhere (after operation 1)
        // and shares the most.
        let json = mismatch("\"[1][3]\"", "\"\"", &candidates);
        assert!(json.starts_with(r#"{"common":1,"#), "{json}");
        assert!(
            json.contains(r#""nearest":{"after":1,"common":5,"#),
            "{json}"
        );
    }
}
