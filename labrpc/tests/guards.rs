//! The guards that keep lab code honest and every failure explained: the tester-only
//! controls, handles that belong to one run, the stuck-node check, a run freeing what it
//! made, and the reports of a process that exits, aborts or overflows its stack while a
//! simulation runs (those three in child processes, which they end).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use labrpc::Service;
use labrpc::tester::{Network, Node, Server, Sim};

mod common;
use common::{ChildRun, Ping, connected_end, panic_message};

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

// ----- the tester's controls -----

#[test]
fn lab_code_cannot_create_nodes_or_spawn_on_another_node() {
    let message = failure_of(1, async {
        let server = Node::new("S1");
        let handle = server.spawn(async {
            let _ = Node::new("sneaky");
        });
        let _ = handle.await;
    });
    assert_contains(&message, "lab code on S1 called Node::new(\"sneaky\")");
    assert_contains(&message, "only the tester may use");

    let message = failure_of(2, async {
        let server = Node::new("S1");
        let tester = Node::tester();
        let handle = server.spawn(async move {
            // A task that would survive its own node's crash.
            drop(tester.spawn(async {}));
        });
        let _ = handle.await;
    });
    assert_contains(&message, "lab code on S1 called Node::spawn on tester");
    assert_contains(&message, "labrpc::spawn");
}

#[test]
fn lab_code_cannot_crash_another_node_but_may_crash_itself() {
    let message = failure_of(3, async {
        let victim = Node::new("S2");
        let handle = Node::new("S1").spawn(async move { victim.kill() });
        let _ = handle.await;
    });
    assert_contains(&message, "lab code on S1 called Node::kill(S2)");

    Sim::new(4).run(async {
        let server = Node::new("S1");
        drop(server.spawn(async { Node::current().kill() }));
        labrpc::sleep(ms(1)).await;
        assert!(!server.is_alive());
    });
}

#[test]
fn lab_code_cannot_touch_the_networks_controls() {
    let message = failure_of(5, async {
        let net = Network::new();
        let handle = Node::new("S1").spawn(async move { net.enable("S1->S2", true) });
        let _ = handle.await;
    });
    assert_contains(&message, "lab code on S1 called Network::enable");
    assert_contains(&message, "ClientEnds it was given");
}

// ----- handles belong to one run -----

#[test]
fn a_node_from_another_run_is_refused() {
    let node = Sim::new(6).run(async { Node::new("S1") });
    let message = failure_of(7, async move {
        let _ = Node::new("S1");
        node.kill();
    });
    assert_contains(
        &message,
        "a Node from another simulation run was used in this one",
    );
    assert_contains(&message, "static");
}

#[test]
fn a_join_handle_or_a_sleep_from_another_run_is_refused() {
    let (handle, sleep) =
        Sim::new(8).run(async { (labrpc::spawn(labrpc::sleep(ms(5))), labrpc::sleep(ms(5))) });
    let message = failure_of(9, async move {
        let _ = handle.await;
    });
    assert_contains(&message, "a JoinHandle from another simulation run");
    let message = failure_of(10, sleep);
    assert_contains(&message, "a Sleep (or timeout) from another simulation run");
}

/// A server `name` on a fresh node, answering `Echo.Ping` with its argument.
fn echo_server(net: &Network, name: &str) {
    let service = Service::new("Echo").method(|Ping(x): Ping| async move { x });
    net.add_server(name, Server::on(Node::new(name)).with_service(service));
}

#[test]
fn an_end_from_another_run_is_refused() {
    let end = Sim::new(11).run(async {
        let net = Network::new();
        echo_server(&net, "S1");
        let end = connected_end(&net, "c->S1", "S1");
        assert_eq!(end.call(&Ping(1)).await, Ok(1));
        end
    });
    let message = failure_of(12, async move {
        let _ = end.call(&Ping(2)).await;
    });
    assert_contains(&message, "a ClientEnd from another simulation run");
}

// ----- stuck nodes -----

/// Two tasks of one node, each waiting for what only the other would send: an async
/// deadlock. The tester keeps sleeping, so the world never runs out of timers; the
/// stuck-node check is what catches it.
#[test]
fn a_node_whose_tasks_all_wait_without_a_timer_is_reported_stuck() {
    let message = failure_of(13, async {
        let server = Node::new("S2");
        let lock = Arc::new(futures::lock::Mutex::new(()));
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let held = lock.clone();
        drop(server.spawn(async move {
            let _guard = held.lock().await;
            let _ = rx.await; // the sender waits for the lock we hold
        }));
        drop(server.spawn(async move {
            labrpc::sleep(ms(10)).await;
            let _guard = lock.lock().await;
            let _ = tx.send(());
        }));
        for _ in 0..100 {
            labrpc::sleep(ms(100)).await;
        }
    });
    assert_contains(
        &message,
        "S2 is stuck: every task waits and none has a timer",
    );
    assert_contains(&message, "None of its 2 tasks has run since 0.010000s");
    assert_contains(&message, "1 spawned at labrpc/tests/guards.rs:");
    assert_contains(&message, "async deadlock");
}

/// A node with a timer armed is never stuck, however long it waits; nor is one whose
/// tasks keep being woken by messages.
#[test]
fn a_node_with_a_timer_or_with_traffic_is_not_stuck() {
    Sim::new(14).run(async {
        let ticking = Node::new("ticking");
        drop(ticking.spawn(async {
            let (_tx, rx) = futures::channel::oneshot::channel::<()>();
            let _ = rx.await;
        }));
        drop(ticking.spawn(async {
            loop {
                labrpc::sleep(Duration::from_secs(1)).await;
            }
        }));
        let net = Network::new();
        echo_server(&net, "S1");
        let end = connected_end(&net, "c->S1", "S1");
        for i in 0..30 {
            assert_eq!(end.call(&Ping(i)).await, Ok(i));
            labrpc::sleep(Duration::from_secs(1)).await;
        }
    });
}

// ----- exit, abort and stack overflow while a simulation runs -----

const CHILD_ENV: &str = "LABRPC_GUARDS_TEST_CHILD";

fn run_child(name: &str) -> ChildRun {
    common::run_child(CHILD_ENV, Duration::from_secs(60), name, &[])
}

fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

#[test]
#[ignore = "a child process of the guard tests; run by them"]
fn child_exit_zero_in_a_handler() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let net = Network::new();
            let service = Service::new("Echo").method(|Ping(_): Ping| async move {
                std::process::exit(0);
            });
            net.add_server("S1", Server::on(Node::new("S1")).with_service(service));
            let end = connected_end(&net, "c->S1", "S1");
            labrpc::sleep(ms(3000)).await;
            let _ = end.call(&Ping(1)).await;
        });
    }
}

#[test]
fn exit_zero_in_lab_code_is_a_failure_naming_the_test_and_seed() {
    let run = run_child("child_exit_zero_in_a_handler");
    assert_eq!(run.status.code(), Some(101), "{}", run.output());
    run.assert_mentions("std::process::exit was called while a simulation was running");
    run.assert_mentions("it happened in this simulation's code:");
    run.assert_mentions("while child_exit_zero_in_a_handler (seed ");
    run.assert_mentions("replay:  LAB_SEED=");
    run.assert_mentions("-- --exact child_exit_zero_in_a_handler");
}

#[test]
#[ignore = "a child process of the guard tests; run by them"]
fn child_abort() {
    if is_child() {
        Sim::builder().run_test(|| async {
            labrpc::sleep(ms(5)).await;
            std::process::abort();
        });
    }
}

#[test]
fn an_abort_names_the_test_and_seed() {
    let run = run_child("child_abort");
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("the process aborted while a simulation was running");
    run.assert_mentions("while child_abort (seed ");
    run.assert_mentions("-- --exact child_abort");
}

#[test]
#[ignore = "a child process of the guard tests; run by them"]
fn child_runaway_recursion() {
    #[allow(unconditional_recursion)]
    fn recurse(buffer: [u8; 256]) -> u64 {
        let local = std::hint::black_box(buffer);
        recurse(local) + u64::from(local[0])
    }
    if is_child() {
        Sim::builder().run_test(|| async {
            labrpc::sleep(ms(5)).await;
            let _ = recurse([1; 256]);
        });
    }
}

#[test]
fn a_stack_overflow_names_the_test_and_seed() {
    let run = run_child("child_runaway_recursion");
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("thread 'child_runaway_recursion seed=");
    run.assert_mentions("has overflowed its stack");
    run.assert_mentions("-- --exact child_runaway_recursion");
}

#[test]
#[ignore = "a child process of the guard tests; run by them"]
fn child_task_leak() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let server = Node::new("S3");
            for _ in 0..1500 {
                drop(server.spawn(futures::future::pending::<()>()));
            }
            // A ticker, as a server has: without it S3 would be stuck, and fail the run.
            drop(server.spawn(async {
                loop {
                    labrpc::sleep(ms(100)).await;
                }
            }));
            labrpc::sleep(ms(5)).await;
        });
    }
}

#[test]
fn a_passing_test_that_leaks_thousands_of_tasks_is_warned_about() {
    let run = run_child("child_task_leak");
    assert!(run.status.success(), "{}", run.output());
    run.assert_mentions("S3 had 1501 live tasks when the test ended (1500 spawned at");
    run.assert_mentions("a task leak?");
}
