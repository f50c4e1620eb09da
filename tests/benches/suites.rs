//! Runs every test once (Lab 2 and Lab 3) and reports virtual time, wall time and CPU time
//! per test, with a total per part.
//!
//! ```text
// instructors
//! cargo bench -p tests --bench suites --features reference            # release
//! cargo bench -p tests --bench suites --features reference -- 2c      # one part
//! LAB_SEED=7 cargo bench -p tests --bench suites --features reference  # another seed
// /instructors
// students: //! cargo bench -p tests --bench suites            # release
// students: //! cargo bench -p tests --bench suites -- 2c      # one part
// students: //! LAB_SEED=7 cargo bench -p tests --bench suites  # another seed
//! ```
//!
//! A plain bench binary: it measures, it asserts nothing about speed.

#![allow(unsafe_code)] // one call to clock_gettime, for CPU time

use std::time::{Duration, Instant};

use tests::registry::TestCase;

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
        "seed {seed}, {profile} build, reference raft = {}, reference kvraft = {}",
        raft::IS_REFERENCE,
        kvraft::IS_REFERENCE
    );
    println!(
        "{:<66} {:>10} {:>10} {:>10} {:>12}",
        "test", "virtual s", "wall ms", "cpu ms", "virtual/wall"
    );
    let (mut total_virtual, mut total_wall, mut total_cpu) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut parts: Vec<(&str, Duration)> = Vec::new();
    for case in
        tests::suites::all().filter(|c| filter.as_ref().is_none_or(|f| c.name.contains(f.as_str())))
    {
        let m = measure(case, seed);
        match parts.last_mut() {
            Some((part, cpu)) if *part == case.part => *cpu += m.cpu.unwrap_or_default(),
            _ => parts.push((case.part, m.cpu.unwrap_or_default())),
        }
        total_virtual += m.virtual_time;
        total_wall += m.wall;
        total_cpu += m.cpu.unwrap_or_default();
        println!(
            "{:<66} {:>10.1} {:>10.1} {:>10} {:>12.0}",
            case.name,
            m.virtual_time.as_secs_f64(),
            m.wall.as_secs_f64() * 1e3,
            m.cpu
                .map_or("-".to_string(), |c| format!("{:.1}", c.as_secs_f64() * 1e3)),
            m.virtual_time.as_secs_f64() / m.wall.as_secs_f64()
        );
    }
    println!(
        "{:<66} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
        "total",
        total_virtual.as_secs_f64(),
        total_wall.as_secs_f64() * 1e3,
        total_cpu.as_secs_f64() * 1e3,
        total_virtual.as_secs_f64() / total_wall.as_secs_f64()
    );
    for (part, cpu) in parts {
        println!("part {part:<4} cpu {:.1} ms", cpu.as_secs_f64() * 1e3);
    }
}
