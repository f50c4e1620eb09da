//! The watchdog: catches a task that never yields.
//!
//! A simulation runs one task at a time, so a task stuck in a loop without `.await`, or
//! blocked on a lock it already holds, stops the whole world: time freezes and the test
//! hangs. A background thread (the one real thread this crate starts) samples every
//! running simulation. When one poll has gone on too long it
//!
//! 1. prints an explanation naming the test, the seed, the replay command, the node and
//!    where the running task was spawned, and flags the world, so that the next time the
//!    stuck code calls into the runtime (reads the clock, draws a random number, spawns,
//!    sends an RPC) it panics with that explanation and only its test fails;
//! 2. if the code never calls into the runtime, waits as long again and then exits the
//!    process with the same explanation: a clear failure beats a silent hang.
//!
//! "Too long" is measured so that a loaded machine never raises a false alarm. On Linux
//! the watchdog reads the simulation thread's own CPU time and scheduler state: a poll is
//! stuck when it has used more than the limit of CPU time (a busy loop), or when the
//! thread has been asleep in the kernel for longer than the limit without leaving the poll
//! (blocked on a lock, or on `std::thread::sleep`). A thread that is merely waiting for a
//! CPU on a busy machine is neither. Elsewhere it falls back to wall-clock time.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Once, Weak};
use std::time::{Duration, Instant as WallInstant};

use parking_lot::Mutex;

use super::sim::Sim;
use super::task::Site;

/// How often the watchdog looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// What the watchdog can see of one running world.
pub(crate) struct Monitor {
    seed: u64,
    limit: Duration,
    test: String,
    replay: String,
    /// The simulation thread's id in the kernel, if this platform tells it.
    thread_id: Option<u64>,
    /// The simulation thread's CPU clock: its CPU time where `/proc` cannot be read (in a
    /// grader's jail).
    cpu_clock: Option<libc::clockid_t>,
    /// The CPU time the run may use (`LAB_CPU_BUDGET`), and the thread's CPU time when the
    /// run began.
    budget: Option<(Duration, Duration)>,
    /// Incremented at the start of every poll.
    polls: AtomicU64,
    in_poll: AtomicBool,
    node: AtomicU32,
    /// The spawn site number of the task being polled (`u32::MAX`: the test body).
    site: AtomicU32,
    node_names: Mutex<Vec<String>>,
    sites: Mutex<Vec<Site>>,
    /// Set by the watchdog; the stuck code panics at its next runtime call.
    flagged: AtomicBool,
    /// Why it was flagged.
    flagged_for: Mutex<Option<Stuck>>,
    /// The watchdog's own bookkeeping about the poll it last saw.
    sampled: Mutex<Sampled>,
    /// Set when the run is over, however it ended; the watchdog then forgets it.
    finished: AtomicBool,
}

/// What the watchdog remembers between two looks at one world.
#[derive(Default)]
struct Sampled {
    polls: u64,
    /// When this poll was first seen still running, and the thread's CPU time then.
    since: Option<(WallInstant, Option<Duration>)>,
    /// Since when the thread has been seen asleep in the kernel without interruption.
    asleep_since: Option<WallInstant>,
    /// Without `/proc`: the thread's CPU time at the last look, and since when it has not
    /// moved.
    still: Option<(Duration, WallInstant)>,
}

/// Without `/proc`, a thread whose CPU time stands still is asleep in the kernel or waiting
/// for a CPU, which cannot be told apart: it counts as blocked only after this many times
/// the limit, so that a loaded machine never raises a false alarm.
const STILL_FACTOR: u32 = 5;

/// Why the watchdog thinks a poll is stuck.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stuck {
    /// It has used this much CPU time without returning.
    Busy(Duration),
    /// It has been asleep in the kernel (a lock, a real sleep) for this long.
    Blocked(Duration),
    /// No way to tell CPU from wall time here: it has run for this long.
    Running(Duration),
    /// The whole run has used this much CPU time, more than its budget.
    OverBudget(Duration),
}

impl Stuck {
    fn how_long(self) -> Duration {
        match self {
            Stuck::Busy(d) | Stuck::Blocked(d) | Stuck::Running(d) | Stuck::OverBudget(d) => d,
        }
    }
}

impl Monitor {
    pub(crate) fn new(seed: u64, settings: &Sim) -> Arc<Monitor> {
        let monitor = Arc::new(Monitor {
            seed,
            limit: settings.watchdog,
            test: settings
                .test_name
                .clone()
                .unwrap_or_else(|| "a simulation".into()),
            replay: settings.replay_command(seed, false),
            thread_id: proc_stat::current_thread_id(),
            cpu_clock: super::cpu::thread_cpu_clock(),
            budget: settings
                .cpu_budget
                .zip(super::cpu::thread_cpu_clock().and_then(super::cpu::read_clock)),
            polls: AtomicU64::new(0),
            in_poll: AtomicBool::new(false),
            node: AtomicU32::new(0),
            site: AtomicU32::new(u32::MAX),
            node_names: Mutex::new(Vec::new()),
            sites: Mutex::new(Vec::new()),
            flagged: AtomicBool::new(false),
            flagged_for: Mutex::new(None),
            sampled: Mutex::new(Sampled::default()),
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

    /// Learns spawn site number `sites.len()`.
    pub(crate) fn add_site(&self, site: Site) {
        self.sites.lock().push(site);
    }

    /// Spawn site number `number`, if there is one.
    pub(crate) fn site(&self, number: u32) -> Option<Site> {
        self.sites.lock().get(number as usize).copied()
    }

    pub(crate) fn enter_poll(&self, node: u32, site: u32) {
        self.polls
            .store(self.polls.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        self.node.store(node, Ordering::Relaxed);
        self.site.store(site, Ordering::Relaxed);
        self.in_poll.store(true, Ordering::Release);
    }

    pub(crate) fn exit_poll(&self) {
        self.in_poll.store(false, Ordering::Release);
    }

    /// Panics (once) if the watchdog flagged the code running now.
    ///
    /// Inlined: every call into the runtime makes this check, and it is almost always one
    /// relaxed load; the rare stop is out of line.
    #[inline]
    pub(crate) fn stop_if_flagged(&self) {
        if self.flagged.load(Ordering::Relaxed) {
            self.stop_flagged();
        }
    }

    #[cold]
    #[inline(never)]
    fn stop_flagged(&self) {
        if self.flagged.swap(false, Ordering::AcqRel) {
            let stuck = self
                .flagged_for
                .lock()
                .unwrap_or(Stuck::Running(self.limit));
            panic!("{}", self.explanation(stuck));
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

    fn running_task(&self) -> String {
        let site = self.site.load(Ordering::Relaxed);
        if site == u32::MAX {
            return "the test body".into();
        }
        match self.sites.lock().get(site as usize) {
            Some(place) => place.task_on(&self.node_name()),
            None => format!("a task of {}", self.node_name()),
        }
    }

    fn explanation(&self, stuck: Stuck) -> String {
        if let (Stuck::OverBudget(used), Some((budget, _))) = (stuck, self.budget) {
            return format!(
                "labrpc: over its CPU budget: {test} (seed {seed}) has used {used:.1?} of CPU \
                 time, more than the {budget:.1?} one run of this test may use \
                 (LAB_CPU_BUDGET). Look for busy loops, or work that grows with the log or \
                 with time.\nreplay:  {replay}",
                test = self.test,
                seed = self.seed,
                replay = self.replay,
            );
        }
        let what = match stuck {
            Stuck::Busy(d) => format!("has used {d:.1?} of CPU time in one poll without yielding"),
            Stuck::Blocked(d) => {
                format!("has been blocked for {d:.1?} in one poll, without using the CPU")
            }
            Stuck::Running(d) => format!("has run for more than {d:.1?} without yielding"),
            Stuck::OverBudget(d) => format!("has used {d:.1?} of CPU time in this run"),
        };
        let causes = match stuck {
            Stuck::Blocked(_) => {
                "The usual cause is a lock: one taken again while already held (parking_lot \
                 and std mutexes are not re-entrant: a function that locks, calling another \
                 that locks the same mutex, waits for itself forever), or held by an OS thread \
                 the lab code started. Less often, std::thread::sleep or other blocking I/O: \
                 use labrpc::sleep(..).await."
            }
            _ => {
                "The usual causes: a loop without .await (for example waiting for a flag in a \
                 busy loop: a loop that waits must sleep with labrpc::sleep(..).await or await \
                 a channel, so that time and the other tasks can move), or a lock taken again \
                 while held or held across .await."
            }
        };
        format!(
            "labrpc watchdog: in {test} (seed {seed}), {running} {what}.\n\
             A simulation runs one task at a time, so a task that never reaches an .await \
             freezes the whole world: other nodes, the network and virtual time all stop.\n\
             {causes}\n\
             replay:  {replay}",
            test = self.test,
            seed = self.seed,
            running = self.running_task(),
            replay = self.replay,
        )
    }

    /// How stuck the current poll is, from what the watchdog saw before.
    fn measure(&self, sampled: &mut Sampled, now: WallInstant) -> Stuck {
        let from_proc = self.thread_id.and_then(proc_stat::read);
        let stat = from_proc.or_else(|| {
            let cpu_time = super::cpu::read_clock(self.cpu_clock?)?;
            Some(proc_stat::ThreadStat {
                cpu_time,
                asleep: false,
            })
        });
        let (since, cpu0) = *sampled.since.get_or_insert((now, stat.map(|s| s.cpu_time)));
        let Some(stat) = stat else {
            return Stuck::Running(now - since);
        };
        if from_proc.is_none() {
            let (cpu, still_since) = *sampled.still.get_or_insert((stat.cpu_time, now));
            if stat.cpu_time != cpu {
                sampled.still = Some((stat.cpu_time, now));
            } else if now - still_since >= self.limit * STILL_FACTOR {
                return Stuck::Blocked(now - still_since);
            }
        }
        if stat.asleep {
            let asleep_since = *sampled.asleep_since.get_or_insert(now);
            let blocked = now - asleep_since;
            if blocked >= self.limit {
                return Stuck::Blocked(blocked);
            }
        } else {
            sampled.asleep_since = None;
        }
        Stuck::Busy(stat.cpu_time.saturating_sub(cpu0.unwrap_or(stat.cpu_time)))
    }

    /// One look by the watchdog thread.
    fn sample(&self, now: WallInstant) {
        if self.finished.load(Ordering::Acquire) {
            return;
        }
        // A run over its CPU budget, however it spends it (busy, but yielding), fails at its
        // next call into the runtime.
        if let (Some((budget, start)), Some(clock)) = (self.budget, self.cpu_clock)
            && let Some(now_cpu) = super::cpu::read_clock(clock)
            && now_cpu.saturating_sub(start) > budget
            && self.flagged_for.lock().is_none()
        {
            let used = Stuck::OverBudget(now_cpu.saturating_sub(start));
            *self.flagged_for.lock() = Some(used);
            self.flagged.store(true, Ordering::Release);
            return;
        }
        let polls = self.polls.load(Ordering::Relaxed);
        let in_poll = self.in_poll.load(Ordering::Acquire);
        let mut sampled = self.sampled.lock();
        if !in_poll || polls != sampled.polls {
            *sampled = Sampled {
                polls,
                ..Sampled::default()
            };
            return;
        }
        let stuck = self.measure(&mut sampled, now);
        if stuck.how_long() >= self.limit * 2 + Duration::from_secs(1) {
            let explanation = self.explanation(stuck);
            let timeline =
                super::events::write_unfinished(Some((&self.test, self.seed)), &explanation);
            shout(&format!(
                "\n{explanation}\nThe stuck code never called into the runtime, so it cannot be \
                 stopped on its own; exiting the process.\n{timeline}"
            ));
            super::exit_guard::deliberate_exit(101);
        }
        if stuck.how_long() >= self.limit && !self.flagged.load(Ordering::Acquire) {
            *self.flagged_for.lock() = Some(stuck);
            self.flagged.store(true, Ordering::Release);
            shout(&format!("\n{}\n", self.explanation(stuck)));
        }
    }
}

/// The kernel's view of a thread, on Linux (`/proc`).
mod proc_stat {
    use std::time::Duration;

    /// What `/proc/self/task/<tid>/stat` says of a thread.
    #[derive(Clone, Copy)]
    pub(super) struct ThreadStat {
        /// User plus system CPU time.
        pub(super) cpu_time: Duration,
        /// Sleeping in the kernel (state `S` or `D`), rather than running or waiting for
        /// a CPU (`R`).
        pub(super) asleep: bool,
    }

    /// The kernel's id of the calling thread.
    pub(super) fn current_thread_id() -> Option<u64> {
        // "/proc/thread-self" links to "<pid>/task/<tid>".
        let link = std::fs::read_link("/proc/thread-self").ok()?;
        link.file_name()?.to_str()?.parse().ok()
    }

    /// Reads a thread's CPU time and state.
    pub(super) fn read(thread_id: u64) -> Option<ThreadStat> {
        /// Linux reports CPU times in USER_HZ ticks, 100 per second on every platform
        /// Rust supports.
        const TICKS_PER_SECOND: u64 = 100;
        let text = std::fs::read_to_string(format!("/proc/self/task/{thread_id}/stat")).ok()?;
        // The command name (field 2) may contain spaces and parentheses: skip past it.
        let fields: Vec<&str> = text
            .get(text.rfind(')')? + 1..)?
            .split_whitespace()
            .collect();
        let state = fields.first()?;
        let user: u64 = fields.get(11)?.parse().ok()?;
        let system: u64 = fields.get(12)?.parse().ok()?;
        let ticks = user + system;
        Some(ThreadStat {
            cpu_time: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
            asleep: matches!(*state, "S" | "D"),
        })
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
