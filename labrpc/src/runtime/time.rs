//! Virtual time: the clock, sleeping, timeouts and yielding.
//!
//! Time in a simulation only moves when no task can run: the executor then jumps the clock
//! straight to the earliest pending timer. A test that "waits two seconds" therefore costs
//! microseconds of wall time, and every deadline is exact, whatever the machine's load.

use std::collections::BTreeMap;
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
/// Keys are `(deadline, sequence number)`, so timers with equal deadlines fire in the order
/// they were set: a fixed order that does not depend on the seed.
#[derive(Default)]
pub(crate) struct Timers {
    pending: BTreeMap<(Instant, u64), Timer>,
    next_seq: u64,
    /// Pending timers per node index, for the stuck-node checks.
    per_node: Vec<u32>,
    /// When each node (by index) last set a timer of its own (not one on the wire), for
    /// the report of a stuck node: about when it froze.
    own_set_at: Vec<Option<Instant>>,
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
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.first_key_value().map(|(&(at, _), _)| at)
    }

    fn insert(&mut self, deadline: Instant, timer: Timer, now: Instant) -> (Instant, u64) {
        let key = (deadline, self.next_seq);
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
        self.pending.insert(key, timer);
        key
    }

    fn remove(&mut self, key: &(Instant, u64)) -> Option<Timer> {
        let timer = self.pending.remove(key)?;
        self.per_node[timer.node as usize] -= 1;
        Some(timer)
    }

    /// Removes every timer due at `deadline` and returns them in firing order.
    pub(crate) fn take_due(&mut self, deadline: Instant) -> Vec<((Instant, u64), Timer)> {
        let mut due = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 != deadline {
                break;
            }
            let (key, timer) = entry.remove_entry();
            self.per_node[timer.node as usize] -= 1;
            due.push((key, timer));
        }
        due
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Number of pending timers set by tasks of the node with this index.
    pub(crate) fn count_for(&self, node: usize) -> u32 {
        self.per_node.get(node).copied().unwrap_or(0)
    }

    /// For each of the first `nodes` node indices, whether the node has a pending timer
    /// of its own: one that is not a message's time on the wire.
    pub(crate) fn own_timers(&self, nodes: usize) -> Vec<bool> {
        let mut own = vec![false; nodes];
        for timer in self.pending.values().filter(|timer| !timer.wire) {
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
        self.pending
            .iter()
            .filter(|(_, timer)| timer.wire)
            .map(|(&(at, _), _)| at)
            .max()
    }
}

/// A future that completes at a virtual deadline. Made by [`sleep`] and [`sleep_until`].
#[must_use = "a Sleep does nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    /// The timer's key once registered with the world.
    timer: Option<(Instant, u64)>,
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
                    timers.remove(&key);
                }
                return Poll::Ready(());
            }
            match self.timer {
                Some(key) => {
                    if let Some(timer) = timers.pending.get_mut(&key)
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
                    w.timers.borrow_mut().remove(&key);
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
