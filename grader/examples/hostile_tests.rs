//! A stand-in for a test binary whose "lab code" misbehaves, for the grader's own tests.
//!
//! It takes the arguments the grader gives a test binary (`--exact NAME ...`) and runs the
//! test NAME through labrpc's `Sim::run_test`, as the real suites do, so it writes the same
//! result lines and labrpc prints the same reports. Every test passes on every seed except
//! seed 3, where it misbehaves as its name says (`exits`, `aborts`, ...).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The seed on which each test misbehaves.
const BAD_SEED: u64 = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args
        .iter()
        .position(|a| a == "--exact")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    if name == "hangs" {
        // Never runs a seed: only the grader's wall-clock limit ends this.
        std::thread::sleep(Duration::from_secs(600));
    }
    labrpc::tester::Sim::builder()
        .test_name(name.clone())
        .watchdog(Duration::from_millis(300))
        .run_test(|| {
            let name = name.clone();
            async move {
                labrpc::sleep(Duration::from_millis(100)).await;
                if labrpc::seed() == BAD_SEED {
                    misbehave(&name).await;
                }
            }
        });
}

/// Does what the test `name` is named for.
async fn misbehave(name: &str) {
    match name {
        "passes" => {}
        "fails" => panic!("expected one leader, got none"),
        "exits" => std::process::exit(0),
        "aborts" => std::process::abort(),
        "overflows" => {
            std::hint::black_box(recurse(1));
        }
        "leaks" => {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(vec![0; 16 << 20]);
                std::hint::black_box(&kept);
            }
        }
        "spins" =>
        {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        "not_deterministic" => {
            // A value that survives from one run of the seed to the next, as a global does.
            static RUNS: AtomicU64 = AtomicU64::new(0);
            let run = RUNS.fetch_add(1, Ordering::SeqCst);
            labrpc::sleep(Duration::from_millis(1 + run)).await;
        }
        other => panic!("the hostile test binary has no test {other:?}"),
    }
}

#[allow(unconditional_recursion)] // on purpose: runaway recursion
fn recurse(depth: u64) -> u64 {
    let buffer = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + buffer[0]
}
