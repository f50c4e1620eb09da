//! Virtual time: the clock, sleeping, timeouts and yielding.
//!
//! Time in a simulation only moves when no task can run: the executor then jumps the clock
//! straight to the earliest pending timer. A test that "waits two seconds" therefore costs
//! microseconds of wall time, and every deadline is exact, whatever the machine's load.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::ops::{Add, AddAssign, Sub};
use std::panic::Location;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::{Either, select};

use super::context::{try_with_world, with_world};

/// A point in virtual time, measured from the start of the simulation.
///
/// It plays the role of `std::time::Instant` inside a simulation; lab code must use this
/// one, since the real clock differs from run to run and would break replay.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Instant(Duration);

impl Instant {
    /// The moment the simulation started.
    pub const START: Instant = Instant(Duration::ZERO);

    /// Virtual time elapsed since the start of the simulation.
    pub fn since_start(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Virtual time elapsed since `self`.
    pub fn elapsed(self) -> Duration {
        now().saturating_duration_since(self)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    /// Seconds with microsecond precision, as in the logs: `1.234567s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let micros = self.0.subsec_micros();
        let text = format!("{secs}.{micros:06}s");
        f.pad(&text)
    }
}

/// The current virtual time. (Lab code and tester.)
pub fn now() -> Instant {
    with_world(|w| w.clock.get())
}

/// The seed of the simulation running on this thread.
pub fn seed() -> u64 {
    with_world(|w| w.seed)
}

/// The world's pending timers, earliest first.
///
/// Timers with equal deadlines fire in the order they were set (by sequence number): a
/// fixed order that does not depend on the seed.
///
/// Every sleep, timeout and message delay sets one, and most are cancelled before they
/// fire (an election timeout reset, a call answered before its timeout), so both must be
/// cheap: the timers sit in a slab (a slot each, reused), and their deadlines in a binary
/// heap. A cancelled timer leaves its slot at once but its heap entry only when that comes
/// to the top (or when such entries outnumber the live ones, and the heap is rebuilt).
#[derive(Default)]
pub(crate) struct Timers {
    /// `(deadline, sequence number, slot)` of every pending timer, and of cancelled ones
    /// not yet skipped; the earliest on top.
    queue: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    /// Pending timers by slot, with their sequence numbers (a slot is reused: the number
    /// tells a pending timer from an old key).
    slots: Vec<Option<(u64, Timer)>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Pending timers.
    live: usize,
    /// Entries in `queue` whose timer is gone.
    stale: usize,
    next_seq: u64,
    /// Pending timers per node index, for the stuck-node checks.
    per_node: Vec<u32>,
    /// When each node (by index) last set a timer of its own (not one on the wire), for
    /// the report of a stuck node: about when it froze.
    own_set_at: Vec<Option<Instant>>,
}

/// What a [`Sleep`] holds of its registered timer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TimerKey {
    seq: u64,
    slot: u32,
}

/// One pending timer.
pub(crate) struct Timer {
    pub(crate) waker: Waker,
    /// The index of the node whose task set it.
    node: u32,
    /// Whether it is the network's: a message's time on the wire (see
    /// [`Sleep::on_the_wire`]).
    wire: bool,
    /// Where the sleep was made, for determinism reports.
    pub(crate) set_at: &'static Location<'static>,
}

impl Timers {
    /// The earliest deadline, if any timer is set.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.skip_stale();
        self.queue.peek().map(|&Reverse((at, _, _))| at)
    }

    /// Drops the cancelled timers' entries from the top of the queue.
    fn skip_stale(&mut self) {
        while let Some(&Reverse((_, seq, slot))) = self.queue.peek() {
            if self.is_pending(seq, slot) {
                return;
            }
            self.queue.pop();
            self.stale -= 1;
        }
    }

    fn is_pending(&self, seq: u64, slot: u32) -> bool {
        matches!(self.slots.get(slot as usize), Some(Some((s, _))) if *s == seq)
    }

    fn insert(&mut self, deadline: Instant, timer: Timer, now: Instant) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let node = timer.node as usize;
        if self.per_node.len() <= node {
            self.per_node.resize(node + 1, 0);
            self.own_set_at.resize(node + 1, None);
        }
        self.per_node[node] += 1;
        if !timer.wire {
            self.own_set_at[node] = Some(now);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).expect("labrpc: too many timers")
            }
        };
        self.slots[slot as usize] = Some((seq, timer));
        self.live += 1;
        self.queue.push(Reverse((deadline, seq, slot)));
        TimerKey { seq, slot }
    }

    fn get_mut(&mut self, key: TimerKey) -> Option<&mut Timer> {
        match self.slots.get_mut(key.slot as usize) {
            Some(Some((seq, timer))) if *seq == key.seq => Some(timer),
            _ => None,
        }
    }

    /// Takes the timer out of its slot (its queue entry goes stale).
    fn take(&mut self, slot: u32) -> Timer {
        let (_, timer) = self.slots[slot as usize].take().expect("a pending timer");
        self.free.push(slot);
        self.live -= 1;
        self.per_node[timer.node as usize] -= 1;
        timer
    }

    fn remove(&mut self, key: TimerKey) -> Option<Timer> {
        self.get_mut(key)?;
        let timer = self.take(key.slot);
        self.stale += 1;
        if self.stale > 2 * self.live + 1024 {
            self.rebuild_queue();
        }
        Some(timer)
    }

    /// Rebuilds the queue from the pending timers alone.
    fn rebuild_queue(&mut self) {
        let mut entries = std::mem::take(&mut self.queue).into_vec();
        entries.retain(|&Reverse((_, seq, slot))| self.is_pending(seq, slot));
        self.queue = BinaryHeap::from(entries);
        self.stale = 0;
    }

    /// Removes the first timer due at `deadline`, if any is left, with its sequence
    /// number: the timers due at one deadline come out in firing order.
    pub(crate) fn pop_due(&mut self, deadline: Instant) -> Option<(u64, Timer)> {
        self.skip_stale();
        let &Reverse((at, seq, slot)) = self.queue.peek()?;
        if at != deadline {
            return None;
        }
        self.queue.pop();
        Some((seq, self.take(slot)))
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The pending timers, in no particular order.
    fn pending(&self) -> impl Iterator<Item = &Timer> {
        self.slots.iter().flatten().map(|(_, timer)| timer)
    }

    /// Number of pending timers set by tasks of the node with this index.
    pub(crate) fn count_for(&self, node: usize) -> u32 {
        self.per_node.get(node).copied().unwrap_or(0)
    }

    /// For each of the first `nodes` node indices, whether the node has a pending timer
    /// of its own: one that is not a message's time on the wire.
    pub(crate) fn own_timers(&self, nodes: usize) -> Vec<bool> {
        let mut own = vec![false; nodes];
        for timer in self.pending().filter(|timer| !timer.wire) {
            if let Some(slot) = own.get_mut(timer.node as usize) {
                *slot = true;
            }
        }
        own
    }

    /// When the node with this index last set a timer of its own, if it ever did.
    pub(crate) fn own_set_at(&self, node: usize) -> Option<Instant> {
        self.own_set_at.get(node).copied().flatten()
    }

    /// The latest deadline of the timers on the wire: when every message now on its way
    /// has arrived.
    pub(crate) fn last_wire_deadline(&self) -> Option<Instant> {
        self.queue
            .iter()
            .filter(|&&Reverse((_, seq, slot))| {
                self.is_pending(seq, slot)
                    && self.slots[slot as usize]
                        .as_ref()
                        .is_some_and(|(_, timer)| timer.wire)
            })
            .map(|&Reverse((at, _, _))| at)
            .max()
    }
}

/// A future that completes at a virtual deadline. Made by [`sleep`] and [`sleep_until`].
#[must_use = "a Sleep does nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    /// The timer's key once registered with the world.
    timer: Option<TimerKey>,
    /// A message's time on the wire, rather than the waiting of the task that sleeps.
    wire: bool,
    /// The world it was made in.
    world: u64,
    made_at: &'static Location<'static>,
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Marks the sleep as the network's: the time a message spends on the wire (a
    /// request's or a reply's delay, a call on a dead end failing after a while), which
    /// the task that sleeps did not choose. The check for stuck nodes at the end of a
    /// run tells these timers apart from a node's own (an election timeout, a heartbeat).
    pub(crate) fn on_the_wire(mut self) -> Sleep {
        self.wire = true;
        self
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        with_world(|w| {
            w.check_handle(self.world, "a Sleep (or timeout)");
            let mut timers = w.timers.borrow_mut();
            if w.clock.get() >= self.deadline {
                if let Some(key) = self.timer.take() {
                    timers.remove(key);
                }
                return Poll::Ready(());
            }
            match self.timer {
                Some(key) => {
                    if let Some(timer) = timers.get_mut(key)
                        && !timer.waker.will_wake(cx.waker())
                    {
                        timer.waker.clone_from(cx.waker());
                    }
                }
                None => {
                    let key = timers.insert(
                        self.deadline,
                        Timer {
                            waker: cx.waker().clone(),
                            node: w.current_node.get().index,
                            wire: self.wire,
                            set_at: self.made_at,
                        },
                        w.clock.get(),
                    );
                    self.timer = Some(key);
                }
            }
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.timer.take() {
            try_with_world(|w| {
                if w.id == self.world {
                    w.timers.borrow_mut().remove(key);
                }
            });
        }
    }
}

/// Waits for `duration` of virtual time. (Lab code and tester.)
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let made_at = Location::caller();
    with_world(|w| Sleep {
        deadline: w.clock.get() + duration,
        timer: None,
        wire: false,
        world: w.id,
        made_at,
    })
}

/// Waits until the virtual clock reads `deadline` (at once if it already has).
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        wire: false,
        world: with_world(|w| w.id),
        made_at: Location::caller(),
    }
}

/// A message's time on the wire until `deadline` (see [`Sleep::on_the_wire`]), in the
/// world `world` the network already knows: every request and reply delay makes one.
#[track_caller]
pub(crate) fn wire_sleep_until(deadline: Instant, world: u64) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        wire: true,
        world,
        made_at: Location::caller(),
    }
}

/// The error of a [`timeout`] whose time ran out first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration` of virtual time. (Lab code and tester.)
///
/// The future is polled before the timer, so a future that is ready at the deadline wins.
#[track_caller]
pub fn timeout<F: Future>(
    duration: Duration,
    future: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    let timer = sleep(duration);
    async move {
        match select(pin!(future), timer).await {
            Either::Left((output, _)) => Ok(output),
            Either::Right(_) => Err(Elapsed),
        }
    }
}

/// Lets every other task that can run at this instant run first, then continues.
///
/// The yielding task waits until the ready queue is empty (tasks woken meanwhile run
/// too), and resumes before virtual time moves on. Virtual time does not move. A loop that only yields (and never sleeps or waits on
/// something) is a livelock, which the runtime detects and reports.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future made by [`yield_now`].
#[must_use = "yield_now does nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        with_world(|w| {
            let node = w.current_node.get().index;
            w.yielded.borrow_mut().push((node, cx.waker().clone()));
        });
        Poll::Pending
    }
}
