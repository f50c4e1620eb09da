//! The fault model's numbers, exactly those of the course's Go `labrpc`, and two faults
//! beyond it.
//!
//! Each constant names the Go expression it reproduces. Tests in `tests/faults.rs`
//! measure, in virtual time, that the network really behaves this way.
//!
//! **Faults at the worst moments** go further than the course's model, which never
//! duplicates a request and never crashes a server between its reply and its next step:
//! [`CrashAfterReply`] and [`StaleDuplicates`]. Real networks and machines do both (UDP
//! duplicates datagrams, a client retransmits over a new TCP connection after a
//! reconnect, the power fails just after a send). Both are off unless the tester sets
//! them, and off in every test that reproduces the course; while off they draw no random
//! number. Tests in `tests/worst_moments.rs`.

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

// ----- faults at the worst moments (stronger than the course's model) -----

/// Whether a drawn event with `per_mille` chances in 1000 happens. A rate of 0 draws
/// nothing, so that a plan set to never fire leaves the run's random numbers alone.
pub(crate) fn chance(per_mille: u64) -> bool {
    per_mille > 0 && rng().random_range(0..1000) < per_mille
}

/// Whether `name` passes a filter; an empty filter passes everything.
fn listed(filter: &[String], name: &str) -> bool {
    filter.is_empty() || filter.iter().any(|listed| listed == name)
}

/// Checks a rate given by the tester.
#[track_caller]
fn check_per_mille(what: &str, per_mille: u64) {
    assert!(
        per_mille <= 1000,
        "labrpc: {what}: per_mille is a chance in 1000, got {per_mille}"
    );
}

/// A fault stronger than the course's model: a server crashes right after it sends a
/// reply, before it takes another step. (Tester side; off unless set with
/// [`Network::set_crash_after_reply`](crate::tester::Network::set_crash_after_reply).)
///
/// The course's `labrpc` never does this: its tester crashes a server between two of the
/// tester's own steps, never in the instant between a handler's reply and whatever the
/// server would do next. Real machines can: a power cut just after a packet left. A
/// server whose reply promised something (a vote, an accepted entry) must have made it
/// durable before replying; one that persists "right after" is caught here.
///
/// When a handler of a matching server finishes, one number is drawn from the world's
/// generator; on a hit, the reply is handed to the network as usual (it reaches its
/// caller, subject to the usual loss, latency and reordering, whatever happens next),
/// and in the same poll the server's node is killed: no other task of that node runs
/// again. Every finished handler counts, whether or not its caller still waits (the
/// server cannot know), including the handler of a stale duplicate
/// ([`StaleDuplicates`]). Servers on the tester node, which cannot crash, are exempt
/// (nothing is drawn for them). The network keeps the crashed server registered, as
/// after any crash: requests that reach it fail for their callers until the tester
/// deletes it (and restarts it), which it learns of through
/// [`Network::reply_crashes`](crate::tester::Network::reply_crashes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrashAfterReply {
    /// Server names (as given to `add_server`) the rule applies to; empty = every server.
    pub servers: Vec<String>,
    /// Methods (`"Raft.RequestVote"`, ...) whose replies may crash; empty = every method.
    pub methods: Vec<String>,
    /// Chance in 1000 that such a reply crashes its server.
    pub per_mille: u64,
}

impl CrashAfterReply {
    /// Panics on a rate above 1000.
    #[track_caller]
    pub(crate) fn check(&self) {
        check_per_mille("CrashAfterReply", self.per_mille);
    }

    /// Whether a reply of `method` by server `server` may crash it.
    pub(crate) fn applies(&self, server: &str, method: &str) -> bool {
        listed(&self.servers, server) && listed(&self.methods, method)
    }
}

/// A crash that a [`CrashAfterReply`] rule caused. (Tester side.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyCrash {
    /// The server's name, as given to `add_server`.
    pub server: String,
    /// The method whose reply was the server's last act.
    pub method: &'static str,
    /// When it crashed (virtual time): the instant its handler returned.
    pub at: crate::Instant,
}

/// A fault stronger than the course's model: a request that reached its server is
/// delivered to it once more, later. (Tester side; off unless set with
/// [`Network::set_stale_duplicates`](crate::tester::Network::set_stale_duplicates).)
///
/// The course's `labrpc` never duplicates a request. Real networks can: UDP duplicates
/// datagrams, and a client library that retransmits over a new TCP connection after a
/// reconnect delivers an old request again, long after its answer. A handler that is not
/// idempotent, or that trusts an old request's view of the world (an AppendEntries that
/// truncates a log on the strength of a stale `prev_log_index`), is caught here.
///
/// When a request of a matching method reaches its server (the moment its handler starts,
/// whether or not its caller still waits), one number is drawn from the world's
/// generator; on a hit, the delay is drawn too, and a copy of the same encoded request
/// is delivered through the same end that much later. Then, if the end is still enabled
/// and still leads to the very same server instance (not deleted, not replaced), the
/// handler runs again on the copy, and its reply goes nowhere: nobody waits for it.
/// Otherwise the copy vanishes without a trace. A copy travels with a task on the
/// server's node, so the server's crash loses it too. A copy is never duplicated again.
///
/// A copy that reaches a handler counts in `rpc_count`, like every request that reaches a
/// handler; it does not count in `total_rpcs` or `total_bytes`, which count what callers
/// sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleDuplicates {
    /// Methods whose requests may be duplicated; empty = every method.
    pub methods: Vec<String>,
    /// Chance in 1000 that a request that reaches its server is delivered again later.
    pub per_mille: u64,
    /// The copy arrives this long after the original did (uniform in the range, ms).
    pub delay_ms: std::ops::Range<u64>,
}

impl StaleDuplicates {
    /// Panics on a rate above 1000 or an empty range of delays.
    #[track_caller]
    pub(crate) fn check(&self) {
        check_per_mille("StaleDuplicates", self.per_mille);
        assert!(
            !self.delay_ms.is_empty(),
            "labrpc: StaleDuplicates: delay_ms {:?} is empty; a copy needs a delay to \
             arrive after (0..1 for \"at once\")",
            self.delay_ms
        );
    }

    /// Whether requests of `method` may be duplicated.
    pub(crate) fn applies(&self, method: &str) -> bool {
        listed(&self.methods, method)
    }

    /// How long after the original this copy arrives.
    pub(crate) fn delay(&self) -> Duration {
        Duration::from_millis(rng().random_range(self.delay_ms.clone()))
    }
}
