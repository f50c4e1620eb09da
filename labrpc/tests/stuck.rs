//! The check at the end of every run: a live node whose tasks all wait for something that
//! can never happen (no timer, no message on its way) is stuck, and fails the run even
//! though the test body returned. Without it, a test shorter than the 5 s of the check
//! made while a run goes on passes with every server frozen.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labrpc::Service;
use labrpc::tester::{Network, Node, Server, Sim, at_end_of_run};

mod common;
use common::{Ping, connected_end, panic_message};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `body` in a fresh simulation and returns its panic message.
fn failure_of<F: Future<Output = ()>>(seed: u64, body: F) -> String {
    let result = catch_unwind(AssertUnwindSafe(|| Sim::new(seed).run(body)));
    panic_message(result.expect_err("the run should have failed"))
}

#[track_caller]
fn assert_contains(message: &str, needle: &str) {
    assert!(
        message.contains(needle),
        "expected {needle:?} in:\n{message}"
    );
}

/// A task that takes an async lock and then takes it again: it waits forever, and no
/// timer or message can ever wake it.
async fn lock_twice() {
    let lock = futures::lock::Mutex::new(());
    let _held = lock.lock().await;
    let _again = lock.lock().await;
    unreachable!("a lock taken twice is never granted");
}

/// A task that sleeps forever, a tick at a time: a server's election timer.
async fn ticker() {
    loop {
        labrpc::sleep(ms(100)).await;
    }
}

// ----- stuck: the run fails -----

#[test]
fn a_node_frozen_by_a_lock_taken_twice_fails_the_run_when_the_test_ends() {
    let message = failure_of(21, async {
        drop(Node::new("S1").spawn(lock_twice()));
        labrpc::sleep(ms(1000)).await; // well under the 5 s of the check made meanwhile
    });
    assert_contains(
        &message,
        "labrpc: S1 is stuck: its only task waits for something that can never happen (no \
         timer, no message on its way) — a deadlock, e.g. a lock taken twice or a channel \
         nobody sends on.",
    );
    assert_contains(&message, "Stuck when the test ended (at 1.000000s)");
    assert_contains(
        &message,
        "S1: 1 task, none has run since 0.000000s, and it never set a timer of its own:",
    );
    assert_contains(&message, "1 spawned at labrpc/tests/stuck.rs:");
}

/// Two tasks, each holding the sender the other waits on (a channel nobody sends on), on
/// two nodes; and a third node with a ticker, which is not stuck.
#[test]
fn every_stuck_node_is_named_with_its_tasks() {
    let message = failure_of(22, async {
        for name in ["S0", "S1"] {
            let node = Node::new(name);
            let (tx1, rx1) = futures::channel::oneshot::channel::<()>();
            let (tx2, rx2) = futures::channel::oneshot::channel::<()>();
            drop(node.spawn(async move {
                labrpc::sleep(ms(300)).await;
                let _keep = tx2;
                let _ = rx1.await;
            }));
            drop(node.spawn(async move {
                let _keep = tx1;
                let _ = rx2.await;
            }));
        }
        drop(Node::new("S2").spawn(ticker()));
        labrpc::sleep(ms(500)).await;
    });
    assert_contains(
        &message,
        "labrpc: S0 is stuck: all its 2 tasks wait for something that can never happen",
    );
    assert_contains(&message, "S1 is stuck too.");
    assert_contains(
        &message,
        "S0: 2 tasks, none has run since 0.300000s, and its last timer of its own was set at \
         0.000000s:",
    );
    assert_contains(&message, "  S1: 2 tasks");
    assert!(!message.contains("S2 is stuck"), "{message}");
    assert!(!message.contains("  S2: "), "{message}");
}

/// A caller waiting for a reply is not saved by it when the handler is stuck itself.
#[test]
fn a_caller_waiting_for_a_stuck_handler_is_stuck_too() {
    let message = failure_of(23, async {
        let net = Network::new();
        let service = Service::new("Echo").method(|Ping(x): Ping| async move {
            lock_twice().await;
            x
        });
        net.add_server("S1", Server::on(Node::new("S1")).with_service(service));
        let end = connected_end(&net, "C->S1", "S1");
        drop(Node::new("C").spawn(async move {
            let _ = end.call(&Ping(1)).await;
        }));
        labrpc::sleep(ms(100)).await;
    });
    assert_contains(&message, "labrpc: S1 is stuck: its only task waits");
    assert_contains(&message, "C is stuck too.");
    assert_contains(&message, "1 Echo.Ping handler");
}

/// The report of a failing seed of `run_test`: the message, then the seed and the
/// command that replays it, as for every failure.
#[test]
#[ignore = "a child process of the stuck-node tests; run by them"]
fn child_stuck_server() {
    if std::env::var_os(CHILD_ENV).is_some() {
        Sim::builder().run_test(|| async {
            drop(Node::new("S3").spawn(lock_twice()));
            labrpc::sleep(ms(10)).await;
        });
    }
}

const CHILD_ENV: &str = "LABRPC_STUCK_TEST_CHILD";

#[test]
fn a_stuck_node_fails_the_seed_with_its_replay_command() {
    let run = common::run_child(
        CHILD_ENV,
        Duration::from_secs(60),
        "child_stuck_server",
        &[],
    );
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("labrpc: S3 is stuck: its only task waits");
    let seed = run.failed_seed();
    run.assert_mentions(&format!("replay:  LAB_SEED={seed} "));
    run.assert_mentions("-- --exact child_stuck_server");
}

// ----- messages on their way -----

/// A call on a dead end fails after a delay of up to 7 s (long delays): while it is on
/// its way, the node is not known to be stuck. The lab nodes then run on past the end of
/// the test until it has arrived; the tester's tasks do not.
#[test]
fn a_node_whose_last_call_is_on_the_wire_is_judged_once_it_has_arrived() {
    let message = failure_of(24, async {
        let net = Network::new();
        net.set_long_delays(true);
        let end = net.make_end("S1->nowhere"); // never connected: a dead end
        drop(Node::new("S1").spawn(async move {
            let _ = end.call(&Ping(1)).await;
            lock_twice().await;
        }));
        drop(labrpc::spawn(async {
            labrpc::sleep(ms(500)).await;
            panic!("a task of the tester ran after the test ended");
        }));
        labrpc::sleep(ms(1)).await;
    });
    assert_contains(&message, "labrpc: S1 is stuck: its only task waits");
    assert_contains(
        &message,
        "The test ended at 0.001000s, when only messages on their way",
    );
    assert!(!message.contains("a task of the tester ran"), "{message}");
}

/// The same node, but the task sleeps once its call has failed: not stuck. Nor is one
/// that calls a dead end again and again: a message on its way could still wake it.
#[test]
fn a_node_that_runs_on_once_its_calls_fail_is_not_stuck() {
    Sim::new(25).run(async {
        let net = Network::new();
        net.set_long_delays(true);
        let end = net.make_end("S1->nowhere");
        drop(Node::new("S1").spawn(async move {
            let _ = end.call(&Ping(1)).await;
            ticker().await;
        }));
        let end = net.make_end("S2->nowhere");
        drop(Node::new("S2").spawn(async move {
            loop {
                let _ = end.call(&Ping(1)).await;
            }
        }));
        drop(labrpc::spawn(async {
            labrpc::sleep(ms(500)).await;
            panic!("a task of the tester ran after the test ended");
        }));
        labrpc::sleep(ms(1)).await;
    });
}

// ----- not stuck: the run passes -----

/// A node with a timer (a KV server whose Raft has its election timer: the service's task
/// waits on the apply channel, which the timer's task feeds); a node with no task; a
/// crashed node; and the tester's own node, whatever they wait for.
#[test]
fn a_node_with_a_timer_with_no_task_or_dead_is_not_stuck() {
    Sim::new(26).run(async {
        let server = Node::new("S1");
        let (apply_tx, mut apply_rx) = futures::channel::mpsc::unbounded::<u64>();
        drop(server.spawn(async move {
            use futures::StreamExt as _;
            while apply_rx.next().await.is_some() {}
        }));
        drop(server.spawn(async move {
            let _apply_tx = apply_tx;
            ticker().await;
        }));
        let idle = Node::new("idle");
        assert_eq!(idle.spawn(async { 7 }).await, Ok(7));
        let _never_used = Node::new("empty");
        let crashed = Node::new("crashed");
        drop(crashed.spawn(lock_twice()));
        labrpc::sleep(ms(10)).await;
        crashed.kill();
        drop(labrpc::spawn(lock_twice())); // a task of the tester
        labrpc::sleep(ms(1000)).await;
    });
}

/// A caller whose handler will reply (it sleeps first: a timer) is not stuck, though it
/// has no timer itself.
#[test]
fn a_node_waiting_for_a_reply_that_may_come_is_not_stuck() {
    Sim::new(27).run(async {
        let net = Network::new();
        let service = Service::new("Echo").method(|Ping(x): Ping| async move {
            labrpc::sleep(Duration::from_secs(10)).await;
            x
        });
        net.add_server("S1", Server::on(Node::new("S1")).with_service(service));
        let end = connected_end(&net, "C->S1", "S1");
        drop(Node::new("C").spawn(async move {
            let _ = end.call(&Ping(1)).await;
        }));
        labrpc::sleep(ms(100)).await;
    });
}

/// `stuck_node_after(None)` turns the check off, for tests whose nodes legitimately wait
/// for the tester.
#[test]
fn the_check_can_be_turned_off() {
    Sim::new(28).stuck_node_after(None).run(async {
        drop(Node::new("S1").spawn(lock_twice()));
        labrpc::sleep(ms(10)).await;
    });
}

/// The check draws no random number and records nothing: a run that passes it is the
/// same run, event for event, as one without it.
#[test]
fn the_check_changes_nothing_in_a_run_that_passes() {
    let body = || async {
        let net = Network::new();
        net.set_reliable(false);
        let service = Service::new("Echo").method(|Ping(x): Ping| async move { x });
        net.add_server("S1", Server::on(Node::new("S1")).with_service(service));
        let end = connected_end(&net, "C->S1", "S1");
        let client = Node::new("C");
        drop(client.spawn(ticker()));
        drop(client.spawn(async move {
            for i in 0.. {
                let _ = end.call(&Ping(i)).await;
            }
        }));
        labrpc::sleep(ms(2000)).await;
    };
    let (_, checked) = Sim::new(29).run_with_report(body());
    let (_, unchecked) = Sim::new(29).stuck_node_after(None).run_with_report(body());
    assert_eq!(checked, unchecked);
}

// ----- the harness's cleanup -----

/// The course's cleanup kills every server when the test ends; a `kill()` that aborts the
/// server's own tasks leaves the task the tester gave it (an applier, whose channel's
/// sender the server keeps) waiting for ever. Made in the body, that fails the run; given
/// to `at_end_of_run`, it runs after the check, and only if the run passed.
#[test]
fn cleanup_runs_after_the_check_and_only_when_the_run_passed() {
    /// A server: the tester's applier, and the server's own ticker.
    fn server() -> (
        labrpc::JoinHandle<()>,
        futures::channel::oneshot::Sender<u64>,
    ) {
        let node = Node::new("S1");
        let (apply_tx, apply_rx) = futures::channel::oneshot::channel::<u64>();
        drop(node.spawn(async move {
            let _ = apply_rx.await;
        }));
        (node.spawn(ticker()), apply_tx)
    }

    let cleaned = Arc::new(AtomicBool::new(false));
    let flag = cleaned.clone();
    Sim::new(30).run(async move {
        let (ticker, apply_tx) = server();
        labrpc::sleep(ms(100)).await;
        at_end_of_run(move || {
            ticker.abort();
            drop(apply_tx);
            flag.store(true, Ordering::SeqCst);
        });
    });
    assert!(cleaned.load(Ordering::SeqCst), "the cleanup did not run");

    let cleaned = Arc::new(AtomicBool::new(false));
    let flag = cleaned.clone();
    let message = failure_of(31, async move {
        let (ticker, apply_tx) = server();
        labrpc::sleep(ms(100)).await;
        ticker.abort();
        at_end_of_run(move || {
            drop(apply_tx);
            flag.store(true, Ordering::SeqCst);
        });
    });
    assert_contains(&message, "labrpc: S1 is stuck: its only task waits");
    assert!(
        !cleaned.load(Ordering::SeqCst),
        "the cleanup ran in a run that failed"
    );
}
