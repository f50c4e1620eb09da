//! Counts of the objects simulations make that are still alive, so a test can check that
//! a finished run freed everything (memory over thousands of seeds must stay flat).

use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counts of live simulation objects.
pub(crate) struct LiveCounters {
    pub(crate) worlds: AtomicU64,
    pub(crate) tasks: AtomicU64,
    pub(crate) networks: AtomicU64,
    pub(crate) servers: AtomicU64,
}

pub(crate) static LIVE: LiveCounters = LiveCounters {
    worlds: AtomicU64::new(0),
    tasks: AtomicU64::new(0),
    networks: AtomicU64::new(0),
    servers: AtomicU64::new(0),
};

/// Counts one live object for as long as it exists.
pub(crate) struct LiveToken(&'static AtomicU64);

impl LiveToken {
    pub(crate) fn new(counter: &'static AtomicU64) -> LiveToken {
        counter.fetch_add(1, Ordering::Relaxed);
        LiveToken(counter)
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many simulation objects are alive in this process now. (Tester side.)
///
/// After every run on this process has finished (and passed: a failed run keeps its
/// world, on purpose), all counts are zero; anything else is a leak.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct LiveObjects {
    /// Worlds (one per run).
    pub worlds: u64,
    /// Spawned tasks.
    pub tasks: u64,
    /// Networks.
    pub networks: u64,
    /// Servers added to a network.
    pub servers: u64,
}

/// Counts the simulation objects alive in this process. (Tester side.)
pub fn live_objects() -> LiveObjects {
    LiveObjects {
        worlds: LIVE.worlds.load(Ordering::Relaxed),
        tasks: LIVE.tasks.load(Ordering::Relaxed),
        networks: LIVE.networks.load(Ordering::Relaxed),
        servers: LIVE.servers.load(Ordering::Relaxed),
    }
}
