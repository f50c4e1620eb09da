//! Starting simulations: settings, one seed, or the seeds a test run asks for.

use std::future::Future;
use std::hash::BuildHasher;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::context;
use super::events::{self, SharedRecording, Vis};
use super::exit_guard;
use super::fingerprint::{Divergence, Recorder, SharedRecorder};
use super::watchdog::{Monitor, shout};
use super::world::{RunReport, World};
use crate::log;

/// Settings for simulations, and the way to run them. (Tester side.)
///
/// ```
/// use std::time::Duration;
/// let answer = labrpc::tester::Sim::new(1).no_time_limit().run(async {
///     labrpc::sleep(Duration::from_secs(3600)).await; // an hour of virtual time: instant
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Debug)]
pub struct Sim {
    seed: Option<u64>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) watchdog: Duration,
    /// The CPU time one run may use (`LAB_CPU_BUDGET`; a grader's budget); `None`: any.
    pub(crate) cpu_budget: Option<Duration>,
    pub(crate) livelock_polls: u64,
    pub(crate) stuck_node_after: Option<Duration>,
    pub(crate) test_name: Option<String>,
    cargo_args: Option<String>,
    /// Networks draw a swarm fault plan (`LAB_SWARM=1`).
    pub(crate) swarm: bool,
    /// Where the run's events go (a fresh recording if `None`); the runner keeps a handle
    /// to draw the run after it ends, however it ends.
    recording: Option<SharedRecording>,
    /// Messages to record (see [`Sim::record_messages`]), besides what `LAB_MESSAGES` asks.
    pub(crate) messages: Option<Vec<String>>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim {
            seed: None,
            time_limit: Some(Self::DEFAULT_TIME_LIMIT),
            watchdog: Self::DEFAULT_WATCHDOG,
            cpu_budget: None,
            livelock_polls: Self::DEFAULT_LIVELOCK_POLLS,
            stuck_node_after: Some(Self::DEFAULT_STUCK_NODE_AFTER),
            test_name: None,
            cargo_args: None,
            swarm: false,
            recording: None,
            messages: None,
        }
    }
}

impl Sim {
    /// The course's limit per test: 120 s (of virtual time, here).
    pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(120);
    /// How long one poll may run in real time before the watchdog steps in.
    pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(5);
    /// How many polls may run without virtual time moving before it is called a livelock.
    pub const DEFAULT_LIVELOCK_POLLS: u64 = 10_000_000;

    /// How long a node may sit with live tasks, no timer and nothing run before it is
    /// declared stuck (an async deadlock) while the run goes on: 5 s of virtual time. (A
    /// node stuck when the test ends fails the run at once: see
    /// [`Sim::stuck_node_after`].)
    pub const DEFAULT_STUCK_NODE_AFTER: Duration = Duration::from_secs(5);

    /// Settings for a run of `seed`, with the defaults.
    pub fn new(seed: u64) -> Sim {
        Sim {
            seed: Some(seed),
            ..Sim::default()
        }
    }

    /// Settings with the defaults and no seed yet: [`Sim::run_test`] picks the seeds.
    pub fn builder() -> Sim {
        Sim::default()
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Sim {
        self.seed = Some(seed);
        self
    }

    /// Fails the run if its virtual time would pass `limit` (default 120 s).
    pub fn time_limit(mut self, limit: Duration) -> Sim {
        self.time_limit = Some(limit);
        self
    }

    /// Removes the virtual time limit. A test that never finishes then runs forever.
    pub fn no_time_limit(mut self) -> Sim {
        self.time_limit = None;
        self
    }

    /// How long one poll may run in real time before the watchdog stops it (default 5 s).
    pub fn watchdog(mut self, limit: Duration) -> Sim {
        self.watchdog = limit;
        self
    }

    /// Fails the run when a node has live tasks, none of which has run or has a timer
    /// set, for `limit` of virtual time (default 5 s); `None` turns this check off, and
    /// the one at the end of the run too, for nodes that legitimately wait for the tester
    /// with no timer.
    ///
    /// # Stuck at the end of a run
    ///
    /// When the test body returns, every live node (the tester's excepted) is checked
    /// once more, without the grace of `limit`: a test shorter than that would otherwise
    /// pass with every server frozen. A node is *stuck* if it has tasks and none of them
    /// can ever run again by itself:
    ///
    /// - none is ready to run (woken, and waiting for its turn);
    /// - none has a timer set (a sleep, a timeout);
    /// - none waits for the reply of an RPC whose handler runs on a node that is not
    ///   stuck itself (a reply that may still come; a lost message, a dead server or a
    ///   cut link has already woken the caller).
    ///
    /// What its tasks wait for, then, only one of its own waiting tasks could give: an
    /// async deadlock (a lock taken twice, a channel whose sender is kept but never
    /// used). A node with no task, a dead node and the tester's node are never stuck. A
    /// stuck node fails the run, which names it and where its tasks were spawned.
    ///
    /// A node whose only timers are messages on the wire (its last calls to unreachable
    /// servers, which fail after up to 7 s with long delays) is judged once they have
    /// arrived: the lab nodes run on past the end of the test until then (the tester's
    /// tasks and observers no longer run), and it is stuck if it is by then. Otherwise
    /// nothing more runs. The check itself draws no random number and records nothing,
    /// and any running on comes after the run's [`RunReport`] is taken: a run that passes
    /// is the same run, event for event, as without the check.
    ///
    /// A harness that stops its servers when the test ends (the course's `cleanup`) does
    /// it in [`at_end_of_run`](super::at_end_of_run), after this check: a server's
    /// `kill()` may legitimately leave its node with tasks nothing will wake.
    pub fn stuck_node_after(mut self, limit: Option<Duration>) -> Sim {
        self.stuck_node_after = limit;
        self
    }

    /// How many polls may run at one instant of virtual time before the run is declared a
    /// livelock (default ten million).
    pub fn livelock_polls(mut self, polls: u64) -> Sim {
        self.livelock_polls = polls;
        self
    }

    /// Runs `future` as the test body in a fresh world and returns its output.
    ///
    /// # Panics
    ///
    /// If no seed was set, and on any failure inside the simulation (a panicking task,
    /// deadlock, livelock, time limit, watchdog).
    pub fn run<F: Future>(self, future: F) -> F::Output {
        self.run_with_report(future).0
    }

    /// Like [`Sim::run`], and also returns the run's [`RunReport`] (trace hash and
    /// counts).
    pub fn run_with_report<F: Future>(self, future: F) -> (F::Output, RunReport) {
        self.run_recorded(future, None)
    }

    fn run_recorded<F: Future>(
        self,
        future: F,
        recorder: Option<SharedRecorder>,
    ) -> (F::Output, RunReport) {
        let seed = self
            .seed
            .expect("labrpc: Sim::run needs a seed: use Sim::new(seed) or .seed(seed)");
        let mut settings = self;
        if settings.test_name.is_none() {
            settings.test_name = Some(current_test_name());
        }
        let test = settings.test_name.clone().unwrap_or_default();
        let replay = settings.replay_command(seed, false);
        let recording = settings.recording.clone().unwrap_or_default();
        recording.start(&test, seed, &replay);
        let _unfinished = events::unfinished(recording.clone(), &test, seed);
        let world = Rc::new(World::new(settings, seed, recorder, recording));
        world.init();
        let _running = exit_guard::running(world.id, &test, seed, &replay);
        let _finished = FinishOnDrop(world.monitor.clone());
        let _log = log::install();
        let _entered = context::enter(world.clone());
        world.run(future)
    }

    /// Makes every network of the run draw a swarm fault plan: each fault number between
    /// the course's and none (see [`FaultPlan`](crate::net::faults::FaultPlan)). `LAB_SWARM=1`
    /// turns it on in [`Sim::run_test`].
    pub fn swarm(mut self, on: bool) -> Sim {
        self.swarm = on;
        self
    }

    /// Records the run's events into `recording` (replacing what it held), where the
    /// caller can read them after the run, however it ended ([`EventLog::recording`]): to
    /// draw a run of [`Sim::run`] with [`timeline::html::write`]. ([`Sim::run_test`] draws
    /// its runs itself.)
    ///
    /// [`EventLog::recording`]: super::EventLog::recording
    pub fn record_into(mut self, recording: SharedRecording) -> Sim {
        self.recording = Some(recording);
        self
    }

    /// Records the messages of the methods whose names contain one of `methods` (all
    /// messages if it is empty), as `LAB_MESSAGES` does: drawn as arrows on the timeline.
    pub fn record_messages<S: Into<String>>(mut self, methods: impl IntoIterator<Item = S>) -> Sim {
        self.messages = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Names the test in failure reports, the replay command and the simulation thread
    /// (default: the name of the thread that calls [`Sim::run_test`], which `cargo test`
    /// sets to the test's name).
    pub fn test_name(mut self, name: impl Into<String>) -> Sim {
        self.test_name = Some(name.into());
        self
    }

    /// What the replay command passes to `cargo test` before `--` (default: `-p` and the
    /// package being tested), e.g. `"--release -p tests"`.
    pub fn cargo_args(mut self, args: impl Into<String>) -> Sim {
        self.cargo_args = Some(args.into());
        self
    }

    /// Runs a test the way the environment asks, and reports failures with their seed.
    ///
    /// - `LAB_SEED=n` runs seed `n` (otherwise a fresh seed is drawn for every run);
    /// - `LAB_RUNS=k` runs `k` seeds (from `LAB_SEED` upwards, if it is set), stopping at
    ///   the first failure; the first seed also runs twice and the two runs are compared,
    ///   so code that does not replay is caught without asking;
    /// - `LAB_CHECK_DETERMINISM=1` runs every seed twice and fails if the two runs differ,
    ///   saying where they first diverged;
    /// - `LAB_LOG=debug` (or any `tracing` filter) prints logs with virtual time and node;
    /// - for graders: `LAB_KEEP_GOING=1` runs every seed despite failures, `LAB_RESULTS=file`
    ///   appends a line per seed, `LAB_SWARM=1` draws swarm fault plans, and
    ///   `LAB_WATCHDOG=2s` sets the watchdog's limit.
    ///
    /// Each seed runs on a thread of its own, named after the test and the seed, so that
    /// even a stack overflow, which ends the process, says which test and seed it was.
    /// What the test [`say`]s is shown for a single run, and for the failing seed of many;
    /// a passing run of many seeds says only how many passed. [`warn`]ings are shown at
    /// once, past the test harness's output capture.
    ///
    /// `make_test` builds the test body; it is called once per run. On failure this
    /// prints the seed and the command that replays it, then fails the test.
    pub fn run_test<F, Fut>(self, make_test: F)
    where
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = ()>,
    {
        // First, before any lab code runs: a grader's key is read and its pipe closed.
        let grader = super::grading::take();
        let plan = SeedPlan::from_env();
        install_panic_hook();
        let test = self.test_name.clone().unwrap_or_else(current_test_name);
        let swarm = self.swarm || plan.swarm;
        let mut settings = self.test_name(test.clone()).swarm(swarm);
        if let Some(limit) = plan.watchdog {
            settings = settings.watchdog(limit);
        }
        settings.cpu_budget = plan.cpu_budget;
        let mut failed: Vec<u64> = Vec::new();
        let vis = Vis::from_env();
        let mut drawn_a_failure = false;
        for (i, seed) in plan.seeds().enumerate() {
            let recording = SharedRecording::default();
            let mut settings = settings.clone().seed(seed);
            settings.recording = Some(recording.clone());
            let check = plan
                .check_determinism
                .unwrap_or(i == 0 && (plan.runs > 1 || plan.check_first));
            let (result, output) = run_on_own_thread(&test, seed, || {
                let cpu0 = super::cpu::thread_cpu_time();
                let report = if check {
                    check_determinism(&settings, &make_test)
                } else {
                    settings.clone().run_with_report(make_test()).1
                };
                let cpu = super::cpu::thread_cpu_time()
                    .zip(cpu0)
                    .map(|(after, before)| after.saturating_sub(before));
                (report.virtual_time, cpu)
            });
            let outcome = match &result {
                Ok((virtual_time, cpu)) => SeedOutcome::Passed {
                    virtual_time: *virtual_time,
                    cpu: *cpu,
                },
                Err(panic) => SeedOutcome::Failed {
                    message: panic_text(panic.as_ref()),
                },
            };
            let this_failed = matches!(outcome, SeedOutcome::Failed { .. });
            let wanted = match vis {
                Vis::Always => true,
                Vis::OnFailure => this_failed,
                Vis::FirstFailure => this_failed && !drawn_a_failure,
                Vis::Never => false,
            };
            drawn_a_failure |= this_failed && wanted;
            let timeline = draw(&recording, &outcome, wanted, &test, seed);
            if let Some(grader) = grader {
                // The page went to the grader's page file, which names its seed itself.
                grader.record(&result_line(&test, seed, &outcome, None));
            } else if let Some(results) = &plan.results {
                results.record(&result_line(&test, seed, &outcome, timeline.as_deref()));
            }
            match result {
                Err(panic) => {
                    eprint!("{output}");
                    eprintln!("{}", settings.replay_hint(seed, check));
                    if let Some(timeline) = &timeline {
                        eprintln!("{timeline}");
                    }
                    if !plan.keep_going {
                        resume_unwind(panic);
                    }
                    failed.push(seed);
                    if plan
                        .max_failures
                        .is_some_and(|max| failed.len() as u64 >= max)
                    {
                        let next = seed.wrapping_add(1);
                        if let Some(grader) = grader {
                            // The seeds not run are the grader's to skip, not crashes.
                            grader.record(&format!("labrpc-stopped\t{test}\t{next}"));
                        }
                        eprintln!(
                            "labrpc: {test}: stopped after {} failed seeds (LAB_MAX_FAILURES)",
                            failed.len()
                        );
                        break;
                    }
                }
                Ok(_) if plan.runs == 1 => {
                    print!("{output}");
                    if let Some(timeline) = &timeline {
                        println!("{timeline}");
                    }
                }
                Ok(_) => {}
            }
        }
        if let Some(grader) = grader {
            grader.close();
        }
        if !failed.is_empty() {
            panic!(
                "labrpc: {test}: {} of {} seeds failed: {}",
                failed.len(),
                plan.runs,
                failed
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if plan.runs > 1 {
            let first = plan.first.map_or_else(String::new, |f| {
                format!(" ({f}..={})", f.wrapping_add(plan.runs - 1))
            });
            shout(&format!(
                "labrpc: {test}: all {} seeds passed{first}\n",
                plan.runs
            ));
        }
    }

    /// The lines printed after a failure: the seed and how to replay it.
    fn replay_hint(&self, seed: u64, determinism: bool) -> String {
        let replay = self.replay_command(seed, determinism);
        let logs =
            self.replay_command(seed, false)
                .replacen("cargo test", "LAB_LOG=debug cargo test", 1);
        format!(
            "\nlabrpc: failed with seed {seed}\n\
             replay:  {replay}\n\
             logs:    {logs} --nocapture\n"
        )
    }

    /// The command that replays `seed` of this test.
    pub(crate) fn replay_command(&self, seed: u64, determinism: bool) -> String {
        let args = self.cargo_args.clone().unwrap_or_else(|| {
            let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".into());
            format!("-p {package}")
        });
        let test = self.test_name.as_deref().unwrap_or("<test name>");
        let check = if determinism {
            "LAB_CHECK_DETERMINISM=1 "
        } else {
            ""
        };
        let swarm = if self.swarm { "LAB_SWARM=1 " } else { "" };
        format!("LAB_SEED={seed} {swarm}{check}cargo test {args} -- --exact {test}")
    }
}

/// After a seed's run: saves its events if `LAB_EVENTS` asks, and draws its timeline if
/// `wanted`; returns the line that says where.
fn draw(
    recording: &SharedRecording,
    outcome: &SeedOutcome,
    wanted: bool,
    test: &str,
    seed: u64,
) -> Option<String> {
    if let SeedOutcome::Failed { message } = outcome {
        recording.set_failure(message);
    }
    // The public form is built only when something needs it: not for a passing seed.
    let saving = std::env::var_os("LAB_EVENTS").is_some();
    if !wanted && !saving {
        return None;
    }
    let recording = recording.recording();
    events::save_events(&recording);
    wanted.then(|| events::write_timeline(&recording, test, seed))
}

/// The name of the test running on this thread, as `cargo test` names its threads.
fn current_test_name() -> String {
    std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map_or_else(|| "<test name>".into(), str::to_owned)
}

/// How much stack a simulation thread gets. Deep recursion in lab code still overflows
/// it (and the thread's name then says which test and seed), but ordinary code never does.
const SIM_STACK: usize = 16 << 20;

/// Runs one seed on a fresh thread named `"<test> seed=<seed>"`, and returns how it ended
/// and what the test said.
fn run_on_own_thread<T: Send>(
    test: &str,
    seed: u64,
    run: impl FnOnce() -> T + Send,
) -> (std::thread::Result<T>, String) {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name(format!("{test} seed={seed}"))
            .stack_size(SIM_STACK)
            .spawn_scoped(scope, || {
                OUTPUT.set(Some(String::new()));
                let result = catch_unwind(AssertUnwindSafe(run));
                (result, OUTPUT.take().unwrap_or_default())
            })
            .expect("labrpc: cannot start a simulation thread");
        thread
            .join()
            .unwrap_or_else(|panic| (Err(panic), String::new()))
    })
}

thread_local! {
    /// What the test running on this thread has said (see [`say`]), when a
    /// [`Sim::run_test`] collects it.
    static OUTPUT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Makes a failing test's report read in order: what the test said so far, then the
/// panic's message (printed by the previous hook), then what labrpc adds after it.
fn install_panic_hook() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let said = OUTPUT
                .try_with(|output| {
                    output
                        .try_borrow_mut()
                        .ok()
                        .and_then(|mut output| output.as_mut().map(std::mem::take))
                })
                .ok()
                .flatten();
            if let Some(said) = said.filter(|said| !said.is_empty()) {
                eprint!("{said}");
            }
            previous(info);
        }));
    });
}

/// The rate, in 1000, at which one of the test's own faults (a crash, a partition, a long
/// pause: whatever a test draws with a probability) happens in this run. (Tester side.)
///
/// Normally the course's rate, `per_mille`, unchanged. Under `LAB_SWARM=1` (`grader
/// swarm`) each call site gets a rate of its own for the run, drawn once from the seed,
/// uniformly between none and twice the course's (at most 1000): a run that is calmer or
/// stormier than the course's. Each round's draw stays independent, so every run is also a
/// possible (if rarer) run under the course's rate, and a failure is a real bug. The rate
/// comes from a generator of its own, so the run's main random stream is untouched.
#[track_caller]
pub fn fault_rate(per_mille: u64) -> u64 {
    let site = std::panic::Location::caller();
    super::context::with_world(|w| {
        if !w.swarm() {
            return per_mille;
        }
        let key = (site.file().to_owned(), site.line(), site.column());
        if let Some(&rate) = w.swarm_rates.borrow().get(&key) {
            return rate;
        }
        use rand::{RngExt as _, SeedableRng as _};
        let salt = super::fingerprint::digest(format!("{}:{}:{}", key.0, key.1, key.2).as_bytes());
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(w.seed ^ salt);
        let rate = rng.random_range(0..=(per_mille * 2).min(1000));
        w.swarm_rates.borrow_mut().insert(key, rate);
        say(format_args!(
            "labrpc swarm: the fault drawn at {site} happens {rate}/1000 in this run (the \
             course: {per_mille}/1000)"
        ));
        rate
    })
}

/// Adds a line to the test's report: shown when a single run ends, or when its seed
/// fails; a passing run of many seeds does not repeat it for every seed. (Tester side.)
///
/// Outside [`Sim::run_test`] (a plain [`Sim::run`]) the line is printed at once.
pub fn say(line: impl std::fmt::Display) {
    OUTPUT.with_borrow_mut(|output| match output {
        Some(output) => {
            use std::fmt::Write as _;
            let _ = writeln!(output, "{line}");
        }
        None => println!("{line}"),
    });
}

/// Warns at once, whatever the output capture: something the student should see even
/// when the test passes (the course's "warning: term changed ..."). (Tester side.)
pub fn warn(line: impl std::fmt::Display) {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("test");
    say(format_args!("warning: {line}"));
    shout(&format!("labrpc warning [{name}]: {line}\n"));
}

/// Tells the watchdog a run is over when dropped, also when the run panicked.
struct FinishOnDrop(Arc<Monitor>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Runs `make_test` twice on one seed and compares the two traces.
fn check_determinism<F, Fut>(settings: &Sim, make_test: &F) -> RunReport
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let recording: SharedRecorder = Arc::new(Mutex::new(Recorder::Record(Vec::new())));
    let ((), first) = settings
        .clone()
        .run_recorded(make_test(), Some(recording.clone()));
    let events = match std::mem::replace(&mut *recording.lock(), Recorder::Record(Vec::new())) {
        Recorder::Record(events) => Arc::new(events),
        Recorder::Compare { .. } => unreachable!("the first run records"),
    };
    let comparing: SharedRecorder = Arc::new(Mutex::new(Recorder::Compare {
        expected: events,
        divergence: None,
    }));
    // The second run says the same things as the first, if it is deterministic: keep
    // one copy, unless it fails.
    let first_output = OUTPUT.with_borrow_mut(|output| output.as_mut().map(std::mem::take));
    let second = catch_unwind(AssertUnwindSafe(|| {
        settings
            .clone()
            .run_recorded(make_test(), Some(comparing.clone()))
    }));
    OUTPUT.with_borrow_mut(|output| {
        if let (Some(output), Some(first)) = (output.as_mut(), first_output) {
            *output = if second.is_ok() {
                first
            } else {
                format!("{first}(the second run of the seed:)\n{output}")
            };
        }
    });
    let divergence = match &*comparing.lock() {
        Recorder::Compare {
            divergence: Some(d),
            ..
        } => Some(d.clone()),
        Recorder::Compare { expected, .. } => match &second {
            // The second run agreed on everything it did, but stopped early.
            Ok((_, report)) if report.events < first.events => Some(Divergence {
                event_index: report.events,
                first: expected
                    .get(report.events as usize)
                    .map_or_else(String::new, |e| {
                        format!("{:?} event on node #{} at {}", e.kind, e.node, e.at)
                    }),
                second: "nothing (the second run had already finished)".into(),
            }),
            _ => None,
        },
        Recorder::Record(_) => None,
    };
    let where_text = divergence.map_or_else(String::new, |d| {
        format!(
            "\nThe runs first differed at event #{}:\n  first run:  {}\n  second run: {}",
            d.event_index, d.first, d.second
        )
    });
    match second {
        Err(panic) => {
            eprintln!(
                "labrpc: the second run of seed {} failed although the first passed: \
                 the code is not deterministic.{where_text}\n{NONDETERMINISM_CAUSES}",
                first.seed
            );
            resume_unwind(panic);
        }
        Ok(((), second)) => {
            assert!(
                first == second,
                "labrpc: determinism check failed: two runs of seed {seed} differ \
                 (trace hash {h1:016x} vs {h2:016x}, {e1} vs {e2} events).{where_text}\n\
                 {NONDETERMINISM_CAUSES}",
                seed = first.seed,
                h1 = first.trace_hash,
                h2 = second.trace_hash,
                e1 = first.events,
                e2 = second.events,
            );
            first
        }
    }
}

/// The usual reasons lab code does not replay, for failure messages.
pub(crate) const NONDETERMINISM_CAUSES: &str = "\
Everything in a simulation must come from the seed. The usual culprits:
  - futures::select! picks a branch with a process-wide random generator: use select_biased!;
  - HashMap / HashSet iteration order differs on every run: use BTreeMap / BTreeSet, or sort;
  - std::time::Instant / SystemTime read the real clock: use labrpc::now();
  - rand::rng(), thread_rng() or OS randomness: use labrpc::rng();
  - std::thread::spawn runs outside the simulation: use labrpc::spawn.";

/// The seeds one test run will try.
struct SeedPlan {
    first: Option<u64>,
    runs: u64,
    /// `LAB_CHECK_DETERMINISM`: every seed (`Some(true)`), none (`Some(false)`), or,
    /// unset, the first seed of several.
    check_determinism: Option<bool>,
    /// `LAB_CHECK_DETERMINISM=first`: the first seed runs twice even when it is the only one
    /// (a grader's batch of one seed).
    check_first: bool,
    /// `LAB_KEEP_GOING=1`: run every seed even after a failure, and fail at the end.
    keep_going: bool,
    /// `LAB_MAX_FAILURES=k`: with `LAB_KEEP_GOING`, stop after `k` failed seeds (a grader
    /// has its verdict by then).
    max_failures: Option<u64>,
    /// `LAB_RESULTS=<file>`: a line per seed, for the grader.
    results: Option<ResultsFile>,
    /// `LAB_SWARM=1`: networks draw swarm fault plans.
    swarm: bool,
    /// `LAB_WATCHDOG=2s`: the watchdog's limit (a grader shortens it).
    watchdog: Option<Duration>,
    /// `LAB_CPU_BUDGET=17s`: a run that uses more CPU time fails (a grader's budget).
    cpu_budget: Option<Duration>,
}

impl SeedPlan {
    fn from_env() -> SeedPlan {
        let first = env_number("LAB_SEED");
        let runs = env_number("LAB_RUNS").unwrap_or(1).max(1);
        let check_first = std::env::var("LAB_CHECK_DETERMINISM").is_ok_and(|v| v.trim() == "first");
        SeedPlan {
            first,
            runs,
            check_determinism: if check_first {
                None
            } else {
                env_flag("LAB_CHECK_DETERMINISM")
            },
            check_first,
            max_failures: env_number("LAB_MAX_FAILURES").filter(|&max| max > 0),
            keep_going: env_flag("LAB_KEEP_GOING").unwrap_or(false),
            results: std::env::var_os("LAB_RESULTS").map(|path| ResultsFile(path.into())),
            swarm: env_flag("LAB_SWARM").unwrap_or(false),
            watchdog: env_duration("LAB_WATCHDOG"),
            cpu_budget: env_duration("LAB_CPU_BUDGET"),
        }
    }

    fn seeds(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.runs).map(|i| match self.first {
            Some(first) => first.wrapping_add(i),
            None => fresh_seed(),
        })
    }
}

/// A duration variable such as `2s`, `500ms` or `3` (seconds); unset or empty is `None`.
fn env_duration(name: &str) -> Option<Duration> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = if let Some(ms) = text.strip_suffix("ms") {
        ms.trim().parse().ok().map(Duration::from_millis)
    } else {
        let secs = text.strip_suffix('s').unwrap_or(text).trim();
        secs.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
    };
    Some(parsed.unwrap_or_else(|| {
        panic!("labrpc: {name}={text:?} is not a duration (expected e.g. {name}=2s or 500ms)")
    }))
}

/// A yes/no variable: unset or empty is `None`; `0`, `false` and `no` are no.
fn env_flag(name: &str) -> Option<bool> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    (!text.is_empty()).then_some(!matches!(text, "0" | "false" | "no"))
}

/// How one seed of a test ended.
enum SeedOutcome {
    Passed {
        virtual_time: Duration,
        cpu: Option<Duration>,
    },
    Failed {
        message: String,
    },
}

/// A seed's line for a grader: tab-separated, `labrpc-result`, `pass` or `fail`, the test,
/// the seed, the virtual time and the CPU time in nanoseconds (empty when unknown), for a
/// failure the first line of its message, and the path of the run's timeline page if one
/// was drawn. (Under a grader's channel, a signature follows: see `grading`.)
fn result_line(test: &str, seed: u64, outcome: &SeedOutcome, timeline: Option<&str>) -> String {
    // The last field: where the run's timeline was drawn, if it was.
    let timeline = timeline
        .and_then(|t| t.strip_prefix("timeline: "))
        .filter(|path| !path.contains('\t') && !path.contains('\n'))
        .unwrap_or("");
    match outcome {
        SeedOutcome::Passed { virtual_time, cpu } => format!(
            "labrpc-result\tpass\t{test}\t{seed}\t{}\t{}\t\t{timeline}",
            virtual_time.as_nanos(),
            cpu.map(|c| c.as_nanos().to_string()).unwrap_or_default()
        ),
        SeedOutcome::Failed { message } => {
            let first_line: String = message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .take(2000)
                .collect();
            format!("labrpc-result\tfail\t{test}\t{seed}\t\t\t{first_line}\t{timeline}")
        }
    }
}

/// `LAB_RESULTS=<file>`: the seeds' lines appended to a file as soon as each seed ends, so
/// that a process that dies later (an abort, an exit) loses nothing already decided. (For
/// scripts; the grader itself reads its own channel, which lab code cannot write.)
struct ResultsFile(std::path::PathBuf);

impl ResultsFile {
    fn record(&self, line: &str) {
        use std::io::Write as _;
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            panic!("labrpc: cannot write LAB_RESULTS={}: {e}", self.0.display());
        }
    }
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(text.parse().unwrap_or_else(|_| {
        panic!("labrpc: {name}={text:?} is not a number (expected e.g. {name}=42)")
    }))
}

/// A new seed from the operating system's randomness (outside any simulation).
pub fn fresh_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}
