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

/// How long a call on a dead end waits before failing.
pub(crate) fn dead_end_delay(long_delays: bool) -> Duration {
    let bound = if long_delays {
        LONG_DEAD_DELAY_MS
    } else {
        SHORT_DEAD_DELAY_MS
    };
    Duration::from_millis(rng().random_range(0..bound))
}

/// The short delay of a request in unreliable mode.
pub(crate) fn request_delay() -> Duration {
    Duration::from_millis(rng().random_range(0..REQUEST_DELAY_MS))
}

/// Whether an unreliable network loses this request or reply.
pub(crate) fn lost() -> bool {
    rng().random_range(0..1000) < DROP_PER_MILLE
}

/// How long long reordering holds this reply back, if at all.
pub(crate) fn reorder_delay() -> Option<Duration> {
    let mut rng = rng();
    if rng.random_range(0..900) >= REORDER_PER_900 {
        return None;
    }
    let spread = rng.random_range(0..REORDER_SPREAD_MS);
    let ms = REORDER_BASE_MS + rng.random_range(0..=spread);
    Some(Duration::from_millis(ms))
}
