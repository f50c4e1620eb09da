//! Determinism: one seed gives one run, event for event.
//!
//! A busy workload (an unreliable network with long reordering, servers crashed and
//! restarted, dozens of concurrent clients, handlers sleeping random times) must give the
//! same [`labrpc::tester::RunReport`] every time it runs on one seed, and different traces on
//! different seeds. The determinism checker of `Sim::run_test` (`LAB_CHECK_DETERMINISM=1`)
//! must pass it, and must catch deliberately nondeterministic workloads with a message that
//! explains the usual causes. A failing test must print its seed and a replay command that
//! reproduces the failure.
//!
//! Environment variables are only ever set for child processes: the tests that need them
//! re-execute this test binary to run one `#[ignore]`d child test by exact name. Children
//! started without [`CHILD_ENV`] (for example by `cargo test -- --ignored`) do nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::tester::{Network, Node, RunReport, Server, Sim};
use labrpc::{ClientEnd, Rpc, RpcError, Service};
use rand::RngExt;
use serde::{Deserialize, Serialize};

mod common;
use common::ChildRun;

// ---------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug)]
struct Put {
    key: u64,
    value: u64,
}

impl Rpc for Put {
    /// The previous value.
    type Reply = Option<u64>;
    const METHOD: &'static str = "Kv.Put";
}

#[derive(Serialize, Deserialize, Debug)]
struct Get {
    key: u64,
}

impl Rpc for Get {
    type Reply = Option<u64>;
    const METHOD: &'static str = "Kv.Get";
}

const SERVERS: usize = 5;
const CLIENTS: usize = 48;
const ROUNDS: usize = 6;
const CRASHES: usize = 6;

/// What the workload did; equal for two runs of one seed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stats {
    ok: u64,
    failed: u64,
    handlers_started: u64,
    handlers_finished: u64,
    crashes: u64,
    /// A fold of every reply, in the order they arrived.
    replies_digest: u64,
    /// Client tasks that ran to the end.
    clients_done: u64,
}

type Shared<T> = Arc<Mutex<T>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn server_name(i: usize) -> String {
    format!("S{i}")
}

/// Starts (or restarts) server `i` on a fresh node, with fresh state.
fn start_server(net: &Network, i: usize, generation: u64, stats: &Shared<Stats>) -> Node {
    let node = Node::new(server_name(i));
    let store: Shared<BTreeMap<u64, u64>> = Arc::default();
    let put = {
        let store = store.clone();
        let stats = stats.clone();
        move |args: Put| {
            let store = store.clone();
            let stats = stats.clone();
            async move {
                stats.lock().unwrap().handlers_started += 1;
                labrpc::sleep(ms(labrpc::rng().random_range(0..40))).await;
                let previous = store.lock().unwrap().insert(args.key, args.value);
                stats.lock().unwrap().handlers_finished += 1;
                previous.map(|v| v + generation)
            }
        }
    };
    let get = {
        let store = store.clone();
        let stats = stats.clone();
        move |args: Get| {
            let store = store.clone();
            let stats = stats.clone();
            async move {
                stats.lock().unwrap().handlers_started += 1;
                labrpc::sleep(ms(labrpc::rng().random_range(0..40))).await;
                let value = store.lock().unwrap().get(&args.key).copied();
                stats.lock().unwrap().handlers_finished += 1;
                value
            }
        }
    };
    let service = Service::new("Kv").method(put).method(get);
    net.add_server(server_name(i), Server::on(node).with_service(service));
    // A background task on the server's node, like a Raft ticker; it dies with the node.
    drop(node.spawn(async move {
        loop {
            labrpc::sleep(ms(labrpc::rng().random_range(10..100))).await;
            let key = labrpc::rng().random_range(0..8);
            let value = labrpc::rng().random_range(0..1000);
            store.lock().unwrap().insert(key, value);
        }
    }));
    node
}

fn fold(digest: u64, word: u64) -> u64 {
    (digest.rotate_left(7) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn record(stats: &Shared<Stats>, result: Result<Option<u64>, RpcError>) {
    let mut stats = stats.lock().unwrap();
    let word = match result {
        Ok(reply) => {
            stats.ok += 1;
            reply.map_or(1, |v| v + 2)
        }
        Err(RpcError::Failed) => {
            stats.failed += 1;
            0
        }
        Err(e) => panic!("unexpected RPC error: {e}"),
    };
    stats.replies_digest = fold(stats.replies_digest, word);
    stats.replies_digest = fold(
        stats.replies_digest,
        labrpc::now().since_start().as_nanos() as u64,
    );
}

/// One client: rounds of two concurrent calls to random servers, with random pauses.
async fn client(ends: Vec<ClientEnd>, id: u64, stats: Shared<Stats>) {
    for round in 0..ROUNDS as u64 {
        let mut calls = Vec::new();
        for _ in 0..2 {
            let end = &ends[labrpc::rng().random_range(0..ends.len())];
            let key = labrpc::rng().random_range(0..8);
            let stats = stats.clone();
            if labrpc::rng().random_bool(0.5) {
                let call = end.call(&Put {
                    key,
                    value: id * 100 + round,
                });
                calls.push(labrpc::spawn(async move { record(&stats, call.await) }));
            } else {
                let call = end.call(&Get { key });
                calls.push(labrpc::spawn(async move { record(&stats, call.await) }));
            }
        }
        for call in calls {
            call.await
                .expect("the client's own calls are not cancelled");
        }
        labrpc::sleep(ms(labrpc::rng().random_range(0..60))).await;
    }
    stats.lock().unwrap().clients_done += 1;
}

/// The workload: returns what it did.
async fn workload() -> Stats {
    let net = Network::new();
    net.set_reliable(false);
    net.set_long_reordering(true);
    let stats: Shared<Stats> = Arc::default();
    let nodes: Shared<Vec<Node>> = Arc::new(Mutex::new(
        (0..SERVERS)
            .map(|i| start_server(&net, i, 0, &stats))
            .collect(),
    ));

    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let ends: Vec<ClientEnd> = (0..SERVERS)
            .map(|i| {
                let name = format!("C{c}->S{i}");
                let end = net.make_end(name.as_str());
                net.connect(&name, server_name(i));
                net.enable(&name, true);
                end
            })
            .collect();
        let stats = stats.clone();
        clients.push(Node::new(format!("C{c}")).spawn(client(ends, c as u64, stats)));
    }

    let crasher = {
        let net = net.clone();
        let nodes = nodes.clone();
        let stats = stats.clone();
        labrpc::spawn(async move {
            for generation in 1..=CRASHES as u64 {
                labrpc::sleep(ms(labrpc::rng().random_range(200..800))).await;
                let i = labrpc::rng().random_range(0..SERVERS);
                let victim = nodes.lock().unwrap()[i];
                victim.kill();
                net.delete_server(&server_name(i));
                stats.lock().unwrap().crashes += 1;
                labrpc::sleep(ms(labrpc::rng().random_range(0..300))).await;
                let fresh = start_server(&net, i, generation, &stats);
                nodes.lock().unwrap()[i] = fresh;
            }
        })
    };

    for client in clients {
        client.await.expect("client nodes are never killed");
    }
    crasher.await.expect("the crasher is never killed");
    stats.lock().unwrap().clone()
}

fn run_workload(seed: u64) -> (Stats, RunReport) {
    Sim::new(seed).run_with_report(workload())
}

// ---------------------------------------------------------------------------------------
// In-process tests
// ---------------------------------------------------------------------------------------

#[test]
fn the_workload_is_as_busy_as_claimed() {
    let (stats, report) = run_workload(1);
    println!("{stats:?}\n{report:?}");
    assert_eq!(stats.clients_done, CLIENTS as u64);
    assert_eq!(stats.crashes, CRASHES as u64);
    assert_eq!(
        stats.ok + stats.failed,
        (CLIENTS * ROUNDS * 2) as u64,
        "every call ends"
    );
    assert!(stats.ok > 0 && stats.failed > 0, "{stats:?}");
    // Six crashes do not hit a running handler on every seed; over a few they must.
    let killed_mid_flight: Vec<u64> = (1..=4)
        .map(|seed| {
            let (stats, _) = run_workload(seed);
            stats.handlers_started - stats.handlers_finished
        })
        .collect();
    assert!(
        killed_mid_flight.iter().sum::<u64>() > 0,
        "some handlers must have been killed mid-flight in seeds 1-4: {killed_mid_flight:?}"
    );
    // 48 client tasks, 96 call tasks per round, a handler task per delivered request.
    assert!(stats.handlers_started >= 50, "{stats:?}");
    assert!(report.events > 5_000, "{report:?}");
    assert!(report.virtual_time > Duration::from_secs(1), "{report:?}");
}

#[test]
fn one_seed_gives_the_same_run_report_twice() {
    for seed in [0, 1, 7, 0xfeed] {
        let (stats1, report1) = run_workload(seed);
        let (stats2, report2) = run_workload(seed);
        assert_eq!(
            report1, report2,
            "seed {seed}: two runs must have the same trace hash and counts"
        );
        assert_eq!(
            stats1, stats2,
            "seed {seed}: two runs must do the same things"
        );
        assert_eq!(report1.seed, seed);
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let mut hashes = BTreeMap::new();
    for seed in 0..20 {
        let (_, report) = run_workload(seed);
        if let Some(other) = hashes.insert(report.trace_hash, seed) {
            panic!(
                "seeds {other} and {seed} gave the same trace hash {:016x}",
                report.trace_hash
            );
        }
    }
    assert_eq!(hashes.len(), 20);
}

/// Runs under `Sim::run_test`, honouring whatever `LAB_SEED` / `LAB_RUNS` /
/// `LAB_CHECK_DETERMINISM` the person running the tests set.
#[test]
fn the_workload_runs_under_run_test() {
    Sim::builder().run_test(|| async {
        let stats = workload().await;
        assert_eq!(stats.clients_done, CLIENTS as u64);
    });
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/// Set (to `1`) in the environment of the child processes the parent tests start.
const CHILD_ENV: &str = "LABRPC_DETERMINISM_TEST_CHILD";

/// Real time after which a child is declared hung, killed, and the test failed.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Runs the `#[ignore]`d test `name` of this binary in a child process, with `env`.
fn run_child(name: &str, env: &[(&str, &str)]) -> ChildRun {
    common::run_child(CHILD_ENV, HANG_GUARD, name, env)
}

fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Counts the runs of a deliberately nondeterministic workload in this process.
static RUNS: AtomicU64 = AtomicU64::new(0);

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_workload_under_run_test() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let stats = workload().await;
            assert_eq!(stats.clients_done, CLIENTS as u64);
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_print_workload_report() {
    if is_child() {
        let (stats, report) = run_workload(4242);
        println!("WORKLOAD-REPORT {report:?} {stats:?}");
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_nondeterministic_counter() {
    if is_child() {
        Sim::builder().run_test(|| async {
            // Reads state that outlives the run: the second run sleeps longer.
            let run = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
            labrpc::sleep(ms(run)).await;
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_nondeterministic_hashmap() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let nodes: HashMap<String, Node> = (0..16)
                .map(|i| (format!("N{i}"), Node::new(format!("N{i}"))))
                .collect();
            // HashMap iteration order differs from map to map: the spawn order does too.
            let handles: Vec<_> = nodes
                .values()
                .map(|node| node.spawn(labrpc::sleep(ms(1))))
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_nondeterministic_second_run_panics() {
    if is_child() {
        Sim::builder().run_test(|| async {
            labrpc::sleep(ms(3)).await;
            let run = RUNS.fetch_add(1, Ordering::Relaxed);
            assert!(
                run.is_multiple_of(2),
                "only every second run fails (run {run})"
            );
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_nondeterministic_second_run_longer() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let run = RUNS.fetch_add(1, Ordering::Relaxed);
            // Both runs sleep 1 ms; only the second sleeps again after.
            labrpc::sleep(ms(1)).await;
            if !run.is_multiple_of(2) {
                labrpc::sleep(ms(1)).await;
            }
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_nondeterministic_second_run_shorter() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let run = RUNS.fetch_add(1, Ordering::Relaxed);
            // Both runs sleep 1 ms; only the first sleeps again after.
            labrpc::sleep(ms(1)).await;
            if run.is_multiple_of(2) {
                labrpc::sleep(ms(1)).await;
            }
        });
    }
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_failing_test() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let wait = labrpc::rng().random_range(0..1000);
            labrpc::sleep(ms(wait)).await;
            let x: u64 = labrpc::rng().random_range(0..1_000_000_000);
            panic!("seeded failure: drew {x} at {now}", now = labrpc::now());
        });
    }
}

#[test]
fn the_determinism_checker_passes_the_workload() {
    let run = run_child(
        "child_workload_under_run_test",
        &[
            ("LAB_CHECK_DETERMINISM", "1"),
            ("LAB_SEED", "100"),
            ("LAB_RUNS", "3"),
        ],
    );
    assert!(
        run.status.success(),
        "the deterministic workload must pass the determinism check\n{}",
        run.output()
    );
    run.assert_mentions("all 3 seeds passed (100..=102)");
}

/// Same seed, same run, also across processes (nothing may depend on addresses, the
/// process's random hash keys, or what ran before in the process).
#[test]
fn one_seed_gives_the_same_run_report_in_another_process() {
    let (stats, report) = run_workload(4242);
    let expected = format!("WORKLOAD-REPORT {report:?} {stats:?}");
    for _ in 0..2 {
        let run = run_child("child_print_workload_report", &[]);
        assert!(run.status.success(), "{}", run.output());
        let line = run
            .stdout
            .lines()
            .find(|line| line.starts_with("WORKLOAD-REPORT"))
            .unwrap_or_else(|| panic!("no report printed\n{}", run.output()));
        assert_eq!(
            line, expected,
            "seed 4242 ran differently in a child process"
        );
    }
}

/// The checks every report of a failed determinism check must pass.
fn assert_reports_nondeterminism(run: &ChildRun, seed: u64) {
    assert!(
        !run.status.success(),
        "a nondeterministic workload must fail the determinism check\n{}",
        run.output()
    );
    run.assert_mentions("select_biased!");
    run.assert_mentions("HashMap");
    run.assert_mentions("labrpc::rng()");
    run.assert_mentions("labrpc::now()");
    run.assert_mentions(&format!("labrpc: failed with seed {seed}"));
    run.assert_mentions(&format!(
        "replay:  LAB_SEED={seed} LAB_CHECK_DETERMINISM=1 cargo test"
    ));
}

#[test]
fn the_determinism_checker_catches_state_that_outlives_a_run() {
    let run = run_child(
        "child_nondeterministic_counter",
        &[("LAB_CHECK_DETERMINISM", "1"), ("LAB_SEED", "9")],
    );
    assert_reports_nondeterminism(&run, 9);
    run.assert_mentions("determinism check failed: two runs of seed 9 differ");
    run.assert_mentions("The runs first differed at event #");
    // The first run's timer fired at 1 ms, the second's at 2 ms.
    run.assert_mentions("first run:  at 0.001000s");
    run.assert_mentions("second run: at 0.002000s");
    // ... and the report names the line that made the sleep whose timer fired.
    run.assert_mentions("fired (a sleep made at labrpc/tests/determinism.rs:");
}

#[test]
fn the_determinism_checker_catches_hashmap_iteration_order() {
    let run = run_child(
        "child_nondeterministic_hashmap",
        &[("LAB_CHECK_DETERMINISM", "1"), ("LAB_SEED", "10")],
    );
    assert_reports_nondeterminism(&run, 10);
    run.assert_mentions("determinism check failed: two runs of seed 10 differ");
    run.assert_mentions("The runs first differed at event #");
    run.assert_mentions("spawned task");
}

#[test]
fn the_determinism_checker_reports_a_second_run_that_fails() {
    let run = run_child(
        "child_nondeterministic_second_run_panics",
        &[("LAB_CHECK_DETERMINISM", "1"), ("LAB_SEED", "11")],
    );
    assert_reports_nondeterminism(&run, 11);
    run.assert_mentions(
        "the second run of seed 11 failed although the first passed: the code is not \
         deterministic",
    );
    run.assert_mentions("only every second run fails (run 1)");
}

/// The second run does everything the first did, then more.
#[test]
fn the_determinism_checker_says_where_a_longer_second_run_went_on() {
    let run = run_child(
        "child_nondeterministic_second_run_longer",
        &[("LAB_CHECK_DETERMINISM", "1"), ("LAB_SEED", "12")],
    );
    assert_reports_nondeterminism(&run, 12);
    run.assert_mentions("determinism check failed: two runs of seed 12 differ");
    // Events: poll of the body, timer fired at 1 ms, poll of the body; then only the
    // second run goes on.
    run.assert_mentions("The runs first differed at event #3");
    run.assert_mentions("first run:  nothing (the first run had already finished)");
}

/// The first run does everything the second did, then more. The report must still say
/// where the two runs parted, as it does the other way round.
#[test]
fn the_determinism_checker_says_where_a_shorter_second_run_stopped() {
    let run = run_child(
        "child_nondeterministic_second_run_shorter",
        &[("LAB_CHECK_DETERMINISM", "1"), ("LAB_SEED", "13")],
    );
    assert_reports_nondeterminism(&run, 13);
    run.assert_mentions("determinism check failed: two runs of seed 13 differ");
    run.assert_mentions("The runs first differed at event #3");
}

#[test]
fn without_the_check_the_nondeterministic_workload_passes() {
    // The determinism check is what catches it: a single run is fine.
    let run = run_child("child_nondeterministic_counter", &[("LAB_SEED", "9")]);
    assert!(run.status.success(), "{}", run.output());
}

#[test]
fn a_failing_test_prints_its_seed_and_a_replay_command_that_reproduces_it() {
    let first = run_child("child_failing_test", &[]);
    assert!(!first.status.success(), "{}", first.output());
    let seed = first.failed_seed();
    first.assert_mentions(&format!("replay:  LAB_SEED={seed} cargo test -p "));
    first.assert_mentions(" -- --exact child_failing_test\n");
    // Under cargo (which sets CARGO_PKG_NAME for the test process) the package is named.
    if std::env::var("CARGO_PKG_NAME").is_ok() {
        first.assert_mentions(&format!(
            "replay:  LAB_SEED={seed} cargo test -p labrpc -- --exact child_failing_test\n"
        ));
    }
    first.assert_mentions(&format!("logs:    LAB_SEED={seed} LAB_LOG=debug"));
    let failure = first.line_starting("seeded failure: drew ");

    // Replaying the seed reproduces the failure exactly.
    let seed_text = seed.to_string();
    let replay = run_child("child_failing_test", &[("LAB_SEED", seed_text.as_str())]);
    assert!(!replay.status.success(), "{}", replay.output());
    assert_eq!(replay.failed_seed(), seed, "the replay ran the same seed");
    assert_eq!(
        replay.line_starting("seeded failure: drew "),
        failure,
        "replaying seed {seed} must fail the same way"
    );

    // Another seed fails differently: the seed really is what decides.
    let other_seed = seed.wrapping_add(1).to_string();
    let other = run_child("child_failing_test", &[("LAB_SEED", other_seed.as_str())]);
    assert!(!other.status.success(), "{}", other.output());
    assert_ne!(other.line_starting("seeded failure: drew "), failure);

    // With LAB_RUNS, the first failing seed of the series is the one reported.
    let runs = run_child(
        "child_failing_test",
        &[("LAB_SEED", seed_text.as_str()), ("LAB_RUNS", "5")],
    );
    assert_eq!(runs.failed_seed(), seed);
    assert_eq!(runs.line_starting("seeded failure: drew "), failure);
}

/// Fresh seeds (no `LAB_SEED`) differ from run to run, so repeated runs explore.
#[test]
fn fresh_seeds_differ() {
    let seeds: BTreeSet<u64> = (0..50).map(|_| labrpc::tester::fresh_seed()).collect();
    assert!(
        seeds.len() >= 49,
        "fresh_seed gave only {} distinct seeds in 50 draws",
        seeds.len()
    );
}

#[test]
#[ignore = "a child process of the determinism tests; run by them"]
fn child_fails_on_even_seeds() {
    if is_child() {
        Sim::builder().run_test(|| async {
            labrpc::sleep(ms(7)).await;
            assert!(
                labrpc::seed() % 2 == 1,
                "an even seed\twith a tab\nand a second line"
            );
        });
    }
}

/// For a grader: `LAB_KEEP_GOING` runs every seed despite failures, and `LAB_RESULTS`
/// receives one line per seed as it ends.
#[test]
fn keep_going_runs_every_seed_and_results_get_a_line_per_seed() {
    let dir = std::env::temp_dir().join(format!("labrpc-results-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.tsv");
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap();
    let run = run_child(
        "child_fails_on_even_seeds",
        &[
            ("LAB_SEED", "10"),
            ("LAB_RUNS", "4"),
            ("LAB_KEEP_GOING", "1"),
            ("LAB_RESULTS", path),
            ("LAB_VIS_DIR", dir.to_str().unwrap()),
        ],
    );
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("labrpc: child_fails_on_even_seeds: 2 of 4 seeds failed: 10, 12");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    for (line, seed) in lines.iter().zip(10..) {
        assert_eq!(line.len(), 8, "{text}");
        assert_eq!(line[0], "labrpc-result");
        assert_eq!(line[2], "child_fails_on_even_seeds");
        assert_eq!(line[3], seed.to_string());
        if seed % 2 == 0 {
            assert_eq!(line[1], "fail", "{text}");
            assert_eq!(line[6], "an even seed with a tab", "{text}");
            // A failing seed is drawn, and its line says where.
            let page = dir.join(format!("child_fails_on_even_seeds-seed{seed}.html"));
            assert_eq!(line[7], page.to_str().unwrap(), "{text}");
            assert!(page.exists(), "{text}");
        } else {
            assert_eq!(line[1], "pass", "{text}");
            assert_eq!(line[7], "", "a passing seed is not drawn: {text}");
            assert_eq!(line[4], "7000000", "virtual time in ns: {text}");
            assert!(line[5].parse::<u64>().is_ok(), "CPU time in ns: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
