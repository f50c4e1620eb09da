//! The deterministic simulated runtime: tasks, nodes, virtual time and seeded randomness.
//!
//! # Determinism, and what breaks it
//!
//! A simulation is a pure function of its seed: the seed decides which ready task runs
//! next, every network delay and drop, and every number lab code draws from [`rng`]. Run a
//! seed twice and you get the same run, event for event (`LAB_CHECK_DETERMINISM=1` checks
//! it). Lab code keeps that property as long as everything it does comes from the
//! simulation. The usual ways to break it:
//!
//! - **`futures::select!`** picks among ready branches with a process-wide random
//!   generator. Use `futures::select_biased!`, which tries branches in order.
//! - **`HashMap` / `HashSet` iteration** visits entries in an order that differs on every
//!   run. Iterate a `BTreeMap`, or sort first. (Lookups by key are fine.)
//! - **`std::time`** (`Instant::now`, `SystemTime`) reads the real clock. Use [`now`],
//!   [`sleep`] and [`timeout`].
//! - **Threads** (`std::thread::spawn`) run outside the simulation. Use [`spawn`].
//! - **OS randomness** (`rand::rng()`, `thread_rng()`, `getrandom`). Use [`rng`].
//!
//! # Failures it reports instead of hanging
//!
//! - **Deadlock**: nothing can run and no timer is set.
//! - **A stuck node**: a node's live tasks all wait, none has a timer, and none has run
//!   for 5 s of virtual time (an async deadlock that the tester's own sleeps would
//!   otherwise hide); and, when the test body returns, a node whose tasks all wait for
//!   something that can never happen (no timer, no message on its way), however short
//!   the test (see [`Sim::stuck_node_after`] for the rule).
//! - **Livelock**: virtual time frozen across ten million polls.
//! - **The virtual time limit** (120 s by default).
//! - **A poll that never returns** (the watchdog): a loop without `.await` (measured in
//!   CPU time, so a loaded machine raises no false alarm) or a thread blocked inside a poll
//!   (a lock taken twice). It names the test, seed, node and spawn site, and the replay
//!   command.
//! - **`std::process::exit` or an abort** while a simulation runs: the process still ends,
//!   but says which test and seed were running, and an exit is never a success.
//!
//! Every failure report ends with what was running and the pending tasks of every node
//! (counts and the places that spawned them), so that a leak of thousands of tasks shows.
//!
//! # Two sides
//!
//! Lab code uses the guest API re-exported at the crate root ([`spawn`], [`sleep`],
//! [`now`], [`rng`], [`timeout`], ...). The tester's controls ([`Node`] creation and
//! crashes, the [`Network`](crate::tester::Network), [`Sim`]) are in
//! [`crate::tester`]; lab code that calls them panics. Every handle (node, join handle,
//! sleep, network, end) belongs to the run that made it, and panics if used in another.

pub(crate) mod context;
mod cpu;
mod event_log;
pub(crate) mod events;
mod exit_guard;
mod fingerprint;
pub mod grading;
pub(crate) mod live;
mod node;
mod rng;
mod sim;
mod task;
mod time;
mod watchdog;
mod world;

pub use context::in_simulation;
pub use event_log::{EventLog, MAX_EVENTS};
pub use events::{SharedRecording, annotate, record, timeline_path};
pub use fingerprint::Divergence;
pub use live::{LiveObjects, live_objects};
pub use node::{Node, Observation};
pub use rng::{SimRng, rng};
pub use sim::{Sim, fault_rate, fresh_seed, say, warn};
pub use task::{JoinError, JoinHandle, spawn};
pub use time::{
    Elapsed, Instant, Sleep, YieldNow, now, seed, sleep, sleep_until, timeout, yield_now,
};
pub use world::{RunReport, at_end_of_run, failure_notes, note_on_failure};

pub(crate) use time::wire_sleep_until;
pub(crate) use world::World;
