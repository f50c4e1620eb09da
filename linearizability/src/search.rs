//! The search for a linearization of one partition (Wing & Gong's algorithm with Lowe's
//! cache of explored configurations).
//!
//! The search walks the time-ordered event list. At a call, it tries to linearize that
//! operation next: if the model accepts it and the resulting configuration (the set of
//! linearized operations and the state) is new, it removes the operation's events from
//! the list and starts again from the front. At a return, the operation there was not
//! linearized in time, so the last choice was wrong: it undoes it and tries the call
//! after it. The list becoming empty means success; a return with nothing to undo means
//! no linearization exists.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::events::{Event, EventList};
use crate::model::{Model, Operation};
use crate::table::{Bitset, StateTable, Visited};
use crate::trace::{Trace, Tracker};

/// How many steps pass between looks at the clock and at the shared stop flag.
const POLL_INTERVAL: u64 = 1024;

/// When a search must give up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits<'a> {
    /// Give up after this many steps.
    pub(crate) steps: Option<u64>,
    /// Give up once the wall clock passes this instant.
    pub(crate) deadline: Option<Instant>,
    /// Give up once this is set (another partition settled the verdict).
    pub(crate) stop: Option<&'a AtomicBool>,
}

impl Limits<'_> {
    fn exhausted(&self, steps: u64) -> bool {
        if self.steps.is_some_and(|limit| steps > limit) {
            return true;
        }
        if steps.is_multiple_of(POLL_INTERVAL) {
            if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                return true;
            }
            if self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                return true;
            }
        }
        false
    }
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A linearization exists.
    Linearizable,
    /// No linearization exists.
    Illegal,
    /// The search gave up (budget, deadline, or stopped), or never ran.
    Abandoned,
}

/// An operation linearized by the search, and how to undo it.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Where its call event sits in the list.
    call: u32,
    /// The state before it.
    state_before: u32,
}

/// Searches for a linearization of `ops`. With `track`, also returns the partial
/// linearizations worth explaining, keeping at most `keep` of them.
pub(crate) fn search<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    limits: &Limits<'_>,
    track: bool,
    keep: usize,
) -> (Outcome, Option<Trace>) {
    let n = ops.len();
    let intervals: Vec<(u64, u64)> = ops.iter().map(|op| (op.call, op.ret)).collect();
    let mut list = EventList::new(&intervals);
    let mut states = StateTable::new(model.init());
    let mut visited = Visited::new(n.div_ceil(64));
    let mut linearized = Bitset::new(n);
    let mut state = 0u32;
    let mut frames: Vec<Frame> = Vec::new();
    // The linearized operations in order (parallel to `frames`).
    let mut order: Vec<u32> = Vec::new();
    let mut tracker = track.then(|| Tracker::new(n));
    // Whether the last move pushed an operation (so a backtrack now leaves a peak). True
    // at the start, so that a history failing at once still reports its blocked operation.
    let mut climbing = true;
    let mut steps = 0u64;
    let mut cursor = list.first();

    let outcome = loop {
        let Some(at) = cursor else {
            // Every event was lifted: every operation is linearized.
            if let Some(tracker) = &mut tracker {
                tracker.peak(&order, None);
            }
            break Outcome::Linearizable;
        };
        steps += 1;
        if limits.exhausted(steps) {
            if let Some(tracker) = &mut tracker {
                tracker.peak(&order, None);
            }
            break Outcome::Abandoned;
        }
        match list.event(at) {
            Event::Call { op, .. } => {
                let operation = ops[op as usize];
                let current = states.get(state);
                if let Some(next) = model.step(current, &operation.input, &operation.output) {
                    // Reads leave the state alone: skip hashing it again.
                    let next = if next == *current {
                        state
                    } else {
                        states.intern(next)
                    };
                    linearized.insert(op);
                    if visited.insert(&linearized, linearized.hash(), next) {
                        frames.push(Frame {
                            call: at,
                            state_before: state,
                        });
                        order.push(op);
                        if let Some(tracker) = &mut tracker {
                            tracker.pushed();
                        }
                        climbing = true;
                        state = next;
                        list.lift(at);
                        cursor = list.first();
                        continue;
                    }
                    linearized.remove(op);
                }
                cursor = list.after(at);
            }
            Event::Return { op } => {
                // `op` was not linearized before its response: undo the last choice.
                if climbing {
                    if let Some(tracker) = &mut tracker {
                        tracker.peak(&order, Some(op));
                    }
                    climbing = false;
                }
                let Some(frame) = frames.pop() else {
                    break Outcome::Illegal;
                };
                let undone = order.pop().expect("order parallels frames");
                if let Some(tracker) = &mut tracker {
                    tracker.popped();
                }
                list.unlift(frame.call);
                linearized.remove(undone);
                state = frame.state_before;
                cursor = list.after(frame.call);
            }
        }
    };
    (outcome, tracker.map(|tracker| tracker.finish(keep)))
}
