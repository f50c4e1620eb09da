//! What the jail costs a child: runs the `hostile_tests` stand-in's `passes` test (one
//! seed, a few milliseconds) in a child many times, jailed and not, alternating, and
//! prints the median wall time of each. Build the stand-in first:
//!
//! ```sh
//! cargo build --release -p grader --examples
//! cargo run --release -p grader --example jail_overhead -- 200
//! ```

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use grader::child::{self, Batch, ChildSettings};
use grader::cli::Determinism;
use grader::sandbox::GroupSet;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let binary = std::env::current_exe()
        .expect("this example's path")
        .with_file_name("hostile_tests");
    assert!(
        binary.exists(),
        "build the examples first: {}",
        binary.display()
    );
    let scratch = std::env::temp_dir().join(format!("grader-jail-overhead-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let settings = |jailed| ChildSettings {
        timeout: Duration::from_secs(30),
        load_factor: 1,
        cpu_budget: |_| Duration::from_secs(10),
        memory: 1 << 30,
        check_determinism: Determinism::Off,
        max_failures: None,
        swarm: false,
        watchdog: Duration::from_secs(2),
        scratch: scratch.clone(),
        pages: std::sync::Mutex::new(scratch.join("pages")),
        jailed,
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    };
    let (jailed, free) = (settings(true), settings(false));
    let batch = Batch {
        binary: PathBuf::from(&binary),
        test: "passes",
        first: 1,
        count: 1,
    };
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, settings) in [&jailed, &free].into_iter().enumerate() {
            let started = Instant::now();
            let run = child::run(&batch, settings, true).expect("the child runs");
            assert!(run.records.iter().all(|r| r.outcome.passed()), "{run:?}");
            times[i].push(started.elapsed());
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    for (name, mut times) in ["jailed", "not jailed"].into_iter().zip(times) {
        times.sort();
        println!(
            "{name:>10}: median {:.2} ms per child over {rounds} children (min {:.2}, max {:.2})",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
        );
    }
}
