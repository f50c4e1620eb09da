//! The Raft tester: a cluster of Raft servers on a simulated network, and the checks the
//! 2A–2D tests are made of. A port of the course's `raft/config.go`, with the same helpers
//! and the same numbers (`one`, `check_one_leader`, `wait`, `crash1`, `start1`, ...).
//!
//! One job per file:
//!
//! - `cluster.rs`: starting, crashing, connecting and disconnecting servers, the network's
//!   settings, and the calls the tester makes on a server (`start`, `state`);
//! - `apply.rs`: what each server applied, and the applier that checks it;
//! - `snapshots.rs`: the 2D applier, which also makes and installs snapshots;
//! - `checks.rs`: the checks (`check_one_leader`, `n_committed`, `wait`, `one`, ...);
//! - `report.rs`: the per-test description and summary line, and the counters;
//! - `commands.rs`: how the tester encodes the commands it submits;
//! - `hints.rs`: what usually causes the failures that report a consequence (an entry that
//!   changed, no agreement, no leader): the rules of the paper to look at, most likely first;
//! - `worst_moments.rs`: the 2X fault plans (crashes right after a reply, with restarts;
//!   stale duplicate requests).
//!
//! The invariant monitors (`crate::monitors`) watch every server all the time, after each
//! of its steps and on each apply, in every test.
//!
//! Every failure panics with the course's message, or a more helpful one, on the tester's
//! task; the runner adds the seed and the command that replays it. Apply errors found by a
//! server's applier are recorded, and reported by the next check that looks (as in the
//! course, where `nCommitted` reports them), so they fail only their own test.
//!
//! What the tester does (connect, crash, checks and their outcomes) is logged with
//! `tracing` under the target `tester`: `LAB_LOG=debug` shows it beside Raft's own logs.

/// Fails the test: logs the message under the target `tester`, so that it shows among the
/// logs right after what led to it, then panics with it.
macro_rules! fail {
    ($($message:tt)*) => {{
        let message = format!($($message)*);
        $crate::events::failed(message.as_str());
        panic!("{message}")
    }};
}

mod apply;
mod checks;
mod cluster;
mod commands;
pub(crate) mod hints;
mod report;
mod snapshots;
mod worst_moments;

use std::sync::Arc;
use std::time::Duration;

use labrpc::tester::Network;

use crate::ends::server_name;
use crate::monitors::StateMonitor;
use parking_lot::Mutex;

pub use self::commands::{MAX_2D_COMMAND_BYTES, encode_command, encode_padded_command};

use self::apply::Applied;
use self::cluster::Servers;
use self::report::Report;
use self::worst_moments::WorstMoments;

/// The course's `RaftElectionTimeout`: an election must complete within about this long
/// once it is possible.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The snapshot applier asks Raft to snapshot after every this many entries.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// How many log entries the course's 2D bound lets a server keep: its 2000 bytes of Go gob
/// are 82 bytes of fixed cost plus about 20 bytes per entry, so about 96 entries.
pub const COURSE_MAX_LOG_ENTRIES: usize = 96;

/// Upper bound for the Raft state a 2D server may keep once snapshots are in use: the
/// course's [`COURSE_MAX_LOG_ENTRIES`] entries, in our encoding.
///
/// The course's 2000 bytes cannot be kept as they are: postcard is denser than gob, and
/// 2000 of its bytes hold about 165 entries, so a Raft that trims its log too late would
/// pass here and fail in the course. The tester cannot count the entries in a state it
/// cannot decode, so the bound stays in bytes, rescaled to what 96 entries take here. A
/// saved entry is its command (at most [`MAX_2D_COMMAND_BYTES`], 10 bytes), the command's
/// length (1 byte), its term (1 byte) and, in many Rafts, its index (2 bytes): 14 bytes.
/// The fixed part (term, vote, snapshot index and term, the log's length) gets 64 bytes,
/// several times what it needs. So 64 + 96 × 14 = 1408 bytes: about 96 entries for a Raft
/// that saves an index with each entry, about 115 for one that does not. (The reference
/// saves at most 115 bytes in 2D, some 8 entries: it trims at every snapshot.)
pub const MAX_LOG_SIZE: usize = 64 + COURSE_MAX_LOG_ENTRIES * (MAX_2D_COMMAND_BYTES + 4);

/// Which applier reads each server's apply channel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Applier {
    /// Checks commands only (2A–2C).
    Plain,
    /// Also makes a snapshot every [`SNAPSHOT_INTERVAL`] entries and installs snapshots
    /// Raft sends up (2D).
    Snapshot,
}

/// A cluster of Raft servers on a simulated network, as the tests see it: the course's
/// `cfg`.
///
/// Cloning gives another handle to the same cluster, for the tasks a test spawns (the
/// course's goroutines share `cfg` the same way); every handle sees the current state.
///
/// Every call the tester makes on a server (`start`, `state`, `kill`, and `snapshot` from
/// the 2D applier) runs in that server's node context, so whatever it spawns belongs to
/// the server and dies with it.
///
/// When the last handle goes (at the end of the test), every server still running is
/// killed, as the course's `cleanup` does; then the world ends.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

/// What the handles of one cluster share.
struct Inner {
    /// Number of servers.
    n: usize,
    /// Which applier each server gets.
    applier: Applier,
    /// The extensions every server runs (part 2E; off in the course's tests).
    options: raft::Options,
    net: Network,
    /// Which servers run, which are connected, and their stable storage.
    servers: Mutex<Servers>,
    /// What the appliers have seen; shared with the appliers, which run on the servers'
    /// nodes.
    applied: Arc<Mutex<Applied>>,
    /// The state monitor, shared with the observers of the servers' nodes.
    states: Arc<Mutex<StateMonitor>>,
    /// What `begin` recorded, for the summary line.
    report: Mutex<Report>,
    /// The tester's side of the faults at the worst moments.
    worst: Mutex<WorstMoments>,
}

impl Config {
    /// `make_config`: `n` servers, all started and connected. The network is reliable
    /// unless `unreliable`; long delays are always on, to catch leaders that send RPCs
    /// one after another.
    pub fn new(n: usize, unreliable: bool, applier: Applier) -> Config {
        Config::with_options(n, unreliable, applier, raft::Options::FIGURE_2)
    }

    /// [`Config::new`], with every server started by `Raft::with_options(.., options)`
    /// (part 2E).
    pub fn with_options(
        n: usize,
        unreliable: bool,
        applier: Applier,
        options: raft::Options,
    ) -> Config {
        Config::with_spares(n, unreliable, applier, options, &[])
    }

    /// [`Config::with_options`], with the servers `spares` started as fresh machines that
    /// will join the cluster (part 2F: `Options::joining`, so with no configuration) and
    /// left disconnected: they have never voted nor stored anything when a test connects
    /// them and adds them. (A spare is in the other servers' initial configuration, which
    /// holds every server: a test removes it first.)
    ///
    /// Only a server that has never taken part can join with empty storage: one that voted
    /// or acknowledged entries and lost them could make a majority of a configuration that
    /// a server left behind still counts, and elect a leader without committed entries.
    pub fn with_spares(
        n: usize,
        unreliable: bool,
        applier: Applier,
        options: raft::Options,
        spares: &[usize],
    ) -> Config {
        let net = Network::new();
        net.set_reliable(!unreliable);
        net.set_long_delays(true);
        tracing::info!(
            target: "tester",
            servers = n,
            reliable = !unreliable,
            ?applier,
            ?options,
            "make_config"
        );
        let cfg = Config {
            inner: Arc::new(Inner {
                n,
                applier,
                options,
                net,
                servers: Mutex::new(Servers::new(n)),
                applied: Arc::new(Mutex::new(Applied::new(n))),
                states: Arc::new(Mutex::new(StateMonitor::new(n))),
                report: Mutex::new(Report::default()),
                worst: Mutex::new(WorstMoments::default()),
            }),
        };
        for &i in spares {
            cfg.inner.servers.lock().joining[i] = true;
        }
        for i in 0..n {
            cfg.start1(i);
        }
        for i in (0..n).filter(|i| !spares.contains(i)) {
            cfg.connect(i);
        }
        // A livelock (or any failure of labrpc's own) that comes while the servers send
        // messages without end at one instant says so first, with what usually causes it.
        // (`try_lock`: a failure may come while the monitor is in use.)
        let states = cfg.inner.states.clone();
        labrpc::tester::note_on_failure(move || states.try_lock().and_then(|s| s.storm()));
        cfg
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.inner.n
    }
}

impl Drop for Inner {
    /// The course's `cleanup`: kills every server still running, in its node context.
    /// Skipped while a failed test unwinds (a panic inside `drop` would abort the whole
    /// test binary); the world then drops the servers' tasks anyway.
    ///
    /// The kills wait for the end of the run, after labrpc's check that no server is
    /// stuck (its tasks all waiting for something that can never happen: a deadlock), so
    /// that the check sees the servers as the test left them: a `kill()` may
    /// legitimately leave a server's node with nothing to wake its applier.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let running = self.servers.get_mut().take_all_running();
        labrpc::tester::at_end_of_run(move || {
            tracing::debug!(target: "tester", "cleanup: killing every running server");
            for running in running {
                running.node.enter(|| running.raft.kill());
            }
        });
    }
}

/// Polls every 10 ms of virtual time, for at most `within`, until `done` holds; returns
/// whether it did (the 2E and 2F tests' bounded waits).
pub async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = labrpc::now() + within;
    loop {
        if done() {
            return true;
        }
        if labrpc::now() >= deadline {
            return false;
        }
        labrpc::sleep(Duration::from_millis(10)).await;
    }
}

/// `S0, S2, S3`, or `none`.
fn names(ids: impl IntoIterator<Item = usize>) -> String {
    let list: Vec<String> = ids.into_iter().map(server_name).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}
