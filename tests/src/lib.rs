//! The tester harness for the labs, ported from the course's `config.go`, and helpers the
//! suites share.
//!
//! The test bodies live in [`suites`]; `tests/tests/` wraps each in a `#[test]` named with
//! its part as a suffix (`initial_election_2a`), so `cargo test -p tests 2a` runs one part.

pub mod raft_harness;
pub mod suites;

use std::future::Future;
use std::time::Duration;

/// The course's limit for one test: 120 s (virtual, here).
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Runs one test body in the simulation, over the seeds the environment asks for
/// (`LAB_SEED`, `LAB_RUNS`, `LAB_CHECK_DETERMINISM`; see the README).
pub fn run<F, Fut>(test: F)
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    labrpc::tester::Sim::builder()
        .time_limit(TEST_TIME_LIMIT)
        .run_test(test);
}
