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
//!
//! Operations whose outcome is unknown (their return at [`crate::NEVER_RETURNED`]) are
//! tried last: at a configuration, the calls before the first return are first tried
//! without them, and only when the scan reaches that return are they tried in turn. The
//! same calls are tried, so the answer is the same; but such operations often never took
//! effect (the client gave up), and trying them first explores many orders of them that
//! nothing needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::events::{Event, EventList};
use crate::hash::mix64;
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
    /// Whether another partition settled the verdict, so this search may stop.
    fn stopped(&self) -> bool {
        self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed))
    }

    fn exhausted(&self, steps: u64) -> bool {
        if self.steps.is_some_and(|limit| steps > limit) {
            return true;
        }
        if steps.is_multiple_of(POLL_INTERVAL) {
            if self.stopped() {
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
    /// The search ran out of budget (steps or time).
    Abandoned,
    /// The search was stopped (or never started) because another partition settled the
    /// verdict.
    Stopped,
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
    /// Placed by the scan for operations of unknown outcome (see the module docs).
    late: bool,
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
pub(crate) struct Search<'h, M: Model> {
    model: &'h M,
    ops: &'h [&'h Operation<M::Input, M::Output>],
    read_only: Vec<bool>,
    /// Whether each operation's outcome is unknown (it never returned).
    late: Vec<bool>,
    /// How many operations of unknown outcome are not linearized.
    late_pending: usize,
    /// The operations of unknown outcome as a mask, if there are any.
    late_mask: Option<Bitset>,
    /// The XOR of the hash keys of the linearized operations of unknown outcome.
    late_hash: u64,
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
    /// Where a search that ran out of budget stopped (the scan's position, and whether it
    /// was the scan for operations of unknown outcome), so that it can go on.
    paused: Option<(Option<u32>, bool)>,
}

impl<M: Model> Search<'_, M> {
    /// Tries to linearize the operation whose call is at `at` next: true if it fits and
    /// leads to a new configuration, in which case it is pushed. `Err` if it fits but
    /// the configuration was explored before.
    fn try_place(&mut self, at: u32, op: u32, forced: bool, late: bool) -> Result<bool, ()> {
        let operation = self.ops[op as usize];
        let current = self.states.get(self.state);
        let Some(next) = self
            .model
            .step(current, &operation.input, &operation.output)
        else {
            return Ok(false);
        };
        // A write is pointless if the read that must be placed soonest (of those not yet
        // placed, the one whose response comes first) can no longer fit after it,
        // whatever else comes first.
        if !self.read_only[op as usize]
            && let Some(read) = self.lost_read(op, &next)
        {
            if let Some(tracker) = &mut self.tracker {
                // Show what the search would have met without this shortcut: the write
                // placed, then the read unable to follow.
                self.order.push(op);
                tracker.pushed();
                tracker.peak(&self.order, Some(read));
                tracker.popped();
                self.order.pop();
            }
            return Ok(false);
        }
        // Reads leave the state alone: skip hashing it again.
        let next = if next == *current {
            self.state
        } else {
            self.states.intern(next)
        };
        self.linearized.insert(op);
        let new = match &self.late_mask {
            // The common case, kept as cheap as it was: no operation of unknown outcome.
            None => self
                .visited
                .insert(&self.linearized, self.linearized.hash(), next),
            Some(mask) => {
                let is_late = self.late[op as usize];
                let late_hash = self.late_hash ^ if is_late { mix64(u64::from(op)) } else { 0 };
                let new = self.visited.insert_dominated(
                    &self.linearized,
                    self.linearized.hash() ^ late_hash,
                    next,
                    mask.words(),
                );
                if new {
                    self.late_hash = late_hash;
                }
                new
            }
        };
        if !new {
            self.linearized.remove(op);
            return Err(());
        }
        self.frames.push(Frame {
            call: at,
            state_before: self.state,
            forced,
            late,
        });
        if self.late_mask.is_some() && self.late[op as usize] {
            self.late_pending -= 1;
        }
        self.order.push(op);
        if let Some(tracker) = &mut self.tracker {
            tracker.pushed();
        }
        self.climbing = true;
        self.state = next;
        self.list.lift(at);
        Ok(true)
    }

    /// With `writing` placed and the state then `next`: the read not yet linearized whose
    /// response comes first, if it can no longer fit ([`Model::read_may_still_fit`]). The
    /// calls before that response are exactly the operations not yet linearized that may
    /// still take effect before the read. Looking past the responses of writes matters:
    /// when writes return before the read, as when several Appends overlap and a Get later
    /// reads their order, stopping at the first response would let every order of them be
    /// tried before the read could refute any (hundreds of thousands of steps on some of
    /// the lab's histories of a few hundred operations per key, a few hundred with it).
    fn lost_read(&self, writing: u32, next: &M::State) -> Option<u32> {
        let mut cursor = self.list.first();
        let mut first_read = None;
        while let Some(at) = cursor {
            if let Event::Return { op } = self.list.event(at)
                && self.read_only[op as usize]
            {
                first_read = Some((at, op));
                break;
            }
            cursor = self.list.after(at);
        }
        let (stop, read) = first_read?;
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
        let reading = ops[read as usize];
        let fits =
            self.model
                .read_may_still_fit(next, &reading.input, &reading.output, &mut writes);
        (!fits).then_some(read)
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
                match self.try_place(at, op, true, false) {
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
    /// resume the scan and whether it is the scan for operations of unknown outcome, or
    /// `None` if no choice is left (no linearization exists). `blocked` is the operation
    /// whose return forced the backtrack, if any.
    fn backtrack(&mut self, blocked: Option<u32>) -> Option<(Option<u32>, bool)> {
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
            if self.late_mask.is_some() && self.late[undone as usize] {
                self.late_pending += 1;
                self.late_hash ^= mix64(u64::from(undone));
            }
            self.state = frame.state_before;
            if !frame.forced {
                return Some((self.list.after(frame.call), frame.late));
            }
        }
    }

    /// Once every operation of known outcome is linearized: appends the remaining ones of
    /// unknown outcome, in call order, and returns true if the model accepts them all (as
    /// it must, see [`crate::Operation`]). Otherwise leaves the search as it was.
    fn finish_late(&mut self) -> bool {
        let mut state = self.states.get(self.state).clone();
        let mut placed = Vec::new();
        let mut cursor = self.list.first();
        while let Some(at) = cursor {
            cursor = self.list.after(at);
            if let Event::Call { op, .. } = self.list.event(at) {
                let operation = self.ops[op as usize];
                match self.model.step(&state, &operation.input, &operation.output) {
                    Some(next) => state = next,
                    None => return false,
                }
                placed.push(op);
            }
        }
        for op in placed {
            self.order.push(op);
            if let Some(tracker) = &mut self.tracker {
                tracker.pushed();
            }
        }
        true
    }

    fn peak(&mut self) {
        if let Some(tracker) = &mut self.tracker {
            tracker.peak(&self.order, None);
        }
    }

    /// Searches until settled or out of `limits`; after [`Outcome::Abandoned`], may be
    /// called again with larger limits to go on where it stopped.
    pub(crate) fn run(&mut self, limits: &Limits<'_>) -> Outcome {
        // Each time the search reaches a new configuration, it first places any read that
        // fits (no alternative to that needs trying), then scans the other pending calls:
        // first those of known outcome, then (`late`) those of unknown outcome.
        // A search that ran out of budget resumes at the step it stopped at, which it
        // already counted: it then takes exactly the path one search with the larger
        // budget would have taken.
        let (mut fresh, mut cursor, mut late, mut counted) = match self.paused.take() {
            Some((cursor, late)) => (false, cursor, late, true),
            None => (true, None, false, false),
        };
        loop {
            if fresh {
                late = false;
                match self.place_read() {
                    ReadScan::Placed => continue,
                    ReadScan::DeadEnd => match self.backtrack(None) {
                        Some((resume, resume_late)) => {
                            cursor = resume;
                            late = resume_late;
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
            if !std::mem::take(&mut counted) {
                self.steps += 1;
            }
            if limits.exhausted(self.steps) {
                self.peak();
                if limits.stopped() {
                    return Outcome::Stopped;
                }
                self.paused = Some((cursor, late));
                return Outcome::Abandoned;
            }
            match self.list.event(at) {
                Event::Call { op, .. } => {
                    // Reads were tried when this configuration was first reached, in the
                    // same state: only other operations remain to try, each in its scan.
                    let index = op as usize;
                    if !self.read_only[index]
                        && (self.late_mask.is_none() || self.late[index] == late)
                        && self.try_place(at, op, false, late) == Ok(true)
                    {
                        fresh = true;
                    } else {
                        cursor = self.list.after(at);
                    }
                }
                Event::Return { op }
                    if self.late_mask.is_some() && self.late[op as usize] && self.finish_late() =>
                {
                    // Every operation of known outcome is linearized, and those of unknown
                    // outcome fit after them.
                    self.peak();
                    return Outcome::Linearizable;
                }
                Event::Return { .. } if !late && self.late_pending > 0 => {
                    // The calls of known outcome before this return are all tried: now
                    // try those of unknown outcome, which all lie before it too.
                    late = true;
                    cursor = self.list.first();
                }
                Event::Return { op } => {
                    // `op` was not linearized before its response: undo the last choice.
                    match self.backtrack(Some(op)) {
                        Some((resume, resume_late)) => {
                            cursor = resume;
                            late = resume_late;
                        }
                        None => return Outcome::Illegal,
                    }
                }
            }
        }
    }
}

/// How a search of one partition ended.
#[derive(Debug)]
pub(crate) struct Searched {
    /// Its outcome.
    pub(crate) outcome: Outcome,
    /// The steps it took.
    pub(crate) steps: u64,
    /// When the outcome is [`Outcome::Linearizable`], the linearization found
    /// (operations numbered within the partition, first to last).
    pub(crate) order: Option<Vec<u32>>,
    /// The partial linearizations worth explaining, if asked for.
    pub(crate) trace: Option<Trace>,
    /// When the search ran out of budget but a read fits no state the writes could
    /// produce ([`Model::find_impossible_read`]; the outcome is then
    /// [`Outcome::Illegal`]), that read.
    pub(crate) impossible: Option<u32>,
}

/// Searches for a linearization of `ops`. With `track`, also returns the partial
/// linearizations worth explaining, keeping at most `keep` of them.
pub(crate) fn search<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    limits: &Limits<'_>,
    track: bool,
    keep: usize,
) -> Searched {
    let mut search = Search::new(model, ops, track);
    let outcome = search.run(limits);
    search.finish(outcome, keep)
}

impl<'h, M: Model> Search<'h, M> {
    /// A search of `ops` (see [`search`]), not started yet.
    pub(crate) fn new(
        model: &'h M,
        ops: &'h [&'h Operation<M::Input, M::Output>],
        track: bool,
    ) -> Self {
        let n = ops.len();
        let intervals: Vec<(u64, u64)> = ops.iter().map(|op| (op.call, op.ret)).collect();
        let late: Vec<bool> = ops
            .iter()
            .map(|op| op.ret == crate::NEVER_RETURNED)
            .collect();
        Search {
            model,
            ops,
            read_only: ops.iter().map(|op| model.is_read_only(&op.input)).collect(),
            late_pending: late.iter().filter(|&&l| l).count(),
            late_mask: late.contains(&true).then(|| {
                let mut mask = Bitset::new(n);
                for op in (0..n).filter(|&op| late[op]) {
                    mask.insert(op as u32);
                }
                mask
            }),
            late_hash: 0,
            late,
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
            paused: None,
        }
    }

    /// The result of a search that ended with `outcome`. Out of budget, a read that no
    /// order of the writes can explain still settles it as illegal.
    pub(crate) fn finish(mut self, mut outcome: Outcome, keep: usize) -> Searched {
        let impossible = if outcome == Outcome::Abandoned {
            impossible_read(self.model, self.ops, &self.read_only)
        } else {
            None
        };
        if impossible.is_some() {
            outcome = Outcome::Illegal;
        }
        let mut trace = self.tracker.take().map(|tracker| tracker.finish(keep));
        if let (Some(read), Some(trace)) = (impossible, &mut trace) {
            // Where the search gave up, that read is the one that can never be placed.
            for snapshot in &mut trace.linearizations {
                if snapshot.blocked.is_none() && !snapshot.order.contains(&read) {
                    snapshot.blocked = Some(read);
                }
            }
        }
        Searched {
            outcome,
            steps: self.steps,
            order: (outcome == Outcome::Linearizable).then(|| std::mem::take(&mut self.order)),
            trace,
            impossible,
        }
    }
}

/// The read of `ops` returning first that fits no state the other operations could
/// produce ([`Model::find_impossible_read`]), if any.
fn impossible_read<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    read_only: &[bool],
) -> Option<u32> {
    let writes: Vec<&M::Input> = ops
        .iter()
        .zip(read_only)
        .filter(|(_, read)| !**read)
        .map(|(op, _)| &op.input)
        .collect();
    let mut reads: Vec<usize> = (0..ops.len()).filter(|&i| read_only[i]).collect();
    reads.sort_by_key(|&i| (ops[i].ret, i));
    let pairs: Vec<(&M::Input, &M::Output)> = reads
        .iter()
        .map(|&i| (&ops[i].input, &ops[i].output))
        .collect();
    let found = model.find_impossible_read(&writes, &pairs)?;
    let op = *reads.get(found)?;
    Some(u32::try_from(op).expect("fewer than 2^32 operations in a partition"))
}
