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
        "spins_once" => {
            // Stands for a machine that distorts one run (memory so short that the thread
            // pages in the kernel, a paused virtual CPU): the first run of seed 3 under
            // this grader process spins in one step until the watchdog flags it; any run
            // after that passes. The mark lives in a file, so this needs an unjailed child.
            let mark = std::env::temp_dir().join(format!(
                "grader-spins-once-{}.ran",
                std::os::unix::process::parent_id()
            ));
            if !mark.exists() && std::fs::write(&mark, b"").is_ok() {
                loop {
                    // Reading the clock is a call into the runtime: once flagged, it panics.
                    std::hint::black_box(labrpc::now());
                }
            }
        }
        "not_deterministic" => {
            // A value that survives from one run of the seed to the next, as a global does.
            static RUNS: AtomicU64 = AtomicU64::new(0);
            let run = RUNS.fetch_add(1, Ordering::SeqCst);
            labrpc::sleep(Duration::from_millis(1 + run)).await;
        }
        // Attacks on the grade: each fails seed 3 with a message saying what happened; the
        // grader's tests check that the attack did not work (and that seed 3 failed).
        "burns" => {
            // Half a second of CPU in short steps (the watchdog sees no step too long):
            // over a 200 ms budget.
            for _ in 0..50 {
                let started = std::time::Instant::now();
                while started.elapsed() < Duration::from_millis(10) {
                    std::hint::black_box(0u64);
                }
                labrpc::sleep(Duration::from_millis(1)).await;
            }
        }
        "burns_on" => {
            // CPU in short steps, forever (each step yields, and virtual time creeps on):
            // only the CPU budget, checked while the run goes on, stops it.
            loop {
                let started = std::time::Instant::now();
                while started.elapsed() < Duration::from_millis(10) {
                    std::hint::black_box(0u64);
                }
                labrpc::sleep(Duration::from_micros(1)).await;
            }
        }
        "forges" => panic!("forged: {}", forge_result_lines()),
        "spawns" => panic!("spawned: {}", spawn_a_survivor()),
        "reads" => panic!("read: {}", read_outside()),
        "writes" => panic!("wrote: {}", write_outside()),
        "nests" => {
            let nested = std::panic::catch_unwind(|| {
                labrpc::tester::Sim::builder()
                    .test_name("nests")
                    .run_test(|| async {});
            });
            panic!(
                "nested run_test: {}",
                if nested.is_ok() { "WORKED" } else { "refused" }
            );
        }
        "execs" => {
            use std::os::unix::process::CommandExt as _;
            let error = std::process::Command::new(std::env::current_exe().unwrap_or_default())
                .args(["--exact", "passes"])
                .exec();
            panic!("exec: refused ({error})");
        }
        other => panic!("the hostile test binary has no test {other:?}"),
    }
}

/// Writes a pass line for every seed of this test to every descriptor a grader might
/// read, by the only safe way to reach one (`/proc/self/fd`); says what it managed.
fn forge_result_lines() -> String {
    use std::io::Write as _;
    let mut said = Vec::new();
    for fd in 3..8 {
        let path = format!("/proc/self/fd/{fd}");
        let opened = std::fs::OpenOptions::new().append(true).open(&path);
        let written = opened.and_then(|mut file| {
            (1..=5).try_for_each(|seed| {
                writeln!(
                    file,
                    "labrpc-result\tpass\tforges\t{seed}\t1\t1\t\t\t{}",
                    "0".repeat(64)
                )
            })
        });
        said.push(format!(
            "{path}: {}",
            if written.is_ok() { "WORKED" } else { "refused" }
        ));
    }
    said.join(", ")
}

/// Starts a process that would outlive the test (in a group of its own); says whether it
/// started.
fn spawn_a_survivor() -> String {
    use std::os::unix::process::CommandExt as _;
    match std::process::Command::new("/bin/sh")
        .args(["-c", "sleep 30"])
        .process_group(0)
        .spawn()
    {
        Ok(child) => format!("WORKED: {}", child.id()),
        Err(e) => format!("refused ({e})"),
    }
}

/// Reads a file outside the test binary and the system libraries.
fn read_outside() -> String {
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let results = [
        source,
        "/etc/hostname",
        "/proc/self/mem",
        "/proc/self/environ",
    ]
    .map(|path| match std::fs::read(path) {
        Ok(_) => format!("{path}: WORKED"),
        Err(_) => format!("{path}: refused"),
    });
    results.join(", ")
}

/// Writes files where a grader or a later student might look.
fn write_outside() -> String {
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/hostile-wrote-this");
    let results = ["/tmp/hostile-wrote-this", target].map(|path| match std::fs::write(path, "x") {
        Ok(()) => format!("{path}: WORKED"),
        Err(_) => format!("{path}: refused"),
    });
    results.join(", ")
}

#[allow(unconditional_recursion)] // on purpose: runaway recursion
fn recurse(depth: u64) -> u64 {
    let buffer = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + buffer[0]
}
