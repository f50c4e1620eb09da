//! Tests of the wall-clock watchdog, which catches a task that never yields.
//!
//! Every watchdog scenario runs in a child process: the parent test re-executes this test
//! binary (`std::env::current_exe()`) to run one `#[ignore]`d child test by exact name, with
//! an environment variable that tells the child it was started on purpose. A watchdog that
//! has to give up on a stuck task exits its whole process; in a child that cannot take the
//! test binary down. Children started without that variable (for example by
//! `cargo test -- --ignored`) do nothing and pass.
//!
//! Wall-clock time appears only as a hang guard: a child that has not finished after
//! [`HANG_GUARD`] is killed and the test fails.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labrpc::Instant;
use labrpc::tester::{Node, Sim};

mod common;
use common::{ChildRun, panic_message};

/// Set (to `1`) in the environment of the child processes the parent tests start.
const CHILD_ENV: &str = "LABRPC_WATCHDOG_TEST_CHILD";

/// Set in a child's environment to keep it alive after its simulation failed.
const STAY_ALIVE_ENV: &str = "LABRPC_WATCHDOG_TEST_STAY_ALIVE";

/// The watchdog limit the children use.
const LIMIT: Duration = Duration::from_millis(200);

/// Real time after which a child is declared hung, killed, and the test failed.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// Runs the `#[ignore]`d test `name` of this binary in a child process.
fn run_child(name: &str, env: &[(&str, &str)]) -> ChildRun {
    common::run_child(CHILD_ENV, HANG_GUARD, name, env)
}

/// Whether this process is a child started by one of the parent tests.
fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Markers around the panic message a hook-route child caught.
const MESSAGE_BEGIN: &str = "CHILD-CAUGHT-MESSAGE-BEGIN";
const MESSAGE_END: &str = "CHILD-CAUGHT-MESSAGE-END";
const SURVIVED: &str = "CHILD-SURVIVED";

/// The message between the markers in a child's stdout.
fn caught_message(run: &ChildRun) -> String {
    let begin = run.stdout.find(MESSAGE_BEGIN).unwrap_or_else(|| {
        panic!(
            "the child printed no caught panic message\n{}",
            run.output()
        )
    });
    let rest = &run.stdout[begin + MESSAGE_BEGIN.len()..];
    let end = rest.find(MESSAGE_END).expect("the end marker");
    rest[..end].trim().to_string()
}

/// The hook route, in the child: a task spins calling `labrpc::now()` without ever
/// awaiting. The watchdog flags the world, and the next runtime call panics.
fn hook_route_child(spin_in_test_body: bool) {
    let sim = Sim::new(77).watchdog(LIMIT);
    let result = catch_unwind(AssertUnwindSafe(|| {
        sim.run(async move {
            let never = Instant::START + Duration::from_secs(1);
            if spin_in_test_body {
                while labrpc::now() < never {}
            } else {
                drop(Node::new("Spinner").spawn(async move {
                    // Virtual time cannot move during a poll: this never ends by itself.
                    while labrpc::now() < never {}
                }));
                labrpc::sleep(Duration::from_secs(1)).await;
            }
        });
    }));
    let message = match result {
        Ok(()) => "the simulation finished: the watchdog did not stop it".to_string(),
        Err(payload) => panic_message(payload),
    };
    println!("{MESSAGE_BEGIN}\n{message}\n{MESSAGE_END}");
    if std::env::var_os(STAY_ALIVE_ENV).is_some() {
        // Long enough for the watchdog's second stage (2 × limit + 1 s) to fire, were it
        // still watching the failed world.
        std::thread::sleep(LIMIT * 2 + Duration::from_secs(3));
        println!("{SURVIVED}");
    }
}

#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_hook_route_task() {
    if is_child() {
        hook_route_child(false);
    }
}

#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_hook_route_test_body() {
    if is_child() {
        hook_route_child(true);
    }
}

#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_ordinary_failure_then_stay_alive() {
    if !is_child() {
        return;
    }
    // An ordinary failing assertion in a test body: nothing to do with the watchdog.
    let result = catch_unwind(AssertUnwindSafe(|| {
        Sim::new(79).watchdog(LIMIT).run(async {
            labrpc::sleep(Duration::from_millis(5)).await;
            assert_eq!(1 + 1, 3, "an ordinary test failure");
        });
    }));
    let message = result.map_or_else(panic_message, |()| "no failure".into());
    println!("{MESSAGE_BEGIN}\n{message}\n{MESSAGE_END}");
    std::thread::sleep(LIMIT * 2 + Duration::from_secs(3));
    println!("{SURVIVED}");
}

/// Never set: the spinning loop below cannot be proven endless by the compiler, but is.
static NEVER: AtomicBool = AtomicBool::new(false);

#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_pure_spin() {
    if !is_child() {
        return;
    }
    Sim::new(78).watchdog(LIMIT).run(async {
        drop(Node::new("Spinner").spawn(async {
            // A pure busy loop: it never calls into labrpc, so the watchdog cannot stop it
            // with a panic and must end the process.
            loop {
                std::hint::spin_loop();
                if NEVER.load(Ordering::Relaxed) {
                    break;
                }
            }
        }));
        labrpc::sleep(Duration::from_secs(1)).await;
    });
    println!("CHILD-RETURNED (must not happen)");
}

#[test]
fn hook_route_a_spinning_task_that_calls_the_runtime_panics_with_the_watchdog_message() {
    let run = run_child("child_hook_route_task", &[]);
    run.assert_mentions("running 1 test");
    assert!(
        run.status.success(),
        "the child should have caught the watchdog's panic and passed ({}, {:?})\n{}",
        run.status,
        run.wall,
        run.output()
    );
    let message = caught_message(&run);
    for needle in [
        "labrpc watchdog: in child_hook_route_task (seed 77), a task of Spinner spawned at \
         labrpc/tests/watchdog.rs:",
        "of CPU time in one poll without yielding",
        "replay:  LAB_SEED=77 cargo test -p labrpc -- --exact child_hook_route_task",
        ".await",
        "loop without .await",
        "labrpc::sleep(..).await",
    ] {
        assert!(
            message.contains(needle),
            "the watchdog's panic should contain {needle:?}; it was:\n{message}"
        );
    }
}

#[test]
fn hook_route_a_spinning_test_body_names_the_tester_node() {
    let run = run_child("child_hook_route_test_body", &[]);
    assert!(
        run.status.success(),
        "the child should have caught the watchdog's panic and passed ({})\n{}",
        run.status,
        run.output()
    );
    let message = caught_message(&run);
    assert!(
        message.contains("labrpc watchdog: in child_hook_route_test_body (seed 77), the test body")
            && message.contains("loop without .await"),
        "the watchdog's panic should name the tester node; it was:\n{message}"
    );
}

/// After the hook route stopped a task, its failed simulation is over: the watchdog must
/// not go on to end the process (that would take down every other test of the binary).
#[test]
fn hook_route_after_the_panic_the_process_lives_on() {
    let run = run_child("child_hook_route_task", &[(STAY_ALIVE_ENV, "1")]);
    assert!(
        run.status.success() && run.stdout.contains(SURVIVED),
        "after its simulation failed with the watchdog's panic, the child process was ended \
         ({}) instead of living on: the watchdog kept watching the failed world, whose poll \
         never ended, and exited the process.\n{}",
        run.status,
        run.output()
    );
}

/// A simulation that fails with an ordinary panic inside a poll (here a failing assertion
/// in the test body) is over; the watchdog must not, seconds later, end the process and
/// blame a node for not yielding. In a real `cargo test` this would kill every other test
/// still running in the binary, with a misleading message.
#[test]
fn an_ordinary_failure_in_a_poll_is_not_later_reported_by_the_watchdog() {
    let run = run_child("child_ordinary_failure_then_stay_alive", &[]);
    run.assert_mentions("running 1 test");
    assert!(
        caught_message(&run).contains("an ordinary test failure"),
        "{}",
        run.output()
    );
    assert!(
        run.status.success() && run.stdout.contains(SURVIVED),
        "after a simulation failed with an ordinary assertion, the child process was ended \
         ({}) by the watchdog instead of living on.\n{}",
        run.status,
        run.output()
    );
    assert!(
        !run.stderr.contains("labrpc watchdog"),
        "the watchdog spoke about a simulation that had already failed\n{}",
        run.output()
    );
}

#[test]
fn subprocess_route_a_pure_spin_loop_ends_the_process_with_an_explanation() {
    let run = run_child("child_pure_spin", &[]);
    run.assert_mentions("running 1 test");
    assert!(
        !run.status.success(),
        "a simulation stuck in a pure spin loop must fail, but the child passed\n{}",
        run.output()
    );
    assert!(
        !run.stdout.contains("CHILD-RETURNED"),
        "the stuck simulation must not return\n{}",
        run.output()
    );
    run.assert_mentions("labrpc watchdog: in child_pure_spin (seed 78), a task of Spinner");
    run.assert_mentions("loop without .await");
    run.assert_mentions("never called into the runtime");
    run.assert_mentions("exiting the process");
    println!(
        "the stuck child ended with {} after {:?} of real time",
        run.status, run.wall
    );
}

/// A task that takes a lock it already holds blocks in the kernel, using no CPU: the
/// watchdog notices a thread asleep inside one poll, says so, and names the usual cause.
#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_lock_taken_twice() {
    if !is_child() {
        return;
    }
    Sim::new(80).watchdog(LIMIT).run(async {
        let state = std::sync::Arc::new(parking_lot::Mutex::new(0));
        drop(Node::new("Locker").spawn(async move {
            let _first = state.lock();
            let _second = state.lock(); // waits for itself forever
        }));
        labrpc::sleep(Duration::from_secs(1)).await;
    });
    println!("CHILD-RETURNED (must not happen)");
}

#[test]
fn a_lock_taken_twice_is_reported_as_blocked_not_busy() {
    let run = run_child("child_lock_taken_twice", &[]);
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("labrpc watchdog: in child_lock_taken_twice (seed 80), a task of Locker");
    if std::path::Path::new("/proc/thread-self").exists() {
        run.assert_mentions("has been blocked for");
        run.assert_mentions("one taken again while already held");
    }
    run.assert_mentions("exiting the process");
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Spin;

impl labrpc::Rpc for Spin {
    type Reply = ();
    const METHOD: &'static str = "Spinner.Spin";
}

/// A handler that never yields is named by its RPC method, not by the place inside labrpc
/// that spawned it.
#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_spinning_handler() {
    if !is_child() {
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        Sim::new(81).watchdog(LIMIT).run(async {
            let net = labrpc::tester::Network::new();
            let service = labrpc::Service::new("Spinner").method(|Spin| async {
                let never = Instant::START + Duration::from_secs(1);
                while labrpc::now() < never {}
            });
            net.add_server(
                "S1",
                labrpc::tester::Server::on(Node::new("S1")).with_service(service),
            );
            let end = net.make_end("c->S1");
            net.connect("c->S1", "S1");
            net.enable("c->S1", true);
            let _ = end.call(&Spin).await;
        });
    }));
    let message = result.map_or_else(panic_message, |()| "no failure".into());
    println!("{MESSAGE_BEGIN}\n{message}\n{MESSAGE_END}");
}

#[test]
fn a_spinning_handler_is_named_by_its_method() {
    let run = run_child("child_spinning_handler", &[]);
    assert!(run.status.success(), "{}", run.output());
    let message = caught_message(&run);
    assert!(
        message.contains("the Spinner.Spin handler on S1"),
        "the watchdog should name the handler's RPC; it said:\n{message}"
    );
}

/// `LAB_WATCHDOG` sets the limit for tests run by `run_test` (a grader shortens it, so a
/// stuck submission costs less).
#[test]
#[ignore = "a child process of the watchdog tests; run by them"]
fn child_run_test_spin() {
    if is_child() {
        Sim::builder().run_test(|| async {
            let never = Instant::START + Duration::from_secs(1);
            while labrpc::now() < never {}
        });
    }
}

#[test]
fn lab_watchdog_sets_the_limit_of_run_test() {
    let run = run_child("child_run_test_spin", &[("LAB_WATCHDOG", "250ms")]);
    assert!(!run.status.success(), "{}", run.output());
    run.assert_mentions("labrpc watchdog: in child_run_test_spin (seed ");
    assert!(
        run.wall < Duration::from_secs(4),
        "with a 250 ms limit the child should fail within a second or so, took {:?}\n{}",
        run.wall,
        run.output()
    );
}
