//! One column per node, for a terminal: what each server (and the tester) did, side by
//! side, down a shared time axis.
//!
//! Two ways in:
//!
//! - [`parse_log`] reads the text a run prints with `LAB_LOG=debug` (lines such as
//!   `[    1.234567s] S2     DEBUG raft: became leader term=3`) into a [`Recording`] of
//!   [`Kind::Log`] events, skipping the test harness's own lines;
//! - a [`Recording`] the run captured itself (annotations, states, messages, ...).
//!
//! Either goes to [`render_columns`], with [`ColumnOptions`] to pick nodes, topics, a time
//! window and a minimum log level, and [`parse_duration`] reads `--from`/`--to` values:
//!
//! ```
//! use timeline::columns::{ColumnOptions, parse_log, render_columns};
//!
//! let log = "[    0.000000s] tester  INFO tester: start S0\n\
//!            [    1.234567s] S0     DEBUG raft: became leader term=3\n";
//! let text = render_columns(&parse_log(log), &ColumnOptions { width: 60, ..Default::default() });
//! assert!(text.contains("became leader"));
//! ```
//!
//! # Layout
//!
//! A time column (`  1.234567`, virtual seconds) comes first, then one column per node
//! name (a restarted server keeps its column). The tester's column (`tester`) comes first,
//! then any other node that is not a server (such as `-`, "no node") in order of
//! appearance, then the servers in natural order: `S0`, `S1`, ..., `S9`, `S10`. Each event
//! takes its own row; text longer than its column wraps onto the next lines of the same
//! column and never spills into its neighbours. Column widths share out
//! [`ColumnOptions::width`] evenly, but never go below [`MIN_COLUMN_WIDTH`] characters, so
//! very many nodes on a narrow terminal make lines longer than asked for. Widths count
//! characters, so double-width characters (rare in logs) can misalign a row.
//!
//! Where an event goes:
//!
//! | Event | Column | Text |
//! |---|---|---|
//! | `Log`, `Annotation`, `Start`, `Crash` | the node it happened on | its text (`WARN`/`ERROR` logs prefixed with the level); `start`; `CRASH` |
//! | `State` | the server it names | `term 3 leader` / `term 3` |
//! | `Shards` | the server it names | `c4 · 0 1 2 · ⇣3 4`: configuration 4 applied, shards 0, 1 and 2 served, the data of shards 3 and 4 awaited (`c4 · 0 1 2` when none is awaited, `c0 · –` when none is served) |
//! | `Message` | its sender (`from`) | `→ S2 Raft.AppendEntries` for a request to S2, `← S2 Raft.AppendEntries` for a reply sent back to S2 |
//! | `Phase`, `Check`, `Net`, `Links`, `Op`, `Link` | the tester's (their own node's if there is no tester) | `== phase`, `ok: check` / `FAILED: check`, `net reliable off`, `S0 reaches S1 S2`, `C1 put(k,v) → ok [35ms]` (the call's latency), `text: path` |
//!
//! # Topics
//!
//! Every event has a topic ([`topic`]), which picks its colour and which
//! [`ColumnOptions::topics`] and [`ColumnOptions::exclude_topics`] filter by:
//!
//! | Event | Topic |
//! |---|---|
//! | `Annotation` | its own topic (`role`, `vote`, `commit`, ...) |
//! | `Log` | its target, the crate that logged it (`raft`, `labrpc`, `kvraft`, `tester`) |
//! | `Start`, `Crash` | `node` |
//! | `Net`, `Links` | `net` |
//! | `Phase`, `Check` | `tester` |
//! | `State` | `state` |
//! | `Shards` | `shards` |
//! | `Message` | `rpc` |
//! | `Op` | `client` |
//! | `Link` | `link` |
//!
//! Known topics (`role`, `term`, `vote`, `commit`, `snapshot`, `apply`, `log`, `tester`,
//! `node`, `net`, `state`, `rpc`, `client`, `pre-vote`, `transfer`, `config`, `read`,
//! `shards`) have fixed colours; any other topic gets one from a small palette by a hash
//! of its name, so it keeps its colour from run to run.
//! Crashes, failed checks and `ERROR` logs are bold red, `WARN` logs bold yellow, phases
//! bold. Colours are ANSI 256-colour escapes; with [`ColumnOptions::colour`] off the
//! output has no escape codes at all, and otherwise the same characters.
//!
//! # Filters
//!
//! All filters apply together (an event is shown only if every one keeps it):
//!
//! - [`ColumnOptions::nodes`]: which columns to show. A list naming only servers restricts
//!   the server columns and keeps the tester's (and other non-server) columns, which is
//!   what "show me S1 and S2" means; a list that names any non-server column (`tester`,
//!   `-`) shows exactly the columns listed. Names match case-insensitively. Events whose
//!   column is hidden are not shown.
//! - [`ColumnOptions::topics`]: only events with one of these topics.
//! - [`ColumnOptions::exclude_topics`]: no events with one of these topics.
//! - [`ColumnOptions::from`], [`ColumnOptions::to`]: only events in `[from, to]`, both
//!   ends included.
//! - [`ColumnOptions::min_level`]: only `Log` events at this level or above (`ERROR` >
//!   `WARN` > `INFO` > `DEBUG` > `TRACE`, case-insensitive); other kinds of events are not
//!   affected, and an unknown level filters nothing.

use std::fmt::Write as _;

use crate::event::{Event, Kind, Nanos, Recording};

/// The narrowest a node's column gets, however many nodes share the width.
pub const MIN_COLUMN_WIDTH: usize = 10;

/// What [`render_columns`] shows, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnOptions {
    /// Columns to show, by node name (see the module docs for the tester's column); `None`
    /// shows all.
    pub nodes: Option<Vec<String>>,
    /// Topics to show; `None` shows all.
    pub topics: Option<Vec<String>>,
    /// Topics not to show.
    pub exclude_topics: Vec<String>,
    /// Show nothing before this virtual time.
    pub from: Option<Nanos>,
    /// Show nothing after this virtual time.
    pub to: Option<Nanos>,
    /// The terminal's width in characters, shared out among the columns.
    pub width: usize,
    /// Colour by topic with ANSI escape codes.
    pub colour: bool,
    /// The lowest log level to show (`"WARN"`, `"debug"`, ...); `None` shows all.
    pub min_level: Option<String>,
}

impl Default for ColumnOptions {
    /// Everything, 120 characters wide, without colour.
    fn default() -> Self {
        ColumnOptions {
            nodes: None,
            topics: None,
            exclude_topics: Vec::new(),
            from: None,
            to: None,
            width: 120,
            colour: false,
            min_level: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading LAB_LOG output
// ---------------------------------------------------------------------------------------

/// Lines the test harness prints between (or after) log lines. A line that does not parse
/// as a log line is taken as the rest of the previous log line's message (e.g. a
/// multi-line `Debug` value), unless it starts with one of these: then it belongs to the
/// harness, and the lines after it are not log text either until the next log line.
const HARNESS_PREFIXES: &[&str] = &[
    "test ",
    "running ",
    "Running ",
    "labrpc:",
    "thread '",
    "failures:",
    "successes:",
    "---- ",
    "note: ",
    "stack backtrace:",
    "replay:",
    "logs:",
    "error:",
    "warning:",
    "Compiling ",
    "Finished ",
    "Doc-tests ",
];

/// The levels `tracing` prints, lowest first.
const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// Reads what a run printed with `LAB_LOG` set into a [`Recording`] of [`Kind::Log`]
/// events.
///
/// Each log line (`[    1.234567s] S2     DEBUG raft: became leader term=3`) becomes a
/// `Log { level, target, text }` event at its virtual time, on a node per distinct name in
/// order of first appearance (`-`, "logged outside any node", is a node named `-`; the
/// tester's own lines are on `tester` with target `tester`). ANSI escape codes in the
/// input are ignored.
///
/// Lines that are not log lines:
///
/// - harness output (`running 1 test`, `test foo ... ok`, `labrpc: failed with seed 5`,
///   `thread '...' panicked at ...`, `failures:`, `---- foo stdout ----`, `note: ...`,
///   cargo's `Running ...`) is skipped, and so is everything after it up to the next log
///   line (a panic's message, a backtrace);
/// - a line that starts with `[` but is not a log line is skipped, and so is everything
///   after it up to the next log line;
/// - any other line right after a log line (or its continuation) is the rest of that
///   line's message (a multi-line value), appended to its text after a newline; a blank
///   line ends that, since harness output starts with one;
/// - anything else is skipped.
///
/// A log line glued after `test foo ... ` (libtest writes the test's name before its
/// output when tests run one at a time) is still read.
///
/// From the harness's lines it also takes what it can about the run: the seed (from
/// `labrpc: failed with seed 5`), the failure (the first panic's message, or else "failed
/// with seed 5"), and the test's name if the output names exactly one test. The
/// recording's `end` is the time of its last event. The input should be one run: the
/// events of several seeds in a row would be read as one run with time going backwards.
pub fn parse_log(text: &str) -> Recording {
    /// What the lines that follow the current one belong to.
    #[derive(PartialEq)]
    enum After {
        /// Nothing: skip lines until the next log line.
        Nothing,
        /// The last event's text.
        Log,
        /// The message of a panic.
        Panic,
    }

    let mut rec = Recording::default();
    let mut tests: Vec<String> = Vec::new();
    let mut panic: Option<String> = None;
    let mut failed_seed = None;
    let mut after = After::Nothing;

    for raw in text.lines() {
        let line = strip_ansi(raw);
        let line = line.trim_end();
        if let Some(log) = parse_line(line).or_else(|| parse_glued(line)) {
            let node = node_index(&mut rec.nodes, log.node);
            rec.events.push(Event {
                at: log.at,
                node,
                kind: Kind::Log {
                    level: log.level.to_owned(),
                    target: log.target.to_owned(),
                    text: log.text.to_owned(),
                },
            });
            after = After::Log;
            continue;
        }
        if line.trim().is_empty() {
            after = After::Nothing;
            continue;
        }
        // A line that looks like a log line but is not one (a garbled or foreign line) is
        // more likely noise than the rest of a message, which rarely starts with `[`.
        if is_harness(line) || line.starts_with('[') {
            after = After::Nothing;
            note_harness(line, &mut tests, &mut failed_seed);
            if line.starts_with("thread '") && line.contains(" panicked at ") && panic.is_none() {
                panic = Some(String::new());
                after = After::Panic;
            }
            continue;
        }
        match after {
            After::Log => {
                if let Some(Event {
                    kind: Kind::Log { text, .. },
                    ..
                }) = rec.events.last_mut()
                {
                    text.push('\n');
                    text.push_str(line);
                }
            }
            After::Panic => {
                if let Some(message) = panic.as_mut() {
                    if !message.is_empty() {
                        message.push('\n');
                    }
                    message.push_str(line);
                }
            }
            After::Nothing => {}
        }
    }

    rec.end = rec.events.iter().map(|e| e.at).max().unwrap_or(0);
    if let Some(seed) = failed_seed {
        rec.seed = seed;
    }
    rec.failure = panic
        .filter(|message| !message.is_empty())
        .or_else(|| failed_seed.map(|seed| format!("failed with seed {seed}")));
    if let [test] = tests.as_slice() {
        rec.test = test.clone();
    }
    rec
}

/// One log line, in pieces borrowed from the line.
struct LogLine<'a> {
    at: Nanos,
    node: &'a str,
    level: &'a str,
    target: &'a str,
    text: &'a str,
}

/// Reads `[    1.234567s] S2     DEBUG raft: became leader term=3`, or `None` if the line
/// is not a log line.
fn parse_line(line: &str) -> Option<LogLine<'_>> {
    let rest = line.strip_prefix('[')?;
    let (time, rest) = rest.split_once(']')?;
    let at = parse_decimal(time.trim().strip_suffix('s')?, 1_000_000_000)?;
    // The node's name is padded to 6 and the level right-aligned in 5, so any run of
    // spaces separates them.
    let rest = rest.strip_prefix(' ')?.trim_start();
    let (node, rest) = rest.split_once(' ')?;
    let (level, rest) = rest.trim_start().split_once(' ')?;
    if !LEVELS.contains(&level) {
        return None;
    }
    let (target, text) = rest.split_once(':')?;
    if target.is_empty() || target.contains(char::is_whitespace) {
        return None;
    }
    Some(LogLine {
        at,
        node,
        level,
        target,
        text: text.strip_prefix(' ').unwrap_or(text),
    })
}

/// Reads a log line that follows `test foo ... ` on the same line.
fn parse_glued(line: &str) -> Option<LogLine<'_>> {
    if !line.starts_with("test ") {
        return None;
    }
    let start = line.find(" ... [")? + " ... ".len();
    parse_line(&line[start..])
}

/// Whether a line that is not a log line is the harness's (see [`HARNESS_PREFIXES`]).
fn is_harness(line: &str) -> bool {
    let line = line.trim_start();
    HARNESS_PREFIXES.iter().any(|p| line.starts_with(p))
}

/// Takes the test's name and the failed seed from the harness's lines.
fn note_harness(line: &str, tests: &mut Vec<String>, failed_seed: &mut Option<u64>) {
    let name = if let Some(rest) = line.strip_prefix("test ") {
        // `test foo ... ok`; not `test result: ok. 1 passed`.
        rest.split_once(" ... ").map(|(name, _)| name)
    } else if let Some(rest) = line.strip_prefix("---- ") {
        rest.strip_suffix(" stdout ----")
    } else {
        None
    };
    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty())
        && !tests.iter().any(|t| t == name)
    {
        tests.push(name.to_owned());
    }
    if let Some(seed) = line.strip_prefix("labrpc: failed with seed ")
        && let Ok(seed) = seed.trim().parse()
    {
        *failed_seed = Some(seed);
    }
}

/// The index of the node named `name`, added if new.
fn node_index(nodes: &mut Vec<String>, name: &str) -> u32 {
    let index = nodes.iter().position(|n| n == name).unwrap_or_else(|| {
        nodes.push(name.to_owned());
        nodes.len() - 1
    });
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// `text` without ANSI escape sequences (`ESC [ ... final byte`, or `ESC` and one
/// character).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            // Parameters and intermediates, up to the final byte (`@` to `~`).
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------

/// Reads a virtual time or duration for `--from`/`--to`: a number of seconds (`1.5`), or a
/// number with a unit: `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) or `h` (`1.5s`,
/// `1500ms`, `2m`). Fractions are exact to the nanosecond, with no floating point.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let error = || format!("{text:?} is not a duration (try 1.5, 1.5s, 1500ms or 2m)");
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(error()),
    };
    parse_decimal(number, unit).ok_or_else(error)
}

/// `number` (digits, optionally a `.` and more digits) times `unit`, rounded down, or
/// `None` if it is not such a number or does not fit.
fn parse_decimal(number: &str, unit: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    // Digits beyond the 18th are below a nanosecond for any unit up to hours.
    let fraction = &fraction[..fraction.len().min(18)];
    let scale = 10u128.pow(u32::try_from(fraction.len()).ok()?);
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let total = whole.checked_mul(u128::from(unit))? + fraction * u128::from(unit) / scale;
    u64::try_from(total).ok()
}

// ---------------------------------------------------------------------------------------
// Topics and colours
// ---------------------------------------------------------------------------------------

/// The topic of an event, to colour and filter it by (the table in the module docs).
pub fn topic(kind: &Kind) -> &str {
    match kind {
        Kind::Annotation { topic, .. } => topic,
        Kind::Log { target, .. } => target,
        Kind::Start | Kind::Crash => "node",
        Kind::Net { .. } | Kind::Links { .. } => "net",
        Kind::Phase { .. } | Kind::Check { .. } => "tester",
        Kind::State { .. } => "state",
        Kind::Shards { .. } => "shards",
        Kind::Message { .. } => "rpc",
        Kind::Op { .. } => "client",
        Kind::Link { .. } => "link",
    }
}

/// The fixed colours (ANSI 256-colour numbers) of the topics lab code and the tester use.
const KNOWN_COLOURS: &[(&str, u8)] = &[
    ("role", 208),
    ("term", 141),
    ("vote", 75),
    ("commit", 40),
    ("snapshot", 171),
    ("apply", 37),
    ("log", 180),
    ("tester", 250),
    ("node", 111),
    ("net", 214),
    ("state", 220),
    ("rpc", 244),
    ("client", 117),
    // Pre-Vote, leadership transfer, membership changes and ReadIndex reads. Hues no
    // other topic (nor the palette) has, so they stay apart from "vote" and "role" next
    // to them.
    ("pre-vote", 45),
    ("transfer", 213),
    ("config", 148),
    ("read", 178),
    // Lab 4: a group's shards (what its state machine applied, and where each shard
    // stands in a migration).
    ("shards", 203),
];

/// Colours for other topics, picked by a hash of the topic's name. None of them is red, so
/// that red keeps meaning "something went wrong".
const PALETTE: &[u8] = &[33, 39, 70, 106, 136, 166, 135, 168, 74, 142, 179, 109];

/// The SGR parameters (`38;5;N`) of a topic's colour.
fn topic_colour(topic: &str) -> String {
    let colour = KNOWN_COLOURS
        .iter()
        .find(|(known, _)| *known == topic)
        .map_or_else(|| PALETTE[fnv1a(topic) % PALETTE.len()], |(_, c)| *c);
    format!("38;5;{colour}")
}

/// FNV-1a: a hash that, unlike the standard library's, is the same in every build, so a
/// topic keeps its colour.
fn fnv1a(text: &str) -> usize {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // Only the remainder by the palette's length is used, so dropping high bits is fine.
    hash as usize
}

/// Bold red: crashes, failed checks, errors.
const ALERT: &str = "1;31";
/// Bold yellow: warnings.
const WARNING: &str = "1;33";
/// The time column and the separator.
const DIM: &str = "2";
/// The header.
const BOLD: &str = "1";

/// The SGR parameters an event is drawn with.
fn style(kind: &Kind) -> String {
    match kind {
        Kind::Crash | Kind::Check { passed: false, .. } => ALERT.into(),
        Kind::Log { level, .. } if level.eq_ignore_ascii_case("ERROR") => ALERT.into(),
        Kind::Log { level, .. } if level.eq_ignore_ascii_case("WARN") => WARNING.into(),
        Kind::Phase { .. } => format!("{BOLD};{}", topic_colour(topic(kind))),
        _ => topic_colour(topic(kind)),
    }
}

/// `text` in the style `sgr`, or as it is without colour.
fn paint(text: &str, sgr: &str, colour: bool) -> String {
    if colour && !text.is_empty() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// The name of the tester's node, whose column comes first.
const TESTER: &str = "tester";

/// `S7` → `Some(7)`; `None` for names that are not a server's.
fn server_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix('S')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// All column names, in column order: the tester, other non-servers in order of
/// appearance, then servers by number.
fn column_names(rec: &Recording) -> Vec<String> {
    // Events can name a server that has no node of its own (a state sampled before it
    // started, or a hand-made recording): it still gets its column.
    let named = rec.events.iter().filter_map(|event| match &event.kind {
        Kind::State { server, .. } | Kind::Shards { server, .. } => Some(server),
        Kind::Message { from, .. } => Some(from),
        _ => None,
    });
    let mut names: Vec<&str> = Vec::new();
    for name in rec.nodes.iter().chain(named) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut order: Vec<(usize, u64, usize, &str)> = names
        .iter()
        .enumerate()
        .map(|(appearance, &name)| match server_number(name) {
            _ if name == TESTER => (0, 0, appearance, name),
            Some(number) => (2, number, appearance, name),
            None => (1, 0, appearance, name),
        })
        .collect();
    order.sort_unstable();
    order
        .into_iter()
        .map(|(.., name)| name.to_owned())
        .collect()
}

/// The columns the `nodes` filter keeps (see the module docs).
fn visible_columns(all: Vec<String>, nodes: Option<&[String]>) -> Vec<String> {
    let Some(listed) = nodes else {
        return all;
    };
    let is_listed = |name: &str| listed.iter().any(|l| l.eq_ignore_ascii_case(name));
    // Names match case-insensitively, so `s1` lists a server too.
    let restricts_others = listed
        .iter()
        .any(|l| server_number(&l.to_ascii_uppercase()).is_none());
    all.into_iter()
        .filter(|name| is_listed(name) || (!restricts_others && server_number(name).is_none()))
        .collect()
}

/// The name of the column an event belongs in (the table in the module docs).
fn column_of<'a>(rec: &'a Recording, event: &'a Event, has_tester: bool) -> &'a str {
    match &event.kind {
        Kind::State { server, .. } | Kind::Shards { server, .. } => server,
        Kind::Message { from, .. } => from,
        Kind::Phase { .. }
        | Kind::Check { .. }
        | Kind::Net { .. }
        | Kind::Links { .. }
        | Kind::Op { .. }
        | Kind::Link { .. }
            if has_tester =>
        {
            TESTER
        }
        _ => rec.node_name(event.node),
    }
}

/// A log level's rank (`TRACE` 0 to `ERROR` 4), or `None` if it is not one.
fn level_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level))
}

/// Whether the topic, time and level filters keep an event.
fn keeps(options: &ColumnOptions, event: &Event, min_rank: Option<usize>) -> bool {
    let topic = topic(&event.kind);
    if let Some(topics) = &options.topics
        && !topics.iter().any(|t| t == topic)
    {
        return false;
    }
    if options.exclude_topics.iter().any(|t| t == topic) {
        return false;
    }
    if options.from.is_some_and(|from| event.at < from)
        || options.to.is_some_and(|to| event.at > to)
    {
        return false;
    }
    if let (Some(min), Kind::Log { level, .. }) = (min_rank, &event.kind) {
        // A level this does not know is kept: better shown than lost.
        return level_rank(level).is_none_or(|rank| rank >= min);
    }
    true
}

/// An event's text in its column (also how labrpc logs the events it records), given the
/// time it happened.
pub fn describe(kind: &Kind, at: Nanos) -> String {
    match kind {
        Kind::Start => "start".into(),
        Kind::Crash => "CRASH".into(),
        Kind::Annotation { text, .. } => text.clone(),
        Kind::Log { level, text, .. } => {
            // Warnings and errors must stand out without colour too.
            if level_rank(level).is_some_and(|rank| rank >= 3) {
                format!("{} {text}", level.to_ascii_uppercase())
            } else {
                text.clone()
            }
        }
        Kind::Net { setting, on } => format!("net {setting} {}", if *on { "on" } else { "off" }),
        Kind::Links { server, reaches } if reaches.is_empty() => format!("{server} reaches none"),
        Kind::Links { server, reaches } => format!("{server} reaches {}", reaches.join(" ")),
        Kind::Phase { text } => format!("== {text}"),
        Kind::Check { text, passed: true } => format!("ok: {text}"),
        Kind::Check {
            text,
            passed: false,
        } => format!("FAILED: {text}"),
        Kind::State {
            term, leader: true, ..
        } => format!("term {term} leader"),
        Kind::State { term, .. } => format!("term {term}"),
        Kind::Shards {
            config,
            serving,
            waiting,
            ..
        } => shards_label(*config, serving, waiting),
        Kind::Message {
            to, method, reply, ..
        } => format!("{} {to} {method}", if *reply { '←' } else { '→' }),
        Kind::Op { client, call, text } => {
            format!(
                "{client} {text} [{}]",
                format_duration(at.saturating_sub(*call))
            )
        }
        Kind::Link { text, path } => format!("{text}: {path}"),
    }
}

/// A group server's shards in short: `c4 · 0 1 2 · ⇣3 4` for configuration 4 with shards
/// 0, 1 and 2 served and the data of shards 3 and 4 awaited; `c4 · 0 1 2` when none is
/// awaited, `c4 · – · ⇣3 4` when none is served yet, `c0 · –` before any configuration.
/// (The timeline page labels its shard strips the same way.)
pub fn shards_label(config: u64, serving: &[u8], waiting: &[u8]) -> String {
    let list = |shards: &[u8]| {
        shards
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut label = format!("c{config} · ");
    if serving.is_empty() {
        label.push('–');
    } else {
        label.push_str(&list(serving));
    }
    if !waiting.is_empty() {
        label.push_str(" · ⇣");
        label.push_str(&list(waiting));
    }
    label
}

/// A virtual time as the logs show it, without the `s`: `1.234567`.
fn format_time(at: Nanos) -> String {
    format!("{}.{:06}", at / 1_000_000_000, at % 1_000_000_000 / 1_000)
}

/// A short duration: `850µs`, `35ms`, `1.2s`.
fn format_duration(nanos: Nanos) -> String {
    if nanos < 1_000_000 {
        format!("{}µs", nanos / 1_000)
    } else if nanos < 1_000_000_000 {
        format!("{}ms", nanos / 1_000_000)
    } else {
        let tenths = nanos / 100_000_000;
        format!("{}.{}s", tenths / 10, tenths % 10)
    }
}

/// Splits `text` into lines of at most `width` characters: at newlines, then between
/// words, and inside words longer than a line. Runs of spaces collapse (a column is too
/// narrow for indentation to help), tabs and other control characters become spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let paragraph: String = paragraph
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut line = String::new();
        let mut length = 0;
        for word in paragraph.split_whitespace() {
            let word_length = word.chars().count();
            if length > 0 && length + 1 + word_length <= width {
                line.push(' ');
                line.push_str(word);
                length += 1 + word_length;
                continue;
            }
            if length > 0 {
                lines.push(std::mem::take(&mut line));
            }
            let mut chars: Vec<char> = word.chars().collect();
            while chars.len() > width {
                lines.push(chars.drain(..width).collect());
            }
            line = chars.into_iter().collect();
            length = line.chars().count();
        }
        lines.push(line);
    }
    lines
}

/// `text` (already at most `width` characters) cut or padded to exactly `width`
/// characters, then painted: the padding stays outside the escape codes, so stripping
/// them leaves the plain output exactly.
fn cell(text: &str, width: usize, sgr: &str, colour: bool) -> String {
    let text: String = text.chars().take(width).collect();
    let padding = width - text.chars().count();
    format!("{}{}", paint(&text, sgr, colour), " ".repeat(padding))
}

/// Draws a recording one column per node (see the module docs for the layout, what goes
/// where, the colours and the filters), as lines of text ending in newlines.
///
/// The output starts with the test's name and seed (if the recording has a name), then a
/// header row of node names and a separator, then one row per event shown, in time order;
/// if the run failed, a last line says why.
pub fn render_columns(rec: &Recording, options: &ColumnOptions) -> String {
    let columns = visible_columns(column_names(rec), options.nodes.as_deref());
    let has_tester = rec.nodes.iter().any(|n| n == TESTER);
    let min_rank = options.min_level.as_deref().and_then(level_rank);

    // Stable, so events at the same time keep the order they were recorded in.
    let mut events: Vec<&Event> = rec.events.iter().collect();
    events.sort_by_key(|e| e.at);
    let rows: Vec<(Nanos, usize, &Kind)> = events
        .into_iter()
        .filter(|e| keeps(options, e, min_rank))
        .filter_map(|e| {
            let name = column_of(rec, e, has_tester);
            let column = columns.iter().position(|c| c == name)?;
            Some((e.at, column, &e.kind))
        })
        .collect();

    let time_width = rows
        .iter()
        .map(|(at, ..)| format_time(*at).len())
        .max()
        .unwrap_or(0)
        .max("  0.000000".len());
    // Each column is preceded by " │ ".
    let count = columns.len().max(1);
    let column_width =
        (options.width.saturating_sub(time_width + 3 * count) / count).max(MIN_COLUMN_WIDTH);
    let colour = options.colour;

    let mut out = String::new();
    if !rec.test.is_empty() {
        let _ = writeln!(out, "{}  seed {}", paint(&rec.test, BOLD, colour), rec.seed);
    }

    let mut header = cell(&format!("{:>time_width$}", "time"), time_width, DIM, colour);
    let mut rule = "─".repeat(time_width);
    for name in &columns {
        header.push_str(" │ ");
        header.push_str(&cell(name, column_width, BOLD, colour));
        rule.push_str("─┼─");
        rule.push_str(&"─".repeat(column_width));
    }
    let _ = writeln!(out, "{}", header.trim_end());
    let _ = writeln!(out, "{}", paint(&rule, DIM, colour));

    for (at, column, kind) in rows {
        let sgr = style(kind);
        for (i, line) in wrap(&describe(kind, at), column_width).iter().enumerate() {
            let time = if i == 0 {
                format_time(at)
            } else {
                String::new()
            };
            let mut row = cell(&format!("{time:>time_width$}"), time_width, DIM, colour);
            for c in 0..columns.len() {
                row.push_str(" │ ");
                let text = if c == column { line.as_str() } else { "" };
                row.push_str(&cell(text, column_width, &sgr, colour));
            }
            let _ = writeln!(out, "{}", row.trim_end());
        }
    }

    if let Some(failure) = &rec.failure {
        let _ = writeln!(
            out,
            "{}",
            paint(&format!("failed: {failure}"), ALERT, colour)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
running 1 test
[    0.000000s] tester  INFO tester: start S0 incarnation=1
test foo ... ok
[    1.234567s] S2     DEBUG raft: became leader term=3
labrpc: failed with seed 5

[   12.000100s] -       WARN labrpc: something
[not a time] S1 INFO raft: x
[    13.0s] S1 LOUD raft: not a level
[  600.000000s] S10    TRACE kvraft: applied index=7
";

    fn log(level: &str, target: &str, text: &str) -> Kind {
        Kind::Log {
            level: level.into(),
            target: target.into(),
            text: text.into(),
        }
    }

    fn ev(at: Nanos, node: u32, kind: Kind) -> Event {
        Event { at, node, kind }
    }

    fn secs(s: u64) -> Nanos {
        s * 1_000_000_000
    }

    /// A recording with the tester and servers S0..S2 and `events`.
    fn recording(events: Vec<Event>) -> Recording {
        Recording {
            nodes: ["tester", "S0", "S1", "S2"].map(String::from).to_vec(),
            events,
            ..Recording::default()
        }
    }

    fn plain(width: usize) -> ColumnOptions {
        ColumnOptions {
            width,
            ..ColumnOptions::default()
        }
    }

    /// The header row (skipping the title line if there is one).
    fn header(text: &str) -> &str {
        text.lines().find(|l| l.contains("time")).unwrap()
    }

    /// The character offset of `needle` in `line`.
    fn char_offset(line: &str, needle: &str) -> usize {
        line[..line.find(needle).unwrap()].chars().count()
    }

    /// The column names in the header, in order.
    fn header_names(text: &str) -> Vec<String> {
        header(text)
            .split('│')
            .skip(1)
            .map(|s| s.trim().to_owned())
            .collect()
    }

    #[test]
    fn parses_the_sample_lines_and_skips_the_rest() {
        let rec = parse_log(SAMPLE);
        assert_eq!(rec.nodes, ["tester", "S2", "-", "S10"]);
        assert_eq!(
            rec.events,
            vec![
                ev(0, 0, log("INFO", "tester", "start S0 incarnation=1")),
                ev(
                    1_234_567_000,
                    1,
                    log("DEBUG", "raft", "became leader term=3")
                ),
                ev(12_000_100_000, 2, log("WARN", "labrpc", "something")),
                ev(secs(600), 3, log("TRACE", "kvraft", "applied index=7")),
            ]
        );
        assert_eq!(rec.end, secs(600));
        assert_eq!(rec.seed, 5);
        assert_eq!(rec.test, "foo");
        assert_eq!(rec.failure.as_deref(), Some("failed with seed 5"));
    }

    #[test]
    fn parses_junk_without_events() {
        let junk = "\n[\n[]\n[ 1.0s]\n[ 1.0s] S1\n[ 1.0s] S1 INFO\n[x.ys] S1 INFO raft: a\n\
                    ]]]\nS1 INFO raft: no time\n\u{1b}[31m\n test result: ok.";
        let rec = parse_log(junk);
        assert!(rec.events.is_empty(), "{:?}", rec.events);
        assert!(rec.nodes.is_empty());
        assert_eq!(rec.failure, None);
        assert_eq!(render_columns(&rec, &plain(80)).lines().count(), 2);
    }

    #[test]
    fn log_lines_with_empty_messages_escapes_and_long_times() {
        let rec = parse_log(
            "[    2.000000s] S1      INFO raft: \n\
             [1234.5s] S1 \u{1b}[1mINFO\u{1b}[0m raft: a=\u{1b}[3m1\u{1b}[0m\r\n",
        );
        assert_eq!(
            rec.events,
            vec![
                ev(secs(2), 0, log("INFO", "raft", "")),
                ev(1_234_500_000_000, 0, log("INFO", "raft", "a=1")),
            ]
        );
    }

    #[test]
    fn continuation_lines_join_the_previous_log_line_until_harness_output() {
        let rec = parse_log(
            "[    1.000000s] S1     DEBUG raft: log is [\n\
             \x20   Entry { term: 1 },\n\
             ]\n\
             thread 'foo' panicked at raft/src/lib.rs:10:5:\n\
             two leaders in term 3\n\
             S1 and S2\n\
             note: run with `RUST_BACKTRACE=1`\n\
             after the note\n\
             [    2.000000s] S1     DEBUG raft: next\n\
             \n\
             after a blank line\n\
             test foo ... [    3.000000s] S2      INFO raft: glued\n\
             ---- foo stdout ----\n",
        );
        let texts: Vec<&str> = rec
            .events
            .iter()
            .map(|e| match &e.kind {
                Kind::Log { text, .. } => text.as_str(),
                other => panic!("not a log: {other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            ["log is [\n    Entry { term: 1 },\n]", "next", "glued"]
        );
        assert_eq!(rec.nodes, ["S1", "S2"]);
        assert_eq!(
            rec.failure.as_deref(),
            Some("two leaders in term 3\nS1 and S2")
        );
        assert_eq!(rec.test, "foo");

        // Continuation lines are drawn on lines of their own in the same column.
        let text = render_columns(&rec, &plain(80));
        let lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| l.contains("log is [")).unwrap();
        let offset = char_offset(lines[at], "log is [");
        assert_eq!(char_offset(lines[at + 1], "Entry"), offset);
        assert_eq!(char_offset(lines[at + 2], "]"), offset);
        assert!(text.ends_with("failed: two leaders in term 3\nS1 and S2\n"));
    }

    #[test]
    fn several_tests_leave_the_name_empty() {
        let rec = parse_log("test a ... ok\ntest b ... ok\ntest result: ok. 2 passed\n");
        assert_eq!(rec.test, "");
    }

    #[test]
    fn an_event_is_in_its_nodes_column() {
        let rec = recording(vec![
            ev(secs(1), 3, log("DEBUG", "raft", "hello")),
            ev(
                secs(2),
                0,
                Kind::Phase {
                    text: "phase".into(),
                },
            ),
        ]);
        let text = render_columns(&rec, &plain(80));
        let head = header(&text);
        assert!(head.trim_start().starts_with("time"));
        assert_eq!(header_names(&text), ["tester", "S0", "S1", "S2"]);
        let line = text.lines().find(|l| l.contains("hello")).unwrap();
        assert!(line.starts_with("  1.000000 │ "));
        // S2 is the third server column: "hello" starts where its name does.
        assert_eq!(char_offset(line, "hello"), char_offset(head, "S2"));
        assert_eq!(line.matches('│').count(), 4);
        let phase = text.lines().find(|l| l.contains("== phase")).unwrap();
        assert_eq!(char_offset(phase, "== phase"), char_offset(head, "tester"));
        // The separator crosses each column boundary.
        let rule = text.lines().nth(1).unwrap();
        assert_eq!(rule.matches('┼').count(), 4);
        // Width 80: a 10-character time column, then 4 × (" │ " and 14 characters).
        assert_eq!(rule.chars().count(), 10 + 4 * (3 + 14));
    }

    #[test]
    fn every_row_fits_the_width() {
        let rec = recording(vec![ev(
            secs(1),
            3,
            log("DEBUG", "raft", &"word ".repeat(40)),
        )]);
        // 62 is the narrowest that fits four columns of the minimum width.
        for width in [62, 80, 100, 119, 120, 121, 123] {
            let text = render_columns(&rec, &plain(width));
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
        }
    }

    #[test]
    fn long_text_wraps_within_its_column() {
        let words: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let long = format!("{} {}", words.join(" "), "x".repeat(40));
        let rec = recording(vec![ev(secs(1), 2, log("DEBUG", "raft", &long))]);
        let text = render_columns(&rec, &plain(80));
        let head = header(&text);
        let start = char_offset(head, "S1");
        let end = char_offset(head, "S2") - " │ ".chars().count();
        let width = end - start;
        let rows: Vec<&str> = text.lines().skip(2).collect();
        assert!(rows.len() > 3, "{text}");
        let mut found = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let chars: Vec<char> = row.chars().collect();
            // Only the first line has the time.
            assert_eq!(chars[..10].iter().all(|c| *c == ' '), i > 0, "{row:?}");
            // Nothing outside S1's column but the bars.
            for (offset, c) in chars.iter().enumerate().skip(10) {
                if !(start..end).contains(&offset) {
                    assert!(*c == ' ' || *c == '│', "{offset} in {row:?}");
                }
            }
            let inside: String = chars[start..chars.len().min(end)].iter().collect();
            assert!(inside.chars().count() <= width);
            found.push(inside.trim().to_owned());
        }
        // Words stay whole, and the long word is cut into column-wide pieces.
        let joined = found.join(" ");
        assert!(joined.starts_with(&words.join(" ")), "{joined}");
        assert_eq!(joined.matches('x').count(), 40);
        assert!(
            found
                .iter()
                .any(|l| l.chars().count() == width && l.starts_with('x'))
        );
    }

    #[test]
    fn wrap_splits_at_words_newlines_and_inside_long_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        assert_eq!(wrap("one\n\ntwo\tthree", 20), ["one", "", "two three"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("→→→→", 2), ["→→", "→→"]);
    }

    #[test]
    fn servers_are_in_natural_order_after_the_other_nodes() {
        let rec = Recording {
            nodes: ["S10", "S2", "-", "S9", "tester", "S1", "S2"]
                .map(String::from)
                .to_vec(),
            ..Recording::default()
        };
        let text = render_columns(&rec, &plain(200));
        assert_eq!(
            header_names(&text),
            ["tester", "-", "S1", "S2", "S9", "S10"]
        );
    }

    #[test]
    fn states_go_to_their_server_and_messages_to_their_sender() {
        let rec = recording(vec![
            ev(
                secs(1),
                0,
                Kind::State {
                    server: "S1".into(),
                    term: 3,
                    leader: true,
                },
            ),
            ev(
                secs(2),
                1,
                Kind::Message {
                    from: "S0".into(),
                    to: "S2".into(),
                    method: "Raft.AppendEntries".into(),
                    sent: secs(1),
                    reply: false,
                },
            ),
            ev(
                secs(3),
                3,
                Kind::Message {
                    from: "S2".into(),
                    to: "S0".into(),
                    method: "Raft.AppendEntries".into(),
                    sent: secs(2),
                    reply: true,
                },
            ),
            ev(
                secs(4),
                0,
                Kind::Op {
                    client: "C1".into(),
                    call: 2_800_000_000,
                    text: "put(k,v) → ok".into(),
                },
            ),
            ev(
                secs(5),
                0,
                Kind::Links {
                    server: "S0".into(),
                    reaches: vec!["S1".into(), "S2".into()],
                },
            ),
        ]);
        let text = render_columns(&rec, &plain(120));
        let head = header(&text);
        let at = |needle: &str| {
            let line = text.lines().find(|l| l.contains(needle)).unwrap();
            char_offset(line, needle)
        };
        assert_eq!(at("term 3 leader"), char_offset(head, "S1"));
        assert_eq!(at("→ S2 Raft.AppendEntries"), char_offset(head, "S0"));
        assert_eq!(at("← S0 Raft.AppendEntries"), char_offset(head, "S2"));
        assert_eq!(at("C1 put(k,v) → ok [1.2s]"), char_offset(head, "tester"));
        assert_eq!(at("S0 reaches S1 S2"), char_offset(head, "tester"));
    }

    fn shards(server: &str, config: u64, serving: &[u8], waiting: &[u8]) -> Kind {
        Kind::Shards {
            server: server.into(),
            config,
            serving: serving.to_vec(),
            waiting: waiting.to_vec(),
        }
    }

    #[test]
    fn shards_go_to_their_server_in_short() {
        assert_eq!(describe(&shards("S0", 0, &[], &[]), 0), "c0 · –");
        assert_eq!(
            describe(&shards("S0", 1, &[0, 1, 2, 3, 4], &[]), 0),
            "c1 · 0 1 2 3 4"
        );
        assert_eq!(
            describe(&shards("S0", 4, &[0, 1, 2], &[3, 4]), 0),
            "c4 · 0 1 2 · ⇣3 4"
        );
        assert_eq!(describe(&shards("S0", 5, &[], &[7]), 0), "c5 · – · ⇣7");

        // Recorded on the node whose code ran (the tester's here), shown in the server's
        // column, a server without a node of its own included.
        let rec = recording(vec![
            ev(secs(1), 0, shards("S2", 4, &[0, 1, 2], &[3, 4])),
            ev(secs(2), 0, shards("S7", 5, &[9], &[])),
        ]);
        let text = render_columns(&rec, &plain(160));
        assert_eq!(header_names(&text), ["tester", "S0", "S1", "S2", "S7"]);
        let head = header(&text);
        let at = |needle: &str| {
            let line = text.lines().find(|l| l.contains(needle)).unwrap();
            char_offset(line, needle)
        };
        assert_eq!(at("c4 · 0 1 2 · ⇣3 4"), char_offset(head, "S2"));
        assert_eq!(at("c5 · 9"), char_offset(head, "S7"));
        // Filtered by their topic.
        let options = ColumnOptions {
            exclude_topics: vec!["shards".into()],
            ..plain(160)
        };
        assert!(!render_columns(&rec, &options).contains("c4 ·"));
    }

    #[test]
    fn node_filter_restricts_servers_and_keeps_the_tester_unless_listing_it() {
        let rec = recording(vec![
            ev(secs(1), 0, Kind::Phase { text: "p".into() }),
            ev(secs(1), 1, log("INFO", "raft", "zero")),
            ev(secs(1), 2, log("INFO", "raft", "one")),
        ]);
        let only = |nodes: &[&str]| {
            let options = ColumnOptions {
                nodes: Some(nodes.iter().map(|s| s.to_string()).collect()),
                ..plain(100)
            };
            render_columns(&rec, &options)
        };
        let text = only(&["s1"]);
        assert_eq!(header_names(&text), ["tester", "S1"]);
        assert!(text.contains("one") && text.contains("== p") && !text.contains("zero"));
        let text = only(&["S0", "tester"]);
        assert_eq!(header_names(&text), ["tester", "S0"]);
        let text = only(&["S1", "-"]);
        assert_eq!(header_names(&text), ["S1"]);
        assert!(!text.contains("== p"));
    }

    #[test]
    fn topic_filters_keep_and_drop_topics() {
        let note = |topic: &str, text: &str| Kind::Annotation {
            topic: topic.into(),
            text: text.into(),
        };
        let rec = recording(vec![
            ev(secs(1), 1, note("vote", "voted for S2")),
            ev(secs(2), 1, note("role", "follower")),
            ev(secs(3), 1, log("DEBUG", "raft", "a log")),
            ev(secs(4), 1, Kind::Crash),
        ]);
        let options = ColumnOptions {
            topics: Some(vec!["vote".into(), "raft".into()]),
            ..plain(100)
        };
        let text = render_columns(&rec, &options);
        assert!(text.contains("voted for S2") && text.contains("a log"));
        assert!(!text.contains("follower") && !text.contains("CRASH"));

        let options = ColumnOptions {
            exclude_topics: vec!["vote".into(), "node".into()],
            ..plain(100)
        };
        let text = render_columns(&rec, &options);
        assert!(text.contains("follower") && text.contains("a log"));
        assert!(!text.contains("voted") && !text.contains("CRASH"));
    }

    #[test]
    fn time_window_includes_both_ends() {
        let rec = recording(
            (1..=5)
                .map(|s| ev(secs(s), 1, log("INFO", "raft", &format!("at{s}"))))
                .collect(),
        );
        let options = ColumnOptions {
            from: Some(secs(2)),
            to: Some(secs(4)),
            ..plain(100)
        };
        let text = render_columns(&rec, &options);
        assert!(!text.contains("at1") && !text.contains("at5"));
        assert!(text.contains("at2") && text.contains("at3") && text.contains("at4"));
    }

    #[test]
    fn min_level_drops_quieter_logs_only() {
        let rec = recording(vec![
            ev(secs(1), 1, log("TRACE", "raft", "t")),
            ev(secs(2), 1, log("DEBUG", "raft", "d")),
            ev(secs(3), 1, log("INFO", "raft", "i")),
            ev(secs(4), 1, log("WARN", "raft", "w")),
            ev(secs(5), 1, log("ERROR", "raft", "e")),
            ev(secs(6), 1, Kind::Start),
        ]);
        let texts = |level: &str| {
            let options = ColumnOptions {
                min_level: Some(level.into()),
                ..plain(100)
            };
            render_columns(&rec, &options)
                .lines()
                .skip(2)
                .map(|l| l.split('│').nth(2).unwrap().trim().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts("warn"), ["WARN w", "ERROR e", "start"]);
        assert_eq!(texts("INFO"), ["i", "WARN w", "ERROR e", "start"]);
        assert_eq!(texts("TRACE").len(), 6);
        assert_eq!(texts("LOUD").len(), 6);
    }

    /// A recording with a bit of everything, for the colour tests.
    fn varied() -> Recording {
        recording(vec![
            ev(
                secs(1),
                0,
                Kind::Phase {
                    text: "Test: election".into(),
                },
            ),
            ev(secs(1), 1, Kind::Start),
            ev(
                secs(2),
                2,
                Kind::Annotation {
                    topic: "role".into(),
                    text: "became candidate for term 2 after a long wait".into(),
                },
            ),
            ev(
                secs(2),
                2,
                Kind::Annotation {
                    topic: "mystery".into(),
                    text: "something else".into(),
                },
            ),
            ev(secs(3), 3, log("WARN", "labrpc", "slow")),
            ev(secs(4), 1, Kind::Crash),
            ev(
                secs(5),
                0,
                Kind::Check {
                    text: "one leader".into(),
                    passed: false,
                },
            ),
        ])
    }

    #[test]
    fn without_colour_there_are_no_escape_codes() {
        let mut rec = varied();
        rec.test = "election".into();
        rec.failure = Some("no leader".into());
        let text = render_columns(&rec, &plain(120));
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.starts_with("election  seed 0\n"));
        assert!(text.contains("FAILED: one leader") && text.contains("CRASH"));
        assert!(text.ends_with("failed: no leader\n"));
    }

    #[test]
    fn colour_adds_only_escape_codes() {
        let mut rec = varied();
        rec.test = "election".into();
        rec.failure = Some("no leader".into());
        for width in [50, 90, 140] {
            let options = ColumnOptions {
                colour: true,
                ..plain(width)
            };
            let coloured = render_columns(&rec, &options);
            assert!(coloured.contains("\x1b["));
            // Same characters in the same places once the escapes are gone.
            assert_eq!(strip_ansi(&coloured), render_columns(&rec, &plain(width)));
        }
    }

    #[test]
    fn crashes_and_failed_checks_are_bold_red_and_topics_keep_their_colours() {
        let options = ColumnOptions {
            colour: true,
            ..plain(120)
        };
        let text = render_columns(&varied(), &options);
        assert!(text.contains("\x1b[1;31mCRASH\x1b[0m"));
        assert!(text.contains("\x1b[1;31mFAILED: one leader\x1b[0m"));
        assert!(text.contains("\x1b[1;33mWARN slow\x1b[0m"));
        assert!(text.contains("\x1b[38;5;208mbecame candidate"));
        assert_eq!(topic_colour("role"), "38;5;208");
        assert_eq!(topic_colour("pre-vote"), "38;5;45");
        assert_eq!(topic_colour("transfer"), "38;5;213");
        assert_eq!(topic_colour("config"), "38;5;148");
        // Unknown topics get a palette colour, the same every time.
        let mystery = topic_colour("mystery");
        assert_eq!(mystery, topic_colour("mystery"));
        assert!(PALETTE.iter().any(|c| mystery == format!("38;5;{c}")));
        assert!(text.contains(&format!("\x1b[{mystery}msomething else")));
    }

    #[test]
    fn known_topics_have_colours_of_their_own() {
        // A known topic must not share its colour with another one, nor with a hashed
        // topic's, or the two could not be told apart.
        let mut seen = std::collections::BTreeSet::new();
        for (topic, colour) in KNOWN_COLOURS {
            assert!(seen.insert(colour), "{topic} repeats colour {colour}");
            assert!(
                !PALETTE.contains(colour),
                "{topic}'s colour {colour} is in the palette"
            );
        }
    }

    #[test]
    fn topics_follow_the_table() {
        let cases = [
            (
                Kind::Annotation {
                    topic: "vote".into(),
                    text: String::new(),
                },
                "vote",
            ),
            (log("INFO", "tester", ""), "tester"),
            (Kind::Start, "node"),
            (Kind::Crash, "node"),
            (
                Kind::Net {
                    setting: "reliable".into(),
                    on: false,
                },
                "net",
            ),
            (
                Kind::Links {
                    server: "S0".into(),
                    reaches: vec![],
                },
                "net",
            ),
            (
                Kind::Phase {
                    text: String::new(),
                },
                "tester",
            ),
            (
                Kind::Check {
                    text: String::new(),
                    passed: true,
                },
                "tester",
            ),
            (
                Kind::State {
                    server: "S0".into(),
                    term: 1,
                    leader: false,
                },
                "state",
            ),
            (shards("S0", 1, &[], &[]), "shards"),
            (
                Kind::Message {
                    from: "S0".into(),
                    to: "S1".into(),
                    method: String::new(),
                    sent: 0,
                    reply: false,
                },
                "rpc",
            ),
            (
                Kind::Op {
                    client: "C0".into(),
                    call: 0,
                    text: String::new(),
                },
                "client",
            ),
            (
                Kind::Link {
                    text: String::new(),
                    path: String::new(),
                },
                "link",
            ),
        ];
        for (kind, expected) in cases {
            assert_eq!(topic(&kind), expected, "{kind:?}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration(" 1500ms "), Ok(1_500_000_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
        assert_eq!(parse_duration("0.1s"), Ok(100_000_000));
        assert_eq!(parse_duration(".25"), Ok(250_000_000));
        assert_eq!(parse_duration("250us"), Ok(250_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("1.0000000001s"), Ok(1_000_000_000));
        for bad in [
            "",
            "s",
            ".",
            "-1",
            "1.2.3",
            "1x",
            "1 parsec",
            "ms5",
            "99999999999999999999",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_times_and_durations() {
        assert_eq!(format_time(1_234_567_890), "1.234567");
        assert_eq!(format!("{:>10}", format_time(0)), "  0.000000");
        assert_eq!(format_duration(850_000), "850µs");
        assert_eq!(format_duration(35_000_000), "35ms");
        assert_eq!(format_duration(1_250_000_000), "1.2s");
    }

    #[test]
    fn time_column_widens_for_long_runs() {
        let rec = recording(vec![ev(secs(12_345), 1, log("INFO", "raft", "late"))]);
        let text = render_columns(&rec, &plain(80));
        let head = header(&text);
        let line = text.lines().find(|l| l.contains("late")).unwrap();
        assert!(line.starts_with("12345.000000 │ "));
        assert_eq!(char_offset(line, "late"), char_offset(head, "S0"));
    }
}
