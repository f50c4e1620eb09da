//! Faults at the worst moments, beyond the course's model: a server that crashes right
//! after it sends a reply (`Network::set_crash_after_reply`), and requests delivered again
//! long after they first arrived (`Network::set_stale_duplicates`). See
//! `docs/fault-model.md`, "Faults at the worst moments".
//!
//! Everything runs in virtual time. Statistical bounds are [`SIGMAS`] standard deviations
//! wide, so a correct network fails one with probability about 1e-9, whatever the seed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use labrpc::tester::{
    CrashAfterReply, LiveObjects, Network, Node, ReplyCrash, RunReport, Server, Sim,
    StaleDuplicates, live_objects,
};
use labrpc::{Instant, Rpc, RpcError, Service};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

mod common;

/// How many standard deviations a measured rate may stray from the expected one.
const SIGMAS: f64 = 6.0;

/// The seeds the statistical and determinism tests run.
const FIXED_SEEDS: [u64; 3] = [1, 2, 20_220_101];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ----- the probe service -----

/// `Probe.Hit`: logged by the handler, which answers the argument.
#[derive(Serialize, Deserialize, Debug)]
struct Hit(u32);

impl Rpc for Hit {
    type Reply = u32;
    const METHOD: &'static str = "Probe.Hit";
}

/// `Probe.Miss`: the same, under another method name (for the methods filters).
#[derive(Serialize, Deserialize, Debug)]
struct Miss(u32);

impl Rpc for Miss {
    type Reply = u32;
    const METHOD: &'static str = "Probe.Miss";
}

/// What the handlers of one network saw: (server, method, argument, when it started).
type Log = Arc<Mutex<Vec<(String, &'static str, u32, Instant)>>>;

/// The probe service of server `name`: both methods log their call and answer at once.
fn probe(name: &str, log: &Log) -> Service {
    let (hits, misses) = (log.clone(), log.clone());
    let (hit_name, miss_name) = (name.to_string(), name.to_string());
    Service::new("Probe")
        .method(move |Hit(x): Hit| {
            hits.lock()
                .push((hit_name.clone(), Hit::METHOD, x, labrpc::now()));
            async move { x }
        })
        .method(move |Miss(x): Miss| {
            misses
                .lock()
                .push((miss_name.clone(), Miss::METHOD, x, labrpc::now()));
            async move { x }
        })
}

/// Starts server `name` with the probe service on a fresh node.
fn start_server(net: &Network, name: &str, log: &Log) -> Node {
    let node = Node::new(name);
    net.add_server(name, Server::on(node).with_service(probe(name, log)));
    node
}

/// The times the handlers of `method` started for argument `x`.
fn entries(log: &Log, method: &str, x: u32) -> Vec<Instant> {
    log.lock()
        .iter()
        .filter(|(_, m, arg, _)| *m == method && *arg == x)
        .map(|(_, _, _, at)| *at)
        .collect()
}

/// Checks that `count` of `n` trials is within [`SIGMAS`] of the rate `per_mille`.
#[track_caller]
fn assert_rate(what: &str, count: usize, n: usize, per_mille: u64) {
    let p = per_mille as f64 / 1000.0;
    let mean = n as f64 * p;
    let slack = SIGMAS * (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (count as f64 - mean).abs() <= slack,
        "{what}: {count} of {n}, expected {mean:.0} ± {slack:.0} ({per_mille}/1000)"
    );
}

/// A rule that crashes every server on every reply.
fn always_crash() -> CrashAfterReply {
    CrashAfterReply {
        servers: Vec::new(),
        methods: Vec::new(),
        per_mille: 1000,
    }
}

// ----- crash after reply -----

/// With a rate of 1000, the first reply crashes its server in the very poll that gave
/// the reply: the caller gets the reply, a task the handler woke just before returning
/// never runs, nor does any later task of the node; the crash is reported with the
/// server, method and time; a request that reaches the dead server fails at once.
///
/// Several fixed seeds, so that every order the scheduler may pick for the tasks ready at
/// the crash is tried.
#[test]
fn a_reply_crashes_its_server_and_still_arrives() {
    for seed in 0..16 {
        Sim::new(seed).run(reply_crashes_its_server());
    }
    Sim::builder().run_test(reply_crashes_its_server);
}

async fn reply_crashes_its_server() {
    {
        let net = Network::new();
        let mut crashes = net.reply_crashes();
        net.set_crash_after_reply(Some(always_crash()));

        let node = Node::new("S1");
        let (wake, mut woken) = mpsc::unbounded::<()>();
        let service = Service::new("Probe").method(move |Hit(x): Hit| {
            let wake = wake.clone();
            async move {
                labrpc::sleep(ms(10)).await;
                // Wakes a task of this same node: it is ready to run when the reply goes
                // out, but the crash comes first.
                wake.unbounded_send(()).expect("the listener is alive");
                x
            }
        });
        net.add_server("S1", Server::on(node).with_service(service));
        let listener_ran = Arc::new(AtomicBool::new(false));
        let ran = listener_ran.clone();
        drop(node.spawn(async move {
            woken.next().await;
            ran.store(true, Ordering::SeqCst);
        }));
        let later_ran = Arc::new(AtomicBool::new(false));
        let ran = later_ran.clone();
        drop(node.spawn(async move {
            labrpc::sleep(ms(11)).await;
            ran.store(true, Ordering::SeqCst);
        }));

        let end = common::connected_end(&net, "c->S1", "S1");
        let start = labrpc::now();
        assert_eq!(
            end.call(&Hit(7)).await,
            Ok(7),
            "the reply reaches its caller"
        );
        assert_eq!(labrpc::now() - start, ms(10));
        assert!(!node.is_alive(), "the server crashed after its reply");

        let crash = crashes.next().await.expect("a crash event");
        assert_eq!(
            crash,
            ReplyCrash {
                server: "S1".into(),
                method: Hit::METHOD,
                at: start + ms(10),
            }
        );

        labrpc::sleep(ms(100)).await;
        assert!(
            !listener_ran.load(Ordering::SeqCst),
            "a task woken by the handler just before its reply ran after the crash"
        );
        assert!(
            !later_ran.load(Ordering::SeqCst),
            "a task of the crashed node ran later"
        );
        assert!(
            crashes.try_recv().is_err(),
            "one crash, one event (the channel stays open)"
        );

        // Still registered, but dead: a request that reaches it fails at once.
        let sent = labrpc::now();
        assert_eq!(end.call(&Hit(8)).await, Err(RpcError::Failed));
        assert_eq!(labrpc::now(), sent, "a call to a dead node fails at once");

        // The tester's restart: a fresh server under the same name answers again (and,
        // with the rule still on, crashes again).
        net.delete_server("S1");
        let log = Log::default();
        let fresh = start_server(&net, "S1", &log);
        assert_eq!(end.call(&Hit(9)).await, Ok(9));
        assert!(!fresh.is_alive());
        assert_eq!(crashes.next().await.map(|c| c.server), Some("S1".into()));
        net.set_crash_after_reply(None);
        net.delete_server("S1");
        let third = start_server(&net, "S1", &log);
        assert_eq!(end.call(&Hit(10)).await, Ok(10));
        assert!(third.is_alive(), "no rule, no crash");
    }
}

/// How the tester takes the crashed server off the network in
/// [`a_reply_survives_the_servers_removal`].
#[derive(Clone, Copy, Debug)]
enum Removal {
    Delete,
    Replace,
    DisableTheEnd,
}

/// A reply given just before the crash is on the wire: even if the tester deletes or
/// replaces the crashed server, or disables the caller's end, before the caller runs
/// again, the caller gets it, after the usual reordering delay if any.
#[test]
fn a_reply_survives_the_servers_removal() {
    for removal in [Removal::Delete, Removal::Replace, Removal::DisableTheEnd] {
        for long_reordering in [false, true] {
            Sim::builder().run_test(move || async move {
                let net = Network::new();
                net.set_long_reordering(long_reordering);
                let mut crashes = net.reply_crashes();
                net.set_crash_after_reply(Some(always_crash()));
                let log = Log::default();
                let node = start_server(&net, "S1", &log);
                let end = common::connected_end(&net, "c->S1", "S1");

                // The caller sends its request, then waits for the tester's signal before
                // it looks at its call again, so that the tester surely acts first.
                let (go, gate) = oneshot::channel::<()>();
                let mut call = Box::pin(end.call(&Hit(1)));
                let caller = labrpc::spawn(async move {
                    assert!(
                        futures::poll!(&mut call).is_pending(),
                        "the request is sent"
                    );
                    gate.await.expect("the tester's signal");
                    call.await
                });

                let crash = crashes.next().await.expect("a crash event");
                assert_eq!(crash.server, "S1");
                assert!(!node.is_alive());
                match removal {
                    Removal::Delete => net.delete_server("S1"),
                    Removal::Replace => drop(start_server(&net, "S1", &log)),
                    Removal::DisableTheEnd => net.enable("c->S1", false),
                }
                go.send(()).expect("the caller waits");
                assert_eq!(
                    caller.await.expect("the caller task"),
                    Ok(1),
                    "a reply given before the crash was recalled ({removal:?})"
                );
            });
        }
    }
}

/// Only matching servers and methods crash; the rest never do, however many calls.
#[test]
fn only_matching_servers_and_methods_crash() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let mut crashes = net.reply_crashes();
        net.set_crash_after_reply(Some(CrashAfterReply {
            servers: vec!["S1".into()],
            methods: vec![Hit::METHOD.into()],
            per_mille: 1000,
        }));
        let log = Log::default();
        let s1 = start_server(&net, "S1", &log);
        let s2 = start_server(&net, "S2", &log);
        let to_s1 = common::connected_end(&net, "c->S1", "S1");
        let to_s2 = common::connected_end(&net, "c->S2", "S2");
        for i in 0..200 {
            assert_eq!(to_s2.call(&Hit(i)).await, Ok(i), "S2 is not in the rule");
            assert_eq!(to_s1.call(&Miss(i)).await, Ok(i), "Miss is not in the rule");
        }
        assert!(s1.is_alive() && s2.is_alive());
        assert!(crashes.try_recv().is_err(), "no crash was reported");

        assert_eq!(to_s1.call(&Hit(0)).await, Ok(0));
        assert!(!s1.is_alive() && s2.is_alive());
        assert_eq!(
            crashes.next().await.map(|c| (c.server, c.method)),
            Some(("S1".into(), Hit::METHOD))
        );

        // A server on the tester node cannot crash: the rule passes it by.
        net.set_crash_after_reply(Some(always_crash()));
        net.add_server("T", Server::new().with_service(probe("T", &log)));
        let to_t = common::connected_end(&net, "c->T", "T");
        assert_eq!(to_t.call(&Hit(5)).await, Ok(5));
        assert!(crashes.try_recv().is_err());
    });
}

/// Every finished handler counts, also one whose caller already gave up: the server
/// cannot tell.
#[test]
fn a_handler_whose_caller_gave_up_still_crashes_its_server() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let mut crashes = net.reply_crashes();
        net.set_crash_after_reply(Some(always_crash()));
        let node = Node::new("S1");
        let service = Service::new("Probe").method(|Hit(x): Hit| async move {
            labrpc::sleep(ms(50)).await;
            x
        });
        net.add_server("S1", Server::on(node).with_service(service));
        let end = common::connected_end(&net, "c->S1", "S1");
        let start = labrpc::now();
        assert!(labrpc::timeout(ms(10), end.call(&Hit(1))).await.is_err());
        let crash = crashes.next().await.expect("a crash event");
        assert_eq!(crash.at, start + ms(50));
        assert!(!node.is_alive());
    });
}

/// Runs `calls` sequential pairs of calls (`Hit`, then `Miss`) to S1 with crashes after
/// `Hit` replies at `per_mille`, restarting S1 after each crash, and returns the crashes.
async fn crash_workload(calls: u32, per_mille: u64) -> Vec<ReplyCrash> {
    let net = Network::new();
    let mut crashes = net.reply_crashes();
    net.set_crash_after_reply(Some(CrashAfterReply {
        servers: Vec::new(),
        methods: vec![Hit::METHOD.into()],
        per_mille,
    }));
    let log = Log::default();
    let mut node = start_server(&net, "S1", &log);
    let end = common::connected_end(&net, "c->S1", "S1");
    let mut seen = Vec::new();
    for i in 0..calls {
        assert_eq!(
            end.call(&Hit(i)).await,
            Ok(i),
            "a reply before a crash arrives"
        );
        let missed = end.call(&Miss(i)).await;
        assert_eq!(
            missed.is_ok(),
            node.is_alive(),
            "a call to a crashed server fails, and only then"
        );
        if !node.is_alive() {
            let crash = crashes.next().await.expect("a crash event");
            assert_eq!((crash.server.as_str(), crash.method), ("S1", Hit::METHOD));
            seen.push(crash);
            net.delete_server("S1");
            node = start_server(&net, "S1", &log);
        }
    }
    assert!(
        crashes.try_recv().is_err(),
        "every crash was of the node seen dead"
    );
    seen
}

/// Over many replies, the share that crash their server is `per_mille`; the same seed
/// crashes the same servers at the same moments, and the whole run replays.
#[test]
fn crash_rate_and_determinism() {
    const CALLS: u32 = 4000;
    const PER_MILLE: u64 = 100;
    for seed in FIXED_SEEDS {
        let (crashes, report) = Sim::new(seed).run_with_report(crash_workload(CALLS, PER_MILLE));
        assert_rate(
            "replies that crashed their server",
            crashes.len(),
            CALLS as usize,
            PER_MILLE,
        );
        let (again, replay): (Vec<ReplyCrash>, RunReport) =
            Sim::new(seed).run_with_report(crash_workload(CALLS, PER_MILLE));
        assert_eq!(crashes, again, "seed {seed}: the same crashes");
        assert_eq!(report, replay, "seed {seed}: the same run");
    }
}

/// Taking the crash events twice is a mistake, said clearly.
#[test]
#[should_panic(expected = "Network::reply_crashes was already called on this network")]
fn reply_crashes_can_be_taken_once() {
    Sim::new(1).run(async {
        let net = Network::new();
        let _first = net.reply_crashes();
        let _second = net.reply_crashes();
    });
}

/// A rate is a chance in 1000.
#[test]
#[should_panic(expected = "per_mille is a chance in 1000, got 1001")]
fn a_crash_rate_above_1000_is_refused() {
    Sim::new(1).run(async {
        Network::new().set_crash_after_reply(Some(CrashAfterReply {
            per_mille: 1001,
            ..always_crash()
        }));
    });
}

// ----- stale duplicates -----

/// Every request duplicated.
fn always_duplicate(delay_ms: std::ops::Range<u64>) -> StaleDuplicates {
    StaleDuplicates {
        methods: Vec::new(),
        per_mille: 1000,
        delay_ms,
    }
}

/// With a rate of 1000, each request reaches its handler twice: the copy arrives within
/// the delay range after the original, its reply reaches nobody (each caller got its one
/// reply, at once), it counts in `rpc_count` but not in `total_rpcs`, and a copy is never
/// copied again.
#[test]
fn every_request_arrives_again_within_the_delay() {
    const CALLS: u32 = 300;
    Sim::builder().run_test(|| async {
        let net = Network::new();
        net.set_stale_duplicates(Some(always_duplicate(50..100)));
        let log = Log::default();
        let node = start_server(&net, "S1", &log);
        let end = common::connected_end(&net, "c->S1", "S1");
        let start = labrpc::now();
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let call = end.call(&Hit(i));
                labrpc::spawn(async move { (call.await, labrpc::now()) })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let (result, at) = call.await.expect("the call task");
            assert_eq!(
                (result, at),
                (Ok(i as u32), start),
                "call {i}: one reply, at once"
            );
        }
        // Long enough for a copy of a copy, if there were one.
        labrpc::sleep(ms(500)).await;
        let mut delays = Vec::new();
        for i in 0..CALLS {
            let seen = entries(&log, Hit::METHOD, i);
            assert_eq!(seen.len(), 2, "request {i} reached its handler {seen:?}");
            assert_eq!(seen[0], start, "the original arrives at once");
            delays.push((seen[1] - seen[0]).as_millis() as u64);
        }
        let (min, max) = (
            *delays.iter().min().expect("delays"),
            *delays.iter().max().expect("delays"),
        );
        assert!(
            (50..100).contains(&min) && (50..100).contains(&max),
            "copies arrived {min}..={max} ms after their originals, outside 50..100"
        );
        // Uniform over 50 values: 300 draws all miss the 5 lowest (or highest) with
        // probability 0.9^300 < 1e-13.
        assert!(min < 55 && max >= 95, "copies span {min}..={max} ms only");
        assert_eq!(net.rpc_count("S1"), 2 * u64::from(CALLS));
        assert_eq!(net.total_rpcs(), u64::from(CALLS), "callers sent each once");
        assert_eq!(
            node.messages_sent(),
            2 * u64::from(CALLS),
            "the server replied to every copy too (to nobody)"
        );

        // A zero delay: the copy arrives at the same instant, after the original.
        net.set_stale_duplicates(Some(always_duplicate(0..1)));
        let at = labrpc::now();
        assert_eq!(end.call(&Hit(1000)).await, Ok(1000));
        labrpc::sleep(ms(1)).await;
        assert_eq!(entries(&log, Hit::METHOD, 1000), vec![at, at]);
    });
}

/// What happens to the tester's world between the original and its copy.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Meanwhile {
    Nothing,
    DisableTheEnd,
    DisableAndEnableAgain,
    DeleteTheServer,
    ReplaceTheServer,
    KillTheNode,
}

/// A copy is delivered only if, when it arrives, its end is enabled and leads to the
/// very same server instance, on a live node; otherwise it vanishes, reaching no handler
/// (neither the old server's nor a new one's).
#[test]
fn a_copy_is_dropped_if_its_end_or_server_went_away() {
    for meanwhile in [
        Meanwhile::Nothing,
        Meanwhile::DisableTheEnd,
        Meanwhile::DisableAndEnableAgain,
        Meanwhile::DeleteTheServer,
        Meanwhile::ReplaceTheServer,
        Meanwhile::KillTheNode,
    ] {
        Sim::builder().run_test(move || async move {
            let net = Network::new();
            net.set_stale_duplicates(Some(always_duplicate(50..51)));
            let log = Log::default();
            let node = start_server(&net, "S1", &log);
            let end = common::connected_end(&net, "c->S1", "S1");
            let start_at = labrpc::now();
            assert_eq!(end.call(&Hit(1)).await, Ok(1));
            labrpc::sleep(ms(10)).await;
            match meanwhile {
                Meanwhile::Nothing => {}
                Meanwhile::DisableTheEnd => net.enable("c->S1", false),
                Meanwhile::DisableAndEnableAgain => {
                    net.enable("c->S1", false);
                    labrpc::sleep(ms(10)).await;
                    net.enable("c->S1", true);
                }
                Meanwhile::DeleteTheServer => net.delete_server("S1"),
                Meanwhile::ReplaceTheServer => drop(start_server(&net, "S1", &log)),
                Meanwhile::KillTheNode => node.kill(),
            }
            labrpc::sleep(ms(200)).await;
            let seen = entries(&log, Hit::METHOD, 1);
            let delivered = matches!(
                meanwhile,
                Meanwhile::Nothing | Meanwhile::DisableAndEnableAgain
            );
            if delivered {
                assert_eq!(seen, vec![start_at, start_at + ms(50)], "{meanwhile:?}");
                assert_eq!(net.rpc_count("S1"), 2);
            } else {
                assert_eq!(
                    seen,
                    vec![start_at],
                    "the copy was delivered ({meanwhile:?})"
                );
            }
            if meanwhile == Meanwhile::ReplaceTheServer {
                assert_eq!(net.rpc_count("S1"), 0, "the new server saw nothing");
            }
        });
    }
}

/// Only the listed methods are duplicated.
#[test]
fn only_listed_methods_are_duplicated() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        net.set_stale_duplicates(Some(StaleDuplicates {
            methods: vec![Hit::METHOD.into()],
            ..always_duplicate(1..20)
        }));
        let log = Log::default();
        start_server(&net, "S1", &log);
        let end = common::connected_end(&net, "c->S1", "S1");
        for i in 0..100 {
            assert_eq!(end.call(&Hit(i)).await, Ok(i));
            assert_eq!(end.call(&Miss(i)).await, Ok(i));
        }
        labrpc::sleep(ms(100)).await;
        for i in 0..100 {
            assert_eq!(entries(&log, Hit::METHOD, i).len(), 2, "Hit({i})");
            assert_eq!(entries(&log, Miss::METHOD, i).len(), 1, "Miss({i})");
        }
    });
}

/// Calls on an unreliable network, some duplicated; returns how many requests reached the
/// handler once and how many twice.
async fn duplicate_workload(calls: u32, per_mille: u64) -> (usize, usize) {
    let net = Network::new();
    net.set_reliable(false);
    net.set_long_reordering(true);
    net.set_stale_duplicates(Some(StaleDuplicates {
        methods: Vec::new(),
        per_mille,
        delay_ms: 0..3000,
    }));
    let log = Log::default();
    start_server(&net, "S1", &log);
    let end = common::connected_end(&net, "c->S1", "S1");
    let calls: Vec<_> = (0..calls)
        .map(|i| labrpc::spawn(end.call(&Hit(i))))
        .collect();
    let n = calls.len() as u32;
    for call in calls {
        let _ = call.await;
    }
    labrpc::sleep(Duration::from_secs(4)).await;
    let mut arrivals = vec![0u32; n as usize];
    for (_, _, i, _) in log.lock().iter() {
        arrivals[*i as usize] += 1;
    }
    let (mut once, mut twice) = (0, 0);
    for (i, count) in arrivals.into_iter().enumerate() {
        match count {
            0 => {}
            1 => once += 1,
            2 => twice += 1,
            more => panic!("request {i} reached its handler {more} times"),
        }
    }
    (once, twice)
}

/// Over many requests, the share duplicated is `per_mille`; the same seed duplicates the
/// same requests, and the whole run replays.
#[test]
fn duplicate_rate_and_determinism() {
    const CALLS: u32 = 10_000;
    const PER_MILLE: u64 = 100;
    for seed in FIXED_SEEDS {
        let ((once, twice), report) =
            Sim::new(seed).run_with_report(duplicate_workload(CALLS, PER_MILLE));
        assert_rate("requests duplicated", twice, once + twice, PER_MILLE);
        let (again, replay) = Sim::new(seed).run_with_report(duplicate_workload(CALLS, PER_MILLE));
        assert_eq!((once, twice), again, "seed {seed}: the same duplicates");
        assert_eq!(report, replay, "seed {seed}: the same run");
    }
}

/// A copy needs a range to draw its delay from.
#[test]
#[should_panic(expected = "StaleDuplicates: delay_ms 5..5 is empty")]
fn an_empty_delay_range_is_refused() {
    Sim::new(1).run(async {
        Network::new().set_stale_duplicates(Some(always_duplicate(5..5)));
    });
}

// ----- both together, and both off -----

/// How a workload sets the two plans.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Plans {
    NeverSet,
    SetToNone,
    /// Set, but matching nothing this workload does.
    Unmatched,
    /// Set, matching everything, at a rate of 0.
    RateZero,
    On,
}

/// Concurrent calls from several nodes to three servers, on an unreliable network, with
/// the plans set as `plans` says; crashed servers are restarted.
async fn mixed_workload(plans: Plans) -> u64 {
    let net = Network::new();
    net.set_reliable(false);
    let crash = |servers: Vec<String>, per_mille| {
        Some(CrashAfterReply {
            servers,
            methods: Vec::new(),
            per_mille,
        })
    };
    let duplicate = |methods: Vec<String>, per_mille| {
        Some(StaleDuplicates {
            methods,
            per_mille,
            delay_ms: 0..500,
        })
    };
    match plans {
        Plans::NeverSet => {}
        Plans::SetToNone => {
            net.set_crash_after_reply(crash(Vec::new(), 1000));
            net.set_stale_duplicates(duplicate(Vec::new(), 1000));
            net.set_crash_after_reply(None);
            net.set_stale_duplicates(None);
        }
        Plans::Unmatched => {
            net.set_crash_after_reply(crash(vec!["nobody".into()], 1000));
            net.set_stale_duplicates(duplicate(vec!["Nobody.Nothing".into()], 1000));
        }
        Plans::RateZero => {
            net.set_crash_after_reply(crash(Vec::new(), 0));
            net.set_stale_duplicates(duplicate(Vec::new(), 0));
        }
        Plans::On => {
            net.set_crash_after_reply(crash(Vec::new(), 20));
            net.set_stale_duplicates(duplicate(Vec::new(), 200));
        }
    }
    let log = Log::default();
    let names = ["S1", "S2", "S3"];
    let mut nodes: Vec<Node> = names
        .iter()
        .map(|name| start_server(&net, name, &log))
        .collect();
    let ok = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for c in 0..4u32 {
        let client = Node::new(format!("C{c}"));
        let ends: Vec<_> = names
            .iter()
            .map(|s| common::connected_end(&net, &format!("C{c}->{s}"), s))
            .collect();
        let ok = ok.clone();
        clients.push(client.spawn(async move {
            for i in 0..150u32 {
                let end = &ends[(i % 3) as usize];
                if end.call(&Hit(c * 1000 + i)).await.is_ok() {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                labrpc::sleep(ms(7)).await;
            }
        }));
    }
    let mut restarts = 0;
    for client in clients {
        // Restart crashed servers while the clients run.
        let mut client = client;
        loop {
            match labrpc::timeout(ms(50), &mut client).await {
                Ok(done) => break done.expect("the client task"),
                Err(_) => {
                    for (node, name) in nodes.iter_mut().zip(names) {
                        if !node.is_alive() {
                            net.delete_server(name);
                            *node = start_server(&net, name, &log);
                            restarts += 1;
                        }
                    }
                }
            }
        }
    }
    labrpc::sleep(Duration::from_secs(3)).await;
    if plans == Plans::On {
        assert!(restarts > 0, "some server crashed after a reply");
    } else {
        assert_eq!(restarts, 0, "no server crashed ({plans:?})");
    }
    ok.load(Ordering::Relaxed)
}

/// Plans that are off, set to `None`, matching nothing, or at a rate of 0 draw no random
/// number and change nothing: the run is the very run without them, event for event.
/// Plans that are on change it, and replay from the seed.
#[test]
fn plans_that_are_off_change_nothing() {
    for seed in FIXED_SEEDS {
        let run = |plans| Sim::new(seed).run_with_report(mixed_workload(plans));
        let (ok, baseline) = run(Plans::NeverSet);
        for plans in [Plans::SetToNone, Plans::Unmatched, Plans::RateZero] {
            let (ok_too, report) = run(plans);
            assert_eq!(
                (ok_too, &report),
                (ok, &baseline),
                "seed {seed}: {plans:?} changed the run"
            );
        }
        let (on_ok, on) = run(Plans::On);
        assert_ne!(on.trace_hash, baseline.trace_hash, "seed {seed}: plans on");
        assert_eq!(run(Plans::On), (on_ok, on), "seed {seed}: plans on replay");
    }
}

// ----- a run with both plans frees everything -----

const CHILD_ENV: &str = "LABRPC_WORST_MOMENTS_TEST_CHILD";

/// In a process of its own, since the counts of live objects are the whole process's.
#[test]
#[ignore = "a child process of the worst-moments tests; run by them"]
fn child_a_run_with_both_plans_frees_everything() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    for seed in 0..5 {
        Sim::new(seed).run(async {
            mixed_workload(Plans::On).await;
            // Copies still on their way, and servers crashed and never deleted, when the
            // body returns.
            let net = Network::new();
            net.set_stale_duplicates(Some(always_duplicate(10_000..10_001)));
            net.set_crash_after_reply(Some(always_crash()));
            let log = Log::default();
            start_server(&net, "S1", &log);
            start_server(&net, "S2", &log);
            let end = common::connected_end(&net, "c->S1", "S1");
            let other = common::connected_end(&net, "c->S2", "S2");
            let _crashes = net.reply_crashes();
            net.set_crash_after_reply(Some(CrashAfterReply {
                servers: vec!["S2".into()],
                ..always_crash()
            }));
            assert_eq!(end.call(&Hit(1)).await, Ok(1));
            assert_eq!(other.call(&Hit(1)).await, Ok(1));
        });
    }
    assert_eq!(
        live_objects(),
        LiveObjects::default(),
        "objects of finished runs are still alive"
    );
}

#[test]
fn a_run_with_both_plans_frees_everything() {
    let run = common::run_child(
        CHILD_ENV,
        Duration::from_secs(120),
        "child_a_run_with_both_plans_frees_everything",
        &[],
    );
    assert!(run.status.success(), "{}", run.output());
    run.assert_mentions("1 passed");
}
