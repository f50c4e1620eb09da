//! A ten-minute virtual run of a five-server Raft cluster under churn, drawn as a timeline:
//! the size and speed check of the timeline page on a long run.
//!
//! ```text
//! cargo run --release -p tests --example ten_minutes [-- SEED]
//! ```
//!
//! It runs the Raft the `tests` package is built with (its cargo features choose).
//!
//! Every 1.5 s of virtual time one thing changes: a server crashes or restarts, is cut off
//! or reconnected, or the network turns lossy or reliable; meanwhile a client commits a
//! command every 100 ms when it can. At the end every server is restarted and reconnected,
//! and one last command must reach all five. The page is written as for `LAB_VIS=always`,
//! and its path and size are printed.

use std::time::Duration;

use labrpc::tester::timeline;
use labrpc::tester::{SharedRecording, Sim};
use rand::RngExt as _;
use tests::raft_harness::{Applier, Config};

/// How long the run lasts, in virtual time.
const RUN: Duration = Duration::from_secs(600);

fn main() {
    let seed = std::env::args()
        .nth(1)
        .map_or(1, |s| s.parse().expect("the seed is a number"));
    let started = std::time::Instant::now();
    let recording = SharedRecording::default();
    let path = labrpc::tester::timeline_path("ten_minutes", seed);
    let settings = Sim::new(seed)
        .test_name("ten_minutes")
        .no_time_limit()
        .record_into(recording.clone());
    settings.run(async {
        let servers = 5;
        let cfg = Config::new(servers, false, Applier::Plain);
        cfg.begin("ten minutes of churn");
        let mut command = 0;
        let mut next_change = labrpc::now() + Duration::from_millis(1500);
        let end = labrpc::now() + RUN;
        while labrpc::now() < end {
            if labrpc::now() >= next_change {
                next_change = labrpc::now() + Duration::from_millis(1500);
                churn(&cfg, servers);
            }
            command += 1;
            for i in 0..servers {
                if cfg.start(i, command).is_some() {
                    break;
                }
            }
            labrpc::sleep(Duration::from_millis(100)).await;
        }
        cfg.set_reliable(true);
        for i in 0..servers {
            if !cfg.is_up(i) {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        cfg.one(u64::MAX, servers, true).await;
        cfg.end();
    });
    let ran = started.elapsed();
    let recording = recording.recording();
    let events = recording.events.len();
    timeline::html::write(&recording, &path).expect("the page is written");
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "ten_minutes: seed {seed}: {events} events in {:.1} s of wall-clock time; the page \
         ({:.1} s to draw) is {:.2} MB: {}",
        ran.as_secs_f64(),
        (started.elapsed() - ran).as_secs_f64(),
        size as f64 / 1e6,
        path.display()
    );
}

/// One random change to the cluster.
fn churn(cfg: &Config, servers: usize) {
    let i = labrpc::rng().random_range(0..servers);
    match labrpc::rng().random_range(0..5) {
        0 if cfg.is_up(i) => cfg.crash1(i),
        0 | 1 => {
            if !cfg.is_up(i) {
                cfg.start1(i);
            }
            cfg.connect(i);
        }
        2 => cfg.disconnect(i),
        3 => cfg.set_reliable(false),
        _ => cfg.set_reliable(true),
    }
}
