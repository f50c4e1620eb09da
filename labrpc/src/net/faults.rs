//! The fault model's numbers, exactly those of the course's Go `labrpc`.
//!
//! Each constant names the Go expression it reproduces. Tests in `tests/faults.rs`
//! measure, in virtual time, that the network really behaves this way.

use std::time::Duration;

use rand::RngExt;

use crate::runtime::rng;

/// Unreliable mode delays each request by a uniform `0..=26` ms (Go: `rand.Int() % 27`).
pub const REQUEST_DELAY_MS: u64 = 27;

/// Unreliable mode drops a request, and separately a reply, with probability 100/1000
/// (Go: `rand.Int() % 1000 < 100`).
pub const DROP_PER_MILLE: u64 = 100;

/// A call on a disabled, unconnected or serverless end fails after a uniform `0..7000` ms
/// when long delays are on (Go: `rand.Int() % 7000`). The Raft tester turns them on, to
/// catch leaders that send RPCs one after another.
pub const LONG_DEAD_DELAY_MS: u64 = 7000;

/// ... and after a uniform `0..100` ms otherwise (Go: `rand.Int() % 100`), so KV clerks can
/// move on to another server quickly.
pub const SHORT_DEAD_DELAY_MS: u64 = 100;

/// With long reordering on, a reply is held back with probability 600/900 = 2/3
/// (Go: `rand.Intn(900) < 600`) ...
pub const REORDER_PER_900: u64 = 600;

/// ... for `200 + rand(1 + rand(2000))` ms, i.e. 200..=2199 ms, skewed towards short
/// (Go: `200 + rand.Intn(1+rand.Intn(2000))`).
pub const REORDER_BASE_MS: u64 = 200;

/// The spread of the reordering delay; see [`REORDER_BASE_MS`].
pub const REORDER_SPREAD_MS: u64 = 2000;

/// The numbers a network draws its faults with. [`FaultPlan::COURSE`] is the course's
/// model, the one every test uses. A *swarm* plan ([`FaultPlan::swarm`], turned on with
/// `LAB_SWARM=1`) draws each number at random between the course's number and none, so
/// that seeds explore calmer or quieter networks too.
///
/// Every run under a swarm plan is also a possible run under the course's plan (each fault
/// is rarer, or each delay shorter, never beyond the course's bounds), so a failure found
/// this way is a real bug, only one the course's model would find less often.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FaultPlan {
    /// Unreliable mode: a request's delay is uniform in `0..request_delay_ms`.
    pub request_delay_ms: u64,
    /// Unreliable mode: the chance in 1000 that a request, and separately a reply, is lost.
    pub drop_per_mille: u64,
    /// A dead end fails after a uniform `0..long_dead_delay_ms` with long delays on ...
    pub long_dead_delay_ms: u64,
    /// ... and `0..short_dead_delay_ms` without.
    pub short_dead_delay_ms: u64,
    /// Long reordering: the chance in 900 that a reply is held back ...
    pub reorder_per_900: u64,
    /// ... for `REORDER_BASE_MS + rand(1 + rand(reorder_spread_ms))` ms.
    pub reorder_spread_ms: u64,
}

impl FaultPlan {
    /// The course's fault model.
    pub const COURSE: FaultPlan = FaultPlan {
        request_delay_ms: REQUEST_DELAY_MS,
        drop_per_mille: DROP_PER_MILLE,
        long_dead_delay_ms: LONG_DEAD_DELAY_MS,
        short_dead_delay_ms: SHORT_DEAD_DELAY_MS,
        reorder_per_900: REORDER_PER_900,
        reorder_spread_ms: REORDER_SPREAD_MS,
    };

    /// A plan with every number drawn uniformly between the course's and the least
    /// (delays keep at least 1 ms of range), from `rng`.
    pub fn swarm(rng: &mut impl rand::Rng) -> FaultPlan {
        let mut within = |course: u64, least: u64| rng.random_range(least..=course);
        FaultPlan {
            request_delay_ms: within(REQUEST_DELAY_MS, 1),
            drop_per_mille: within(DROP_PER_MILLE, 0),
            long_dead_delay_ms: within(LONG_DEAD_DELAY_MS, 1),
            short_dead_delay_ms: within(SHORT_DEAD_DELAY_MS, 1),
            reorder_per_900: within(REORDER_PER_900, 0),
            reorder_spread_ms: within(REORDER_SPREAD_MS, 1),
        }
    }

    /// How long a call on a dead end waits before failing.
    pub(crate) fn dead_end_delay(&self, long_delays: bool) -> Duration {
        let bound = if long_delays {
            self.long_dead_delay_ms
        } else {
            self.short_dead_delay_ms
        };
        Duration::from_millis(rng().random_range(0..bound))
    }

    /// The short delay of a request in unreliable mode.
    pub(crate) fn request_delay(&self) -> Duration {
        Duration::from_millis(rng().random_range(0..self.request_delay_ms))
    }

    /// Whether an unreliable network loses this request or reply.
    pub(crate) fn lost(&self) -> bool {
        rng().random_range(0..1000) < self.drop_per_mille
    }

    /// How long long reordering holds this reply back, if at all.
    pub(crate) fn reorder_delay(&self) -> Option<Duration> {
        let mut rng = rng();
        if rng.random_range(0..900) >= self.reorder_per_900 {
            return None;
        }
        let spread = rng.random_range(0..self.reorder_spread_ms);
        let ms = REORDER_BASE_MS + rng.random_range(0..=spread);
        Some(Duration::from_millis(ms))
    }
}

impl std::fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "request delay 0..{} ms, loss {}/1000, dead-end delay 0..{} ms (long) / 0..{} ms, \
             reordering {}/900 for 200 + rand(1 + rand({})) ms",
            self.request_delay_ms,
            self.drop_per_mille,
            self.long_dead_delay_ms,
            self.short_dead_delay_ms,
            self.reorder_per_900,
            self.reorder_spread_ms
        )
    }
}
