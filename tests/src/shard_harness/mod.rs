//! The Lab 4 tester: the shard controller's own cluster, replica groups on the same
//! network, clerks whose calls are recorded, and the checks the 4A and 4B tests are made
//! of. A port of the course's `shardctrler/config.go` and `shardkv/config.go` (2022), with
//! the same numbers.
//!
//! One job per file:
//!
//! - `ctrlers.rs`: the controller's servers (start, shut down, the leader, clerks);
//! - `groups.rs`: the key/value groups beside them (the course's `cfg` of 4B);
//! - `clerk.rs`: the clerks as the tests use them (the 4B ones recorded for the checker);
//! - `waiting.rs`: the calls under way, which a test that runs out of time lists.
//!
//! Every failure panics with the course's message, or a more helpful one; the runner adds
//! the seed and the command that replays it.

pub mod clerk;
pub mod ctrlers;
pub mod groups;
pub mod waiting;
mod worst_moments;

use rand::RngExt;

pub(crate) use crate::kv_harness::fail;

/// The time every request and reply spends on the wire in the Lab 4 tests: the Lab 3
/// tests' (see [`crate::kv_harness::NETWORK_LATENCY`] for why there is one at all).
pub const NETWORK_LATENCY: std::time::Duration = crate::kv_harness::NETWORK_LATENCY;

/// The servers of a group, and of the controller: the course's `n` and `nctrlers`.
pub const SERVERS: usize = 3;

/// The course's `randstring(n)`: `n` characters of URL-safe base64, from the run's random
/// numbers.
pub fn randstring(n: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = labrpc::rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..64)]))
        .collect()
}

/// The course's `maxraftstate` for a 4B test, rescaled to this encoding as in 3B (see
/// [`crate::kv_harness::MAXRAFTSTATE`]): gob takes about twice the bytes per log entry, so
/// half the bytes hold as many entries and a server snapshots as often as in the course.
/// The course's 1 ("snapshot after every entry") stays 1.
pub const fn maxraftstate(course_bytes: usize) -> usize {
    if course_bytes <= 1 {
        course_bytes
    } else {
        course_bytes / 2
    }
}
