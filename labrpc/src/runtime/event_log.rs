//! A run's events as they are recorded: compact, because every run records them.
//!
//! Lab code's notes are the bulk of a run's events (the reference KV service notes every
//! apply on every server). Each note's text is written into one shared text buffer and its
//! topic is a number into a small table, so that a note costs no allocation of its own;
//! events are kept in fixed-size chunks, so that the store never copies or frees a big
//! block while the run goes on. The rare other events keep their public form, boxed. The
//! public [`Recording`] is built only when someone asks for it (a failed run's page, a
//! passing run drawn with `LAB_VIS=always`, `LAB_EVENTS`, or [`Sim::record_into`]).
//!
//! [`Sim::record_into`]: super::Sim::record_into

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use timeline::{Event, Kind, Nanos, Recording};

/// The most events one run records: lab code that notes something in a loop must not eat
/// the machine's memory. Later events are counted, not kept.
pub const MAX_EVENTS: usize = 1_000_000;

/// The most bytes of note text one run keeps (later notes are counted, not kept), and the
/// most one note keeps (the rest of a longer text is cut, with an ellipsis).
const MAX_TEXT_BYTES: usize = 256 << 20;
const MAX_NOTE_BYTES: usize = 4096;

/// Events per chunk, and bytes per chunk of note text: 40 KiB and 32 KiB, below glibc's
/// threshold for blocks of their own (128 KiB). A bigger block, once freed, would raise
/// that threshold and slow down the simulation's own allocations for the rest of the
/// process (measured: +10 % on the 2C suite).
const CHUNK: usize = 1024;
const TEXT_CHUNK: usize = 32 << 10;

/// A run's events as they are recorded, shared between the world that records them, the
/// runner that draws the run after it ends (however it ends) and the watchdog that draws it
/// before ending a hung process. (Tester side.)
#[derive(Default)]
pub struct EventLog {
    store: Mutex<Store>,
    /// Virtual time reached so far: outside the store's lock, since the clock moves far
    /// more often than anything is recorded.
    end: AtomicU64,
}

/// What a run recorded so far.
#[derive(Default)]
struct Store {
    test: String,
    seed: u64,
    replay: String,
    nodes: Vec<String>,
    failure: Option<String>,
    dropped: u64,
    /// The events, in chunks of [`CHUNK`].
    chunks: Vec<Vec<Raw>>,
    len: usize,
    /// Note topics, by number.
    topics: Vec<String>,
    /// Every note's text, one after the other, in chunks of [`TEXT_CHUNK`] bytes (or one
    /// note, if longer).
    texts: Vec<String>,
    /// Bytes of note text kept.
    text_bytes: usize,
}

/// One recorded event.
struct Raw {
    at: Nanos,
    node: u32,
    kind: RawKind,
}

enum RawKind {
    Note {
        topic: u16,
        chunk: u32,
        start: u32,
        len: u32,
    },
    Other(Box<Kind>),
}

thread_local! {
    /// Where a note's text is formatted before it is stored: outside the store's lock (the
    /// text's `Display` may itself call into the runtime, even note something), and with
    /// no allocation of its own once it has grown.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.store.try_lock() {
            Some(store) => write!(f, "EventLog({} events)", store.len),
            None => f.write_str("EventLog(in use)"),
        }
    }
}

impl EventLog {
    /// Starts afresh for a run of `test` with `seed`.
    pub(crate) fn start(&self, test: &str, seed: u64, replay: &str) {
        *self.store.lock() = Store {
            test: test.to_owned(),
            seed,
            replay: replay.to_owned(),
            ..Store::default()
        };
        self.end.store(0, Ordering::Relaxed);
    }

    /// A node named `name` joins the run (its index is the number of nodes before it).
    pub(crate) fn add_node(&self, name: &str) {
        self.store.lock().nodes.push(name.to_owned());
    }

    /// Virtual time has reached `at`.
    pub(crate) fn set_end(&self, at: Nanos) {
        self.end.store(at, Ordering::Relaxed);
    }

    /// The run failed, saying `why`.
    pub(crate) fn set_failure(&self, why: &str) {
        self.store.lock().failure = Some(why.to_owned());
    }

    /// Records `kind` at `at` on node `node`.
    pub(crate) fn push(&self, at: Nanos, node: u32, kind: Kind) {
        let mut store = self.store.lock();
        store.push(Raw {
            at,
            node,
            kind: RawKind::Other(Box::new(kind)),
        });
    }

    /// Records a note: `text` under `topic`, at `at` on node `node`.
    pub(crate) fn note(&self, at: Nanos, node: u32, topic: &str, text: impl std::fmt::Display) {
        // Taken out while the text is formatted: a `Display` that notes something itself
        // finds it empty, and allocates its own.
        let mut scratch = SCRATCH.take();
        scratch.clear();
        let _ = write!(scratch, "{text}");
        {
            if scratch.len() > MAX_NOTE_BYTES {
                let mut cut = MAX_NOTE_BYTES;
                while !scratch.is_char_boundary(cut) {
                    cut -= 1;
                }
                scratch.truncate(cut);
                scratch.push('…');
            }
            let mut store = self.store.lock();
            if store.len >= MAX_EVENTS || store.text_bytes + scratch.len() > MAX_TEXT_BYTES {
                store.dropped += 1;
                drop(store);
                SCRATCH.set(scratch);
                return;
            }
            let topic = store.topic_number(topic);
            let (chunk, start) = store.keep_text(&scratch);
            let len = u32::try_from(scratch.len()).expect("a note is at most a few KiB");
            store.push(Raw {
                at,
                node,
                kind: RawKind::Note {
                    topic,
                    chunk,
                    start,
                    len,
                },
            });
        }
        SCRATCH.set(scratch);
    }

    /// What the run recorded, in its public form.
    pub fn recording(&self) -> Recording {
        self.store
            .lock()
            .recording(self.end.load(Ordering::Relaxed))
    }

    /// [`EventLog::recording`], unless the store stays locked for `wait` (its world is
    /// stuck inside it).
    pub(crate) fn try_recording(&self, wait: Duration) -> Option<Recording> {
        let end = self.end.load(Ordering::Relaxed);
        Some(self.store.try_lock_for(wait)?.recording(end))
    }

    /// The run's test and seed.
    pub(crate) fn test_and_seed(&self, wait: Duration) -> Option<(String, u64)> {
        let store = self.store.try_lock_for(wait)?;
        Some((store.test.clone(), store.seed))
    }
}

impl Store {
    fn push(&mut self, raw: Raw) {
        if self.len >= MAX_EVENTS {
            self.dropped += 1;
            return;
        }
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("a chunk").push(raw);
        self.len += 1;
    }

    /// Keeps `text`; returns the chunk it went into and where it starts there.
    fn keep_text(&mut self, text: &str) -> (u32, u32) {
        let fits = self
            .texts
            .last()
            .is_some_and(|chunk| chunk.len() + text.len() <= chunk.capacity());
        if !fits {
            self.texts
                .push(String::with_capacity(TEXT_CHUNK.max(text.len())));
        }
        let chunk = self.texts.last_mut().expect("a chunk");
        let start = chunk.len();
        chunk.push_str(text);
        self.text_bytes += text.len();
        let index = u32::try_from(self.texts.len() - 1).expect("fewer chunks than 4 billion");
        (index, u32::try_from(start).expect("a chunk is small"))
    }

    /// The number of `topic`, given it one if it is new (a run has a handful).
    fn topic_number(&mut self, topic: &str) -> u16 {
        if let Some(i) = self.topics.iter().position(|t| t == topic) {
            return i as u16;
        }
        // Past 65 535 topics (lab code inventing one per note), they share the last.
        if self.topics.len() > usize::from(u16::MAX) {
            return u16::MAX;
        }
        self.topics.push(topic.to_owned());
        (self.topics.len() - 1) as u16
    }

    fn recording(&self, end: Nanos) -> Recording {
        let events = self
            .chunks
            .iter()
            .flatten()
            .map(|raw| Event {
                at: raw.at,
                node: raw.node,
                kind: match &raw.kind {
                    RawKind::Note {
                        topic,
                        chunk,
                        start,
                        len,
                    } => {
                        let (start, len) = (*start as usize, *len as usize);
                        Kind::Annotation {
                            topic: self.topics[usize::from(*topic)].clone(),
                            text: self.texts[*chunk as usize][start..start + len].to_owned(),
                        }
                    }
                    RawKind::Other(kind) => (**kind).clone(),
                },
            })
            .collect();
        Recording {
            test: self.test.clone(),
            seed: self.seed,
            replay: self.replay.clone(),
            nodes: self.nodes.clone(),
            events,
            end,
            failure: self.failure.clone(),
            dropped: self.dropped,
        }
    }
}
