//! A run's fingerprint (its "trace hash"): a hash of everything the run did, for
//! determinism checks.
//!
//! Every event the executor carries out (spawning, polling, firing a timer, killing a node,
//! sending a message and its bytes) is folded into a running hash. Two runs of the same
//! seed must end with the same hash; when a determinism check also records the events of
//! the first run, the second run can say where the two first went apart.

use std::panic::Location;
use std::sync::Arc;

use parking_lot::Mutex;

use super::time::Instant;

/// The kinds of event that enter the trace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EventKind {
    Spawn,
    Poll,
    TimerFire,
    Kill,
    Message,
}

/// One recorded event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Event {
    pub(crate) kind: EventKind,
    pub(crate) node: u32,
    /// Task id, timer sequence number, or a digest of a message.
    pub(crate) detail: u64,
    pub(crate) at: Instant,
    pub(crate) location: Option<&'static Location<'static>>,
}

/// Where two runs of one seed first did different things. (Tester side.)
#[derive(Clone, Debug)]
pub struct Divergence {
    /// How many events both runs agreed on before this one.
    pub event_index: u64,
    /// What the first run did at that point.
    pub first: String,
    /// What the second run did instead.
    pub second: String,
}

/// Either records a run's events, or compares a run against a recording.
pub(crate) enum Recorder {
    Record(Vec<Event>),
    Compare {
        expected: Arc<Vec<Event>>,
        divergence: Option<Divergence>,
    },
}

/// A recorder shared between the runner (which reads it after a run, even a failed one)
/// and the world (which feeds it).
pub(crate) type SharedRecorder = Arc<Mutex<Recorder>>;

/// The running fingerprint of a world.
#[derive(Default)]
pub(crate) struct Trace {
    pub(crate) hash: u64,
    pub(crate) events: u64,
    pub(crate) recorder: Option<SharedRecorder>,
}

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// Folds one word into a hash (FxHash-style: cheap, and good enough to tell runs apart).
pub(crate) fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER)
}

/// A digest of a byte string.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = mix(0, bytes.len() as u64);
    for chunk in &mut chunks {
        hash = mix(hash, u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
    }
    for &byte in chunks.remainder() {
        hash = mix(hash, u64::from(byte));
    }
    hash
}

impl Trace {
    /// Folds an event into the hash; returns a description of a divergence if this event
    /// is the first to differ from the recording being compared against.
    ///
    /// Inlined up to the recorder, which only a determinism check has: every poll, spawn,
    /// timer and message comes through here.
    #[inline]
    pub(crate) fn record(&mut self, event: Event) -> Option<(Event, Option<Event>)> {
        self.hash = mix(self.hash, event.kind as u64);
        self.hash = mix(self.hash, u64::from(event.node));
        self.hash = mix(self.hash, event.detail);
        self.hash = mix(self.hash, event.at.since_start().as_nanos() as u64);
        let index = self.events;
        self.events += 1;
        self.recorder.as_ref()?;
        self.record_or_compare(index, event)
    }

    /// Records `event` (the `index`th), or compares it with the recording.
    #[inline(never)]
    fn record_or_compare(&mut self, index: u64, event: Event) -> Option<(Event, Option<Event>)> {
        let recorder = self.recorder.as_ref()?;
        let mut recorder = recorder.lock();
        match &mut *recorder {
            Recorder::Record(events) => {
                events.push(event);
                None
            }
            Recorder::Compare {
                expected,
                divergence: None,
            } => {
                let wanted = expected.get(index as usize).copied();
                if wanted == Some(event) {
                    None
                } else {
                    Some((event, wanted))
                }
            }
            Recorder::Compare { .. } => None,
        }
    }
}
