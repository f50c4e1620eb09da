//! The labrpc fault plans beyond the course (`docs/fault-model.md`, "Faults at the worst
//! moments"), as both harnesses set them: the Raft harness for 2X, the KV cluster for 3X.

use std::ops::Range;

use labrpc::tester::{CrashAfterReply, StaleDuplicates};
use rand::RngExt;

/// Crash `servers` (by name; every server if empty) right after a reply to one of
/// `methods` (every method if empty), with probability `per_mille`/1000.
pub(crate) fn crash_after_reply(
    servers: Vec<String>,
    methods: &[&str],
    per_mille: u64,
) -> CrashAfterReply {
    CrashAfterReply {
        servers,
        methods: methods.iter().map(|m| (*m).to_owned()).collect(),
        per_mille,
    }
}

/// Deliver a request of one of `methods` a second time, with probability `per_mille`/1000,
/// `delay_ms` later (drawn uniformly); `None` (no plan) for `per_mille` 0.
pub(crate) fn stale_duplicates(
    methods: &[&str],
    per_mille: u64,
    delay_ms: Range<u64>,
) -> Option<StaleDuplicates> {
    (per_mille > 0).then(|| StaleDuplicates {
        methods: methods.iter().map(|m| (*m).to_owned()).collect(),
        per_mille,
        delay_ms,
    })
}

/// How long after its crash a server is restarted, in ms: drawn uniformly from `range`,
/// or its start if it is empty.
pub(crate) fn restart_delay_ms(range: Range<u64>) -> u64 {
    if range.is_empty() {
        range.start
    } else {
        labrpc::rng().random_range(range)
    }
}
