//! The wall-clock watchdog: catches a task that never yields.
//!
//! A simulation runs one task at a time, so a task stuck in a loop without `.await` stops
//! the whole world: time freezes and the test hangs. A background thread (the one real
//! thread this crate starts) samples every running simulation; when one poll has lasted
//! longer than the configured limit, it
//!
//! 1. prints an explanation naming the node, and flags the world, so that the next time
//!    the stuck code calls into the runtime (reads the clock, draws a random number,
//!    spawns, sends an RPC) it panics with that explanation and only its test fails;
//! 2. if the code never calls into the runtime, waits as long again and then exits the
//!    process with the same explanation: a clear failure beats a silent hang.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Once, Weak};
use std::time::{Duration, Instant as WallInstant};

use parking_lot::Mutex;

/// How often the watchdog looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// What the watchdog can see of one running world.
pub(crate) struct Monitor {
    seed: u64,
    limit: Duration,
    /// Incremented at the start of every poll.
    polls: AtomicU64,
    in_poll: AtomicBool,
    node: AtomicU32,
    node_names: Mutex<Vec<String>>,
    /// Set by the watchdog; the stuck code panics at its next runtime call.
    flagged: AtomicBool,
    /// The watchdog's own bookkeeping: the poll count it last saw, and since when.
    sampled: Mutex<(u64, Option<WallInstant>)>,
    /// Set when the run is over, however it ended; the watchdog then forgets it.
    finished: AtomicBool,
}

impl Monitor {
    pub(crate) fn new(seed: u64, limit: Duration) -> Arc<Monitor> {
        let monitor = Arc::new(Monitor {
            seed,
            limit,
            polls: AtomicU64::new(0),
            in_poll: AtomicBool::new(false),
            node: AtomicU32::new(0),
            node_names: Mutex::new(Vec::new()),
            flagged: AtomicBool::new(false),
            sampled: Mutex::new((0, None)),
            finished: AtomicBool::new(false),
        });
        register(&monitor);
        monitor
    }

    /// Marks the run as over. A run that fails with a panic inside a poll never reaches
    /// `exit_poll`; without this the watchdog would later take it for a stuck task.
    pub(crate) fn finish(&self) {
        self.finished.store(true, Ordering::Release);
    }

    pub(crate) fn add_node_name(&self, name: &str) {
        self.node_names.lock().push(name.to_owned());
    }

    pub(crate) fn enter_poll(&self, node: u32) {
        self.polls
            .store(self.polls.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        self.node.store(node, Ordering::Relaxed);
        self.in_poll.store(true, Ordering::Release);
    }

    pub(crate) fn exit_poll(&self) {
        self.in_poll.store(false, Ordering::Release);
    }

    /// Panics (once) if the watchdog flagged the code running now.
    pub(crate) fn stop_if_flagged(&self) {
        if self.flagged.load(Ordering::Relaxed) && self.flagged.swap(false, Ordering::AcqRel) {
            panic!("{}", self.explanation());
        }
    }

    fn node_name(&self) -> String {
        let node = self.node.load(Ordering::Relaxed) as usize;
        self.node_names
            .lock()
            .get(node)
            .cloned()
            .unwrap_or_else(|| format!("#{node}"))
    }

    fn explanation(&self) -> String {
        format!(
            "labrpc watchdog: node {node} ran for more than {limit:?} of real time without \
             yielding (seed {seed}).\n\
             A simulation runs one task at a time, so a task that never reaches an .await \
             freezes the whole world: other nodes, the network and virtual time all stop.\n\
             This is almost always a loop without .await, for example waiting for a flag in \
             a busy loop. A loop that waits must sleep (labrpc::sleep(..).await) or await \
             a channel, so that time and the other tasks can move.",
            node = self.node_name(),
            limit = self.limit,
            seed = self.seed,
        )
    }

    /// One look by the watchdog thread.
    fn sample(&self, now: WallInstant) {
        if self.finished.load(Ordering::Acquire) {
            return;
        }
        let polls = self.polls.load(Ordering::Relaxed);
        let in_poll = self.in_poll.load(Ordering::Acquire);
        let mut sampled = self.sampled.lock();
        if !in_poll || polls != sampled.0 {
            *sampled = (polls, None);
            return;
        }
        let stuck_for = now - *sampled.1.get_or_insert(now);
        if stuck_for >= self.limit * 2 + Duration::from_secs(1) {
            shout(&format!(
                "\n{}\nThe stuck code never called into the runtime, so it cannot be stopped \
                 on its own; exiting the process.\n",
                self.explanation()
            ));
            std::process::exit(101);
        }
        if stuck_for >= self.limit && !self.flagged.swap(true, Ordering::AcqRel) {
            shout(&format!("\n{}\n", self.explanation()));
        }
    }
}

/// Writes straight to the process's stderr. `eprintln!` would be captured by the test
/// harness (threads inherit the capture of the test that started them), and the message
/// would be lost when the process exits.
pub(crate) fn shout(message: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
}

/// Monitors of the worlds running in this process.
static MONITORS: Mutex<Vec<Weak<Monitor>>> = Mutex::new(Vec::new());
static START: Once = Once::new();

fn register(monitor: &Arc<Monitor>) {
    MONITORS.lock().push(Arc::downgrade(monitor));
    START.call_once(|| {
        std::thread::Builder::new()
            .name("labrpc-watchdog".into())
            .spawn(watch)
            .expect("labrpc: cannot start the watchdog thread");
    });
}

fn watch() {
    loop {
        std::thread::sleep(SAMPLE_EVERY);
        let live: Vec<Arc<Monitor>> = {
            let mut monitors = MONITORS.lock();
            monitors.retain(|m| {
                m.upgrade()
                    .is_some_and(|m| !m.finished.load(Ordering::Acquire))
            });
            monitors.iter().filter_map(Weak::upgrade).collect()
        };
        let now = WallInstant::now();
        for monitor in live {
            monitor.sample(now);
        }
    }
}
