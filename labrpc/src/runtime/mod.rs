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
//! Deadlock (nothing can run, no timer set), livelock (time frozen across millions of
//! polls), the virtual time limit, and a task that never yields (the wall-clock watchdog)
//! each fail the run with a message that says which, and lists the pending tasks by node.

pub(crate) mod context;
mod exit_guard;
pub(crate) mod live;
mod node;
mod rng;
mod sim;
mod task;
mod time;
mod trace;
mod watchdog;
mod world;

pub use context::in_simulation;
pub use live::{LiveObjects, live_objects};
pub use node::Node;
pub use rng::{SimRng, rng};
pub use sim::{Sim, fresh_seed, say, warn};
pub use task::{JoinError, JoinHandle, spawn};
pub use time::{
    Elapsed, Instant, Sleep, YieldNow, now, seed, sleep, sleep_until, timeout, yield_now,
};
pub use trace::Divergence;
pub use world::RunReport;

pub(crate) use world::World;
