//! Runs every Raft test once and reports virtual time, wall time and CPU time per test.
//!
//! ```text
// instructors
//! cargo bench -p tests --bench raft --features reference            # release
//! cargo bench -p tests --bench raft --features reference -- 2c      # one part
//! LAB_SEED=7 cargo bench -p tests --bench raft --features reference  # another seed
// /instructors
// students: //! cargo bench -p tests --bench raft            # release
// students: //! cargo bench -p tests --bench raft -- 2c      # one part
// students: //! LAB_SEED=7 cargo bench -p tests --bench raft  # another seed
//! ```
//!
//! A plain bench binary: it measures, it asserts nothing about speed.

#![allow(unsafe_code)] // one call to clock_gettime, for CPU time

use std::time::{Duration, Instant};

use tests::registry::TestCase;
use tests::suites::RAFT;

/// CPU time this thread has used.
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

struct Measured {
    virtual_time: Duration,
    wall: Duration,
    cpu: Option<Duration>,
}

fn measure(case: &TestCase, seed: u64) -> Measured {
    let cpu0 = thread_cpu_time();
    let wall0 = Instant::now();
    let ((), report) = labrpc::tester::Sim::new(seed)
        .time_limit(case.time_limit)
        .run_with_report((case.body)());
    let wall = wall0.elapsed();
    let cpu = thread_cpu_time()
        .zip(cpu0)
        .map(|(after, before)| after - before);
    Measured {
        virtual_time: report.virtual_time,
        wall,
        cpu,
    }
}

fn main() {
    let filter: Option<String> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|f| f.to_lowercase());
    let seed = std::env::var("LAB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "raft suite, seed {seed}, {profile} build, reference = {}",
        raft::IS_REFERENCE
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}",
        "test", "virtual s", "wall ms", "cpu ms", "virtual/wall"
    );
    let (mut total_virtual, mut total_wall, mut total_cpu) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for case in RAFT
        .iter()
        .filter(|c| filter.as_ref().is_none_or(|f| c.name.contains(f.as_str())))
    {
        let m = measure(case, seed);
        total_virtual += m.virtual_time;
        total_wall += m.wall;
        total_cpu += m.cpu.unwrap_or_default();
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>10} {:>12.0}",
            case.name,
            m.virtual_time.as_secs_f64(),
            m.wall.as_secs_f64() * 1e3,
            m.cpu
                .map_or("-".to_string(), |c| format!("{:.1}", c.as_secs_f64() * 1e3)),
            m.virtual_time.as_secs_f64() / m.wall.as_secs_f64()
        );
    }
    println!(
        "{:<34} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
        "total",
        total_virtual.as_secs_f64(),
        total_wall.as_secs_f64() * 1e3,
        total_cpu.as_secs_f64() * 1e3,
        total_virtual.as_secs_f64() / total_wall.as_secs_f64()
    );
}
