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
    /// A read placed as soon as it fitted: no other choice at its place needs trying.
    forced: bool,
}

/// What a scan for a read that fits the current configuration found.
enum ReadScan {
    /// A read fits and leads to a new configuration, placed and pushed.
    Placed,
    /// A read fits but leads to an explored configuration: this one is a dead end too.
    DeadEnd,
    /// No read fits.
    None,
}

/// The state of one search (see the module documentation).
struct Search<'h, M: Model> {
    model: &'h M,
    ops: &'h [&'h Operation<M::Input, M::Output>],
    read_only: Vec<bool>,
    list: EventList,
    states: StateTable<M::State>,
    visited: Visited,
    linearized: Bitset,
    state: u32,
    frames: Vec<Frame>,
    /// The linearized operations in order (parallel to `frames`).
    order: Vec<u32>,
    tracker: Option<Tracker>,
    /// Whether the last move pushed an operation (so a backtrack now leaves a peak). True
    /// at the start, so that a history failing at once still reports its blocked operation.
    climbing: bool,
    steps: u64,
}

impl<M: Model> Search<'_, M> {
    /// Tries to linearize the operation whose call is at `at` next: true if it fits and
    /// leads to a new configuration, in which case it is pushed. `Err` if it fits but
    /// the configuration was explored before.
    fn try_place(&mut self, at: u32, op: u32, forced: bool) -> Result<bool, ()> {
        let operation = self.ops[op as usize];
        let current = self.states.get(self.state);
        let Some(next) = self
            .model
            .step(current, &operation.input, &operation.output)
        else {
            return Ok(false);
        };
        // A write is pointless if the read that must be placed soonest (the one whose
        // response comes first) can no longer fit after it, whatever else comes first.
        if !self.read_only[op as usize] && self.first_read_is_lost(op, &next) {
            return Ok(false);
        }
        // Reads leave the state alone: skip hashing it again.
        let next = if next == *current {
            self.state
        } else {
            self.states.intern(next)
        };
        self.linearized.insert(op);
        if !self
            .visited
            .insert(&self.linearized, self.linearized.hash(), next)
        {
            self.linearized.remove(op);
            return Err(());
        }
        self.frames.push(Frame {
            call: at,
            state_before: self.state,
            forced,
        });
        self.order.push(op);
        if let Some(tracker) = &mut self.tracker {
            tracker.pushed();
        }
        self.climbing = true;
        self.state = next;
        self.list.lift(at);
        Ok(true)
    }

    /// Whether, with `writing` placed and the state then `next`, the operation whose
    /// response comes first is a read that can no longer fit ([`Model::read_may_still_fit`]).
    /// The calls before that response are exactly the operations not yet linearized that
    /// may still take effect before the read.
    fn first_read_is_lost(&self, writing: u32, next: &M::State) -> bool {
        let mut cursor = self.list.first();
        let mut first_return = None;
        while let Some(at) = cursor {
            if let Event::Return { op } = self.list.event(at) {
                first_return = Some((at, op));
                break;
            }
            cursor = self.list.after(at);
        }
        let Some((stop, read)) = first_return else {
            return false;
        };
        if read == writing || !self.read_only[read as usize] {
            return false;
        }
        let ops = self.ops;
        let read_only = &self.read_only;
        let list = &self.list;
        let mut cursor = list.first();
        let mut writes = std::iter::from_fn(|| {
            while let Some(at) = cursor {
                if at == stop {
                    return None;
                }
                cursor = list.after(at);
                if let Event::Call { op, .. } = list.event(at)
                    && op != writing
                    && !read_only[op as usize]
                {
                    return Some(&ops[op as usize].input);
                }
            }
            None
        });
        let read = ops[read as usize];
        !self
            .model
            .read_may_still_fit(next, &read.input, &read.output, &mut writes)
    }

    /// Looks among the pending calls (those before the first return) for a read that
    /// fits, and places the first one found.
    fn place_read(&mut self) -> ReadScan {
        let mut cursor = self.list.first();
        while let Some(at) = cursor {
            let Event::Call { op, .. } = self.list.event(at) else {
                break;
            };
            if self.read_only[op as usize] {
                self.steps += 1;
                match self.try_place(at, op, true) {
                    Ok(true) => return ReadScan::Placed,
                    Ok(false) => {}
                    Err(()) => return ReadScan::DeadEnd,
                }
            }
            cursor = self.list.after(at);
        }
        ReadScan::None
    }

    /// Undoes choices back to the latest one with alternatives left; returns where to
    /// resume the scan, or `None` if no choice is left (no linearization exists).
    /// `blocked` is the operation whose return forced the backtrack, if any.
    fn backtrack(&mut self, blocked: Option<u32>) -> Option<Option<u32>> {
        if self.climbing {
            if let Some(tracker) = &mut self.tracker {
                tracker.peak(&self.order, blocked);
            }
            self.climbing = false;
        }
        loop {
            let frame = self.frames.pop()?;
            let undone = self.order.pop().expect("order parallels frames");
            if let Some(tracker) = &mut self.tracker {
                tracker.popped();
            }
            self.list.unlift(frame.call);
            self.linearized.remove(undone);
            self.state = frame.state_before;
            if !frame.forced {
                return Some(self.list.after(frame.call));
            }
        }
    }

    fn peak(&mut self) {
        if let Some(tracker) = &mut self.tracker {
            tracker.peak(&self.order, None);
        }
    }

    fn run(&mut self, limits: &Limits<'_>) -> Outcome {
        // Each time the search reaches a new configuration, it first places any read that
        // fits (no alternative to that needs trying), then scans the other pending calls.
        let mut fresh = true;
        let mut cursor = None;
        loop {
            if fresh {
                match self.place_read() {
                    ReadScan::Placed => continue,
                    ReadScan::DeadEnd => match self.backtrack(None) {
                        Some(resume) => {
                            cursor = resume;
                            fresh = false;
                            continue;
                        }
                        None => return Outcome::Illegal,
                    },
                    ReadScan::None => {
                        cursor = self.list.first();
                        fresh = false;
                    }
                }
            }
            let Some(at) = cursor else {
                // Every event was lifted: every operation is linearized.
                self.peak();
                return Outcome::Linearizable;
            };
            self.steps += 1;
            if limits.exhausted(self.steps) {
                self.peak();
                return Outcome::Abandoned;
            }
            match self.list.event(at) {
                Event::Call { op, .. } => {
                    // Reads were tried when this configuration was first reached, in the
                    // same state: only other operations remain to try.
                    if !self.read_only[op as usize] && self.try_place(at, op, false) == Ok(true) {
                        fresh = true;
                    } else {
                        cursor = self.list.after(at);
                    }
                }
                Event::Return { op } => {
                    // `op` was not linearized before its response: undo the last choice.
                    match self.backtrack(Some(op)) {
                        Some(resume) => cursor = resume,
                        None => return Outcome::Illegal,
                    }
                }
            }
        }
    }
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
    let mut search = Search {
        model,
        ops,
        read_only: ops.iter().map(|op| model.is_read_only(&op.input)).collect(),
        list: EventList::new(&intervals),
        states: StateTable::new(model.init()),
        visited: Visited::new(n.div_ceil(64)),
        linearized: Bitset::new(n),
        state: 0,
        frames: Vec::new(),
        order: Vec::new(),
        tracker: track.then(|| Tracker::new(n)),
        climbing: true,
        steps: 0,
    };
    let outcome = search.run(limits);
    (outcome, search.tracker.map(|tracker| tracker.finish(keep)))
}
