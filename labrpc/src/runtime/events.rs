//! The run's recording: structured events with virtual timestamps, for pictures and log
//! columns drawn after the fact (the `timeline` crate).
//!
//! Every run records, whatever the settings: node starts and crashes (the world), network
//! settings (the [`Network`](crate::tester::Network)), what the tester records
//! ([`record`]) and lab code's annotations ([`annotate`]). Messages are recorded only when
//! `LAB_MESSAGES` asks (`LAB_MESSAGES=1` for all, or a comma-separated list of method name
//! parts such as `AppendEntries,RequestVote`), and log lines only when `LAB_LOG` is set
//! and `LAB_LOG_CAPTURE=1` (the log reader's replays). Recording draws no random number and enters no trace
//! event: a run is the same run with or without it.
//!
//! When a seed of [`Sim::run_test`](crate::tester::Sim::run_test) fails, its timeline page
//! is written to `target/timeline/<test>-seed<seed>.html` and the failure message names
//! it. `LAB_VIS=always` writes it for passing seeds too; `LAB_VIS=never` never writes it;
//! `LAB_EVENTS=file.json` saves the recording itself.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use timeline::{Kind, Recording};

use super::context::try_with_world;
use super::event_log::EventLog;
use super::node::Node;
use super::world::World;

/// A run's events, shared between the world that records them, the runner that draws the
/// run after it ends (passed or failed) and the watchdog that draws it before ending a hung
/// process. (Tester side: see [`Sim::record_into`](super::Sim::record_into).)
pub type SharedRecording = Arc<EventLog>;

/// What the world records besides the always-recorded events. (Log lines are recorded by
/// the log subscriber itself: see [`crate::log`].)
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordingSettings {
    /// `None`: no messages; `Some(empty)`: all; otherwise methods containing one of these.
    pub(crate) messages: Option<Vec<String>>,
    /// Log lines are captured as events (`LAB_LOG_CAPTURE=1`): recorded events are then
    /// not logged as well.
    pub(crate) capturing_logs: bool,
}

impl RecordingSettings {
    /// The settings the environment asks for (`LAB_MESSAGES`).
    pub(crate) fn from_env() -> RecordingSettings {
        let messages = std::env::var("LAB_MESSAGES")
            .ok()
            .filter(|v| !v.trim().is_empty() && v.trim() != "0")
            .map(|v| {
                if v.trim() == "1" || v.trim() == "all" {
                    Vec::new()
                } else {
                    v.split(',').map(|m| m.trim().to_owned()).collect()
                }
            });
        let capturing_logs = std::env::var("LAB_LOG_CAPTURE").is_ok_and(|v| v == "1");
        RecordingSettings {
            messages,
            capturing_logs,
        }
    }

    /// Whether messages of `method` are recorded.
    pub(crate) fn records_messages(&self, method: &str) -> bool {
        self.messages
            .as_ref()
            .is_some_and(|wanted| wanted.is_empty() || wanted.iter().any(|w| method.contains(w)))
    }
}

/// Virtual nanoseconds since the start of the run.
pub(crate) fn nanos(at: Duration) -> u64 {
    u64::try_from(at.as_nanos()).unwrap_or(u64::MAX)
}

impl World {
    /// Records `kind` as happening now on `node`.
    pub(crate) fn note(&self, node: Node, kind: Kind) {
        let at = nanos(self.clock.get().since_start());
        self.recording.push(at, node.index, kind);
    }

    /// Records a message from `from` to `to` (node names), sent at `sent`, arriving now.
    pub(crate) fn note_message(
        &self,
        node: Node,
        from: String,
        to: String,
        method: &str,
        sent: super::time::Instant,
        reply: bool,
    ) {
        self.note(
            node,
            Kind::Message {
                from,
                to,
                method: method.to_owned(),
                sent: nanos(sent.since_start()),
                reply,
            },
        );
    }

    /// Records `kind` as happening now on the node whose code runs.
    pub(crate) fn note_here(&self, kind: Kind) {
        self.note(self.current_node.get(), kind);
    }
}

/// Records a note from lab code, drawn on the timeline as a mark on the node's lane and
/// shown by the log reader in its column: `labrpc::annotate("vote", format_args!("voted
/// for S2 in term {term}"))`. The topic is a short word to colour and filter by. (Lab
/// code and tester; outside a simulation it does nothing.)
///
/// A note costs a little memory for the rest of the run: annotate state changes (role,
/// term, vote, commit), not every heartbeat.
///
/// With `LAB_LOG` set, the note is also logged (`DEBUG note: [topic] text`).
pub fn annotate(topic: &str, text: impl Display) {
    let _ = try_with_world(|w| {
        if !w.recording_settings.capturing_logs {
            tracing::debug!(target: "note", "[{topic}] {text}");
        }
        let at = nanos(w.clock.get().since_start());
        w.recording
            .note(at, w.current_node.get().index, topic, text);
    });
}

/// Records an event of the tester (a phase, a check, links, a server's state, a client's
/// operation, a link to a file) as happening now. (Tester side.)
///
/// With `LAB_LOG` set, the event is also logged under the target `tester`: phases, failed
/// checks, network settings and links to files at `INFO`, the rest at `DEBUG`.
pub fn record(kind: Kind) {
    let _ = try_with_world(|w| {
        if !w.recording_settings.capturing_logs {
            let at = nanos(w.clock.get().since_start());
            let describe = || timeline::columns::describe(&kind, at);
            match &kind {
                Kind::Phase { .. }
                | Kind::Check { passed: false, .. }
                | Kind::Net { .. }
                | Kind::Link { .. } => tracing::info!(target: "tester", "{}", describe()),
                _ => tracing::debug!(target: "tester", "{}", describe()),
            }
        }
        w.note_here(kind);
    });
}

/// Whether `LAB_VIS` asks for the timeline of passing runs too (`always`), of none
/// (`never`), of the first failing seed of the process only (`first-failure`, what the
/// grader asks of its children), or of every failing run (unset, or anything else).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Vis {
    Always,
    OnFailure,
    FirstFailure,
    Never,
}

impl Vis {
    pub(crate) fn from_env() -> Vis {
        match std::env::var("LAB_VIS").as_deref() {
            Ok("always" | "1") => Vis::Always,
            Ok("never" | "0") => Vis::Never,
            Ok("first-failure") => Vis::FirstFailure,
            _ => Vis::OnFailure,
        }
    }
}

/// Where the timeline of `test`'s `seed` goes: `LAB_VIS_DIR`, or `timeline/` in the
/// target directory (`CARGO_TARGET_DIR`, or the workspace's `target/`). (Tester side.)
pub fn timeline_path(test: &str, seed: u64) -> PathBuf {
    let dir = std::env::var_os("LAB_VIS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("timeline"));
    let dir = tidy(&std::path::absolute(&dir).unwrap_or(dir));
    let test: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{test}-seed{seed}.html"))
}

/// `path` without its `.` and `dir/..` components (paths are shown to people).
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut tidy = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(tidy.components().next_back(), Some(Component::Normal(_))) =>
            {
                tidy.pop();
            }
            other => tidy.push(other),
        }
    }
    tidy
}

/// The target directory of the workspace this crate was built in, unless
/// `CARGO_TARGET_DIR` says otherwise.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
}

/// Draws `recording` of `test`'s `seed` to its page ([`timeline_path`], or the grader's
/// page file in a graded process); says where, or why it could not.
pub(crate) fn write_timeline(recording: &Recording, test: &str, seed: u64) -> String {
    if let Some(grader) = super::grading::current() {
        return match grader.write_page(test, seed, &timeline::html::render(recording)) {
            Ok(()) => "timeline: (kept by the grader)".to_owned(),
            Err(e) => format!("timeline: could not write the grader's page: {e}"),
        };
    }
    let path = timeline_path(test, seed);
    match timeline::html::write(recording, &path) {
        Ok(()) => format!("timeline: {}", path.display()),
        Err(e) => format!("timeline: could not write {}: {e}", path.display()),
    }
}

/// Saves `recording` as JSON if `LAB_EVENTS` names a file.
pub(crate) fn save_events(recording: &Recording) {
    let Some(path) = std::env::var_os("LAB_EVENTS") else {
        return;
    };
    let written = serde_json::to_vec(recording)
        .map_err(std::io::Error::other)
        .and_then(|json| std::fs::write(&path, json));
    if let Err(e) = written {
        eprintln!(
            "labrpc: could not save the events to {}: {e}",
            Path::new(&path).display()
        );
    }
}

/// The recordings of the runs going on now, with where each one's timeline goes, for the
/// last words of a process that is ending in the middle of a run (an `exit` in lab code,
/// or the watchdog giving up on a hung poll).
static UNFINISHED: Mutex<Vec<(SharedRecording, String, u64)>> = Mutex::new(Vec::new());

/// Registers a run's recording until the guard is dropped.
pub(crate) fn unfinished(recording: SharedRecording, test: &str, seed: u64) -> UnfinishedGuard {
    let guard = UnfinishedGuard(recording.clone());
    UNFINISHED.lock().push((recording, test.to_owned(), seed));
    guard
}

/// Unregisters a recording when its run ends.
pub(crate) struct UnfinishedGuard(SharedRecording);

impl Drop for UnfinishedGuard {
    fn drop(&mut self) {
        UNFINISHED
            .lock()
            .retain(|(recording, _, _)| !Arc::ptr_eq(recording, &self.0));
    }
}

/// Draws the timeline of every unfinished run (or only of `only`'s test and seed), with
/// `why` as its failure; returns the lines that say where. Gives up on a recording that
/// is locked (its world is stuck inside it), rather than wait.
pub(crate) fn write_unfinished(only: Option<(&str, u64)>, why: &str) -> String {
    let Some(running) = UNFINISHED.try_lock_for(Duration::from_millis(200)) else {
        return String::new();
    };
    let mut said = String::new();
    for (log, test_of_log, seed_of_log) in running.iter() {
        let wait = Duration::from_millis(200);
        if let Some((test, seed)) = only
            && log.test_and_seed(wait) != Some((test.to_owned(), seed))
        {
            continue;
        }
        let Some(mut recording) = log.try_recording(wait) else {
            continue;
        };
        recording.failure = Some(why.to_owned());
        if Vis::from_env() != Vis::Never {
            said.push_str(&write_timeline(&recording, test_of_log, *seed_of_log));
            said.push('\n');
        }
    }
    said
}
