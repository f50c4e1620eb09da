//! Integration tests of the simulated runtime: virtual time and timers, tasks and join
//! handles, nodes and crashes, the failure reports (deadlock, livelock, time limit, panics),
//! and the seeded random number generator.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::channel::oneshot;
use labrpc::tester::{Network, Node, Server, Sim};
use labrpc::{Elapsed, Instant, JoinError, JoinHandle, Rpc, RpcError, Service};
use rand::{Rng, RngExt};

mod common;
use common::panic_message;
use serde::{Deserialize, Serialize};

/// Seeds for claims that must hold whatever the seed.
const SEEDS: [u64; 8] = [0, 1, 2, 3, 42, 1234, 0xdead_beef, u64::MAX];

/// A watchdog limit long enough never to matter, for runs that are meant to fail with a
/// panic inside a poll. Such a failed run currently leaves its watchdog monitor looking
/// "stuck in a poll", and the watchdog would end this whole test binary 2 × limit + 1 s
/// later (`tests/watchdog.rs`,
/// `an_ordinary_failure_in_a_poll_is_not_later_reported_by_the_watchdog`).
const NO_WATCHDOG: Duration = Duration::from_secs(3600);

/// A shared, ordered record of what happened.
type Log = Arc<Mutex<Vec<String>>>;

fn new_log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Records `dropped <name>` when dropped: shows that a task's destructors ran.
struct Guard {
    name: String,
    log: Log,
}

impl Guard {
    fn new(name: impl Into<String>, log: &Log) -> Guard {
        Guard {
            name: name.into(),
            log: log.clone(),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        push(&self.log, format!("dropped {}", self.name));
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The virtual instant `d` after the start.
fn at(d: Duration) -> Instant {
    Instant::START + d
}

/// Runs a simulation that must fail, and returns its panic message.
fn failure_of<F: Future>(sim: Sim, body: F) -> String {
    match catch_unwind(AssertUnwindSafe(|| sim.run(body))) {
        Ok(_) => panic!("the simulation was expected to fail, but it finished normally"),
        Err(payload) => panic_message(payload),
    }
}

/// Asserts that `text` contains `needle`, showing the whole text if not.
#[track_caller]
fn assert_mentions(text: &str, needle: &str) {
    assert!(
        text.contains(needle),
        "expected the message to contain {needle:?}; the message was:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Timers and virtual time
// ---------------------------------------------------------------------------------------

/// A waker that records its id when woken: observes the order in which timers fire.
struct RecordingWaker {
    id: usize,
    fired: Arc<Mutex<Vec<usize>>>,
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.lock().unwrap().push(self.id);
    }
}

#[test]
fn timers_fire_in_deadline_order_and_equal_deadlines_in_the_order_set() {
    // (timer id, deadline), in the order the timers are set.
    let plan: [(usize, u64); 8] = [
        (0, 30),
        (1, 10),
        (2, 20),
        (3, 10),
        (4, 30),
        (5, 10),
        (6, 20),
        (7, 5),
    ];
    // Deadline order; within one deadline, the order the timers were set.
    let expected = vec![7, 1, 3, 5, 2, 6, 0, 4];
    for seed in SEEDS {
        let fired = Sim::new(seed).run(async move {
            let fired = Arc::new(Mutex::new(Vec::new()));
            let mut sleeps = Vec::new();
            for (id, deadline) in plan {
                let mut sleep = labrpc::sleep_until(at(ms(deadline)));
                let waker = Waker::from(Arc::new(RecordingWaker {
                    id,
                    fired: fired.clone(),
                }));
                // The first poll sets the timer, with this waker.
                let poll = Pin::new(&mut sleep).poll(&mut Context::from_waker(&waker));
                assert_eq!(
                    poll,
                    Poll::Pending,
                    "timer {id} completed before its deadline"
                );
                sleeps.push(sleep);
            }
            labrpc::sleep_until(at(ms(40))).await;
            let noop = Waker::noop();
            for sleep in &mut sleeps {
                let poll = Pin::new(sleep).poll(&mut Context::from_waker(noop));
                assert_eq!(
                    poll,
                    Poll::Ready(()),
                    "a timer did not complete after its deadline"
                );
            }
            fired.lock().unwrap().clone()
        });
        assert_eq!(
            fired, expected,
            "seed {seed}: timers must fire in deadline order, and timers with equal deadlines \
             in the order they were set"
        );
    }
}

#[test]
fn tasks_sleeping_to_different_deadlines_wake_in_deadline_order_and_on_time() {
    // Set in scrambled order, on several nodes.
    let deadlines_ms: [u64; 8] = [70, 10, 50, 30, 80, 20, 60, 40];
    for seed in SEEDS {
        let woke = Sim::new(seed).run(async move {
            let woke = Arc::new(Mutex::new(Vec::new()));
            let nodes = [Node::new("A"), Node::new("B"), Node::new("C")];
            let mut handles = Vec::new();
            for (i, deadline) in deadlines_ms.into_iter().enumerate() {
                let woke = woke.clone();
                handles.push(nodes[i % 3].spawn(async move {
                    labrpc::sleep(ms(deadline)).await;
                    woke.lock().unwrap().push((deadline, labrpc::now()));
                }));
            }
            for handle in handles {
                handle.await.expect("the sleeper was not cancelled");
            }
            woke.lock().unwrap().clone()
        });
        let order: Vec<u64> = woke.iter().map(|&(d, _)| d).collect();
        assert_eq!(
            order,
            vec![10, 20, 30, 40, 50, 60, 70, 80],
            "seed {seed}: tasks must wake in deadline order"
        );
        for (deadline, woke_at) in woke {
            assert_eq!(
                woke_at,
                at(ms(deadline)),
                "seed {seed}: a task sleeping {deadline} ms woke at {woke_at}"
            );
        }
    }
}

#[test]
fn tasks_sleeping_to_one_deadline_all_wake_at_that_instant_in_a_seed_determined_order() {
    fn run(seed: u64) -> Vec<(usize, Instant)> {
        Sim::new(seed).run(async {
            let woke = Arc::new(Mutex::new(Vec::new()));
            let mut handles = Vec::new();
            for i in 0..6 {
                let woke = woke.clone();
                handles.push(labrpc::spawn(async move {
                    labrpc::sleep_until(at(ms(25))).await;
                    woke.lock().unwrap().push((i, labrpc::now()));
                }));
            }
            for handle in handles {
                handle.await.unwrap();
            }
            woke.lock().unwrap().clone()
        })
    }
    for seed in SEEDS {
        let first = run(seed);
        let mut ids: Vec<usize> = first.iter().map(|&(i, _)| i).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            (0..6).collect::<Vec<_>>(),
            "seed {seed}: every task woke once"
        );
        for &(i, woke_at) in &first {
            assert_eq!(
                woke_at,
                at(ms(25)),
                "seed {seed}: task {i} woke at {woke_at}"
            );
        }
        assert_eq!(
            first,
            run(seed),
            "seed {seed}: the order of tasks woken at one instant must replay"
        );
    }
}

#[test]
fn sleep_advances_virtual_time_by_exactly_the_duration() {
    Sim::new(1).run(async {
        assert_eq!(
            labrpc::now(),
            Instant::START,
            "a simulation starts at time zero"
        );
        let durations = [
            Duration::from_nanos(1),
            Duration::from_micros(1),
            ms(1),
            ms(1500),
            Duration::from_nanos(123_456_789),
            Duration::ZERO,
        ];
        for d in durations {
            let before = labrpc::now();
            let sleep = labrpc::sleep(d);
            assert_eq!(sleep.deadline(), before + d, "the deadline of sleep({d:?})");
            sleep.await;
            let after = labrpc::now();
            assert_eq!(
                after - before,
                d,
                "sleep({d:?}) moved the clock by {:?}",
                after - before
            );
            assert_eq!(before.elapsed(), d);
        }
        // A deadline already passed completes at once, without moving the clock.
        let before = labrpc::now();
        labrpc::sleep_until(Instant::START).await;
        assert_eq!(
            labrpc::now(),
            before,
            "sleep_until(the past) must not move the clock"
        );
        assert_eq!(format!("{}", at(ms(1500))), "1.500000s");
    });
}

#[test]
fn an_hour_of_sleep_completes_at_once_in_virtual_time() {
    let (now, report) = Sim::new(9).no_time_limit().run_with_report(async {
        labrpc::sleep(secs(3600)).await;
        labrpc::now()
    });
    assert_eq!(now, at(secs(3600)), "the clock must read exactly one hour");
    assert_eq!(report.virtual_time, secs(3600));
    // No busy waiting: the body is polled once to set the timer and once when it fires.
    assert_eq!(
        report.polls, 2,
        "an hour of sleep took {} polls; the clock must jump straight to the timer",
        report.polls
    );

    // The same hour under an explicit, longer time limit.
    let now = Sim::new(9).time_limit(secs(7200)).run(async {
        labrpc::sleep(secs(3600)).await;
        labrpc::now()
    });
    assert_eq!(now, at(secs(3600)));
}

#[test]
fn timeout_gives_elapsed_at_exactly_the_deadline() {
    Sim::new(2).run(async {
        let start = labrpc::now();
        let result = labrpc::timeout(ms(250), labrpc::sleep(secs(10))).await;
        assert_eq!(result, Err(Elapsed));
        assert_eq!(
            labrpc::now() - start,
            ms(250),
            "timeout must give up at its deadline"
        );

        // A future that never completes.
        let start = labrpc::now();
        let result = labrpc::timeout(secs(3), futures::future::pending::<u32>()).await;
        assert_eq!(result, Err(Elapsed));
        assert_eq!(labrpc::now() - start, secs(3));
        assert_eq!(Elapsed.to_string(), "deadline has elapsed");
    });
}

#[test]
fn timeout_gives_ok_when_the_future_finishes_first() {
    Sim::new(3).run(async {
        let start = labrpc::now();
        let result = labrpc::timeout(secs(1), async {
            labrpc::sleep(ms(100)).await;
            7
        })
        .await;
        assert_eq!(result, Ok(7));
        assert_eq!(
            labrpc::now() - start,
            ms(100),
            "timeout must return when the future does"
        );

        // Ready at once, even with no time at all.
        assert_eq!(labrpc::timeout(Duration::ZERO, async { 5 }).await, Ok(5));

        // Ready exactly at the deadline: the future is polled first, so it wins.
        let start = labrpc::now();
        let result = labrpc::timeout(ms(40), labrpc::sleep(ms(40))).await;
        assert_eq!(result, Ok(()), "a future ready at the deadline must win");
        assert_eq!(labrpc::now() - start, ms(40));
    });
}

#[test]
fn yield_now_does_not_move_time_and_resumes() {
    for seed in SEEDS {
        Sim::new(seed).run(async {
            labrpc::sleep(ms(3)).await;
            let before = labrpc::now();
            for _ in 0..10 {
                labrpc::yield_now().await;
            }
            assert_eq!(
                labrpc::now(),
                before,
                "yield_now must not move virtual time"
            );
        });
    }
}

/// `yield_now` is documented as "lets every other ready task run once before this one
/// continues". Checked over many seeds.
#[test]
fn yield_now_lets_every_other_ready_task_run_first() {
    let mut failing_seeds = Vec::new();
    for seed in 0..64 {
        let ran = Sim::new(seed).run(async {
            let log = new_log();
            for i in 0..3 {
                let log = log.clone();
                drop(labrpc::spawn(
                    async move { push(&log, format!("task {i}")) },
                ));
            }
            labrpc::yield_now().await;
            entries(&log).len()
        });
        if ran != 3 {
            failing_seeds.push((seed, ran));
        }
    }
    assert!(
        failing_seeds.is_empty(),
        "after yield_now, the three tasks that were ready should all have run, but with \
         these (seed, tasks that had run) they had not: {failing_seeds:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------

#[test]
fn awaiting_a_join_handle_gives_the_task_output() {
    Sim::new(4).run(async {
        let handle = labrpc::spawn(async {
            labrpc::sleep(ms(5)).await;
            41 + 1
        });
        assert_eq!(handle.await, Ok(42));
        assert_eq!(labrpc::now(), at(ms(5)));

        // A task that spawns a task and returns its output.
        let nested = labrpc::spawn(async {
            let inner = labrpc::spawn(async { String::from("inner") });
            format!("outer({})", inner.await.unwrap())
        });
        assert_eq!(nested.await.as_deref(), Ok("outer(inner)"));

        // Dropping the handle detaches the task; it still runs to the end.
        let log = new_log();
        let log2 = log.clone();
        drop(labrpc::spawn(async move {
            labrpc::sleep(ms(10)).await;
            push(&log2, "detached task finished");
        }));
        labrpc::sleep(ms(20)).await;
        assert_eq!(entries(&log), vec!["detached task finished"]);
    });
}

#[test]
fn abort_cancels_the_task_and_runs_its_destructors_at_once() {
    Sim::new(5).run(async {
        let log = new_log();
        let guard = Guard::new("sleeper", &log);
        let log2 = log.clone();
        let handle = labrpc::spawn(async move {
            let _guard = guard;
            labrpc::sleep(secs(60)).await;
            push(&log2, "sleeper woke (must not happen)");
        });
        labrpc::sleep(ms(10)).await;
        assert!(entries(&log).is_empty(), "the task must still be running");
        handle.abort();
        assert_eq!(
            entries(&log),
            vec!["dropped sleeper"],
            "abort must drop the task's future, running its destructors, before it returns"
        );
        assert_eq!(handle.await, Err(JoinError::Cancelled));
        labrpc::sleep(secs(61)).await;
        assert_eq!(
            entries(&log),
            vec!["dropped sleeper"],
            "an aborted task must not run on"
        );
        assert_eq!(
            JoinError::Cancelled.to_string(),
            "task was cancelled (aborted, or its node was killed)"
        );

        // Aborting a task that already finished changes nothing.
        let done = labrpc::spawn(async { 3 });
        labrpc::sleep(ms(1)).await;
        done.abort();
        assert_eq!(done.await, Ok(3), "a finished task's output survives abort");
    });
}

#[test]
fn a_task_that_aborts_itself_stops_at_its_next_await() {
    Sim::new(6).run(async {
        let log = new_log();
        let (handle_tx, handle_rx) = oneshot::channel::<JoinHandle<()>>();
        let guard = Guard::new("self-aborter", &log);
        let log2 = log.clone();
        let handle = labrpc::spawn(async move {
            let _guard = guard;
            let me = handle_rx.await.expect("the handle is sent");
            me.abort();
            push(&log2, "after abort, same poll");
            labrpc::yield_now().await;
            push(&log2, "after the next await (must not happen)");
        });
        handle_tx.send(handle).unwrap();
        labrpc::sleep(ms(1)).await;
        assert_eq!(
            entries(&log),
            vec!["after abort, same poll", "dropped self-aborter"],
            "a task aborting itself finishes its current poll, then is dropped"
        );
    });
}

#[test]
fn a_panic_in_a_spawned_task_fails_the_run() {
    let message = failure_of(Sim::new(7).watchdog(NO_WATCHDOG), async {
        drop(labrpc::spawn(async {
            labrpc::sleep(ms(10)).await;
            panic!("boom from a task at {}", labrpc::now());
        }));
        labrpc::sleep(secs(1)).await;
        "the body finished"
    });
    assert_eq!(message, "boom from a task at 0.010000s");
}

#[test]
#[should_panic(expected = "boom from a task")]
fn a_panic_in_a_spawned_task_fails_the_test() {
    Sim::new(7).watchdog(NO_WATCHDOG).run(async {
        drop(labrpc::spawn(async { panic!("boom from a task") }));
        labrpc::sleep(secs(1)).await;
    });
}

// ---------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------

#[test]
fn killing_a_node_drops_every_task_of_it_at_once() {
    Sim::new(8).run(async {
        let log = new_log();
        let a = Node::new("A");
        let b = Node::new("B");
        assert_eq!(a.name(), "A");
        assert!(
            format!("{a:?}").contains('A'),
            "Debug of a node shows its name"
        );

        let mut a_handles = Vec::new();
        for i in 0..3 {
            let guard = Guard::new(format!("A{i}"), &log);
            let log = log.clone();
            a_handles.push(a.spawn(async move {
                let _guard = guard;
                if i == 0 {
                    // A grandchild: spawned by A's code, so it belongs to A too.
                    let child_guard = Guard::new("A0-child", &log);
                    drop(labrpc::spawn(async move {
                        let _guard = child_guard;
                        labrpc::sleep(secs(100)).await;
                    }));
                }
                labrpc::sleep(secs(100)).await;
                push(&log, format!("A{i} finished (must not happen)"));
            }));
        }
        let ticks = Arc::new(Mutex::new(Vec::new()));
        let b_guard = Guard::new("B-ticker", &log);
        let ticks2 = ticks.clone();
        let b_handle = b.spawn(async move {
            let _guard = b_guard;
            for _ in 0..6 {
                labrpc::sleep(ms(10)).await;
                ticks2.lock().unwrap().push(labrpc::now());
            }
        });

        labrpc::sleep(ms(25)).await;
        assert!(
            entries(&log).is_empty(),
            "nothing is dropped before the kill"
        );
        a.kill();
        let mut dropped = entries(&log);
        dropped.sort();
        assert_eq!(
            dropped,
            vec!["dropped A0", "dropped A0-child", "dropped A1", "dropped A2"],
            "kill must drop every task of the node, grandchildren included, before it returns"
        );
        assert!(!a.is_alive());
        assert!(b.is_alive(), "other nodes live on");
        for handle in a_handles {
            assert_eq!(handle.await, Err(JoinError::Cancelled));
        }
        a.kill(); // killing a dead node again is harmless

        assert_eq!(
            b_handle.await,
            Ok(()),
            "the other node's task runs to its end"
        );
        let ticks = ticks.lock().unwrap().clone();
        let expected: Vec<Instant> = (1..=6).map(|k| at(ms(10 * k))).collect();
        assert_eq!(
            ticks, expected,
            "the other node's task kept ticking through the kill"
        );
        let mut dropped = entries(&log);
        dropped.sort();
        assert_eq!(
            dropped,
            vec![
                "dropped A0",
                "dropped A0-child",
                "dropped A1",
                "dropped A2",
                "dropped B-ticker"
            ]
        );
    });
}

#[test]
fn spawning_on_a_dead_node_is_cancelled_and_never_runs() {
    Sim::new(9).run(async {
        let log = new_log();
        let a = Node::new("A");
        a.kill();
        let guard = Guard::new("unrun", &log);
        let log2 = log.clone();
        let handle = a.spawn(async move {
            let _guard = guard;
            push(&log2, "ran (must not happen)");
        });
        assert_eq!(handle.await, Err(JoinError::Cancelled));
        let log3 = log.clone();
        let handle = a.enter(|| labrpc::spawn(async move { push(&log3, "ran (must not happen)") }));
        assert_eq!(handle.await, Err(JoinError::Cancelled));
        labrpc::sleep(ms(1)).await;
        assert_eq!(
            entries(&log),
            vec!["dropped unrun"],
            "a future spawned on a dead node is dropped without being run"
        );
    });
}

#[test]
fn a_task_woken_just_before_its_node_dies_never_runs_again() {
    for seed in SEEDS {
        Sim::new(seed).run(async {
            let log = new_log();
            let a = Node::new("A");
            let b = Node::new("B");
            let (wake, woken) = oneshot::channel::<()>();
            let log_a = log.clone();
            let doomed = a.spawn(async move {
                let _ = woken.await;
                push(&log_a, "A's task ran after its node died (must not happen)");
            });
            labrpc::sleep(ms(1)).await;
            // Wake A's task (it is now in the ready queue), kill its node, and spawn a new
            // task at once, which may take the dead task's place in the task table.
            wake.send(()).unwrap();
            a.kill();
            let log_b = log.clone();
            let fresh = b.spawn(async move { push(&log_b, "B's task ran") });
            labrpc::sleep(ms(1)).await;
            assert_eq!(entries(&log), vec!["B's task ran"], "seed {seed}");
            assert_eq!(doomed.await, Err(JoinError::Cancelled));
            assert_eq!(fresh.await, Ok(()));
        });
    }
}

#[test]
fn a_node_can_kill_itself_from_one_of_its_tasks() {
    Sim::new(10).run(async {
        let log = new_log();
        let a = Node::new("A");
        let other_guard = Guard::new("A-other", &log);
        let other = a.spawn(async move {
            let _guard = other_guard;
            labrpc::sleep(secs(100)).await;
        });
        let killer_guard = Guard::new("A-killer", &log);
        let log2 = log.clone();
        let killer = a.spawn(async move {
            let _guard = killer_guard;
            labrpc::sleep(ms(5)).await;
            push(&log2, "before kill");
            let me = Node::current();
            me.kill();
            push(&log2, "after kill, same poll");
            assert!(!me.is_alive());
            labrpc::sleep(ms(1)).await;
            push(&log2, "after the next await (must not happen)");
        });
        labrpc::sleep(ms(10)).await;
        assert_eq!(
            entries(&log),
            vec![
                "before kill",
                "dropped A-other",
                "after kill, same poll",
                "dropped A-killer"
            ],
            "self-kill drops the node's other tasks at once and the killer when its poll ends"
        );
        assert_eq!(other.await, Err(JoinError::Cancelled));
        assert_eq!(killer.await, Err(JoinError::Cancelled));
        assert!(!a.is_alive());
    });
}

#[test]
fn destructors_of_a_killed_node_cannot_spawn_onto_it() {
    /// Spawns a task from its destructor.
    struct SpawnOnDrop(Log);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let log = self.0.clone();
            drop(labrpc::spawn(async move { push(&log, "zombie ran") }));
            push(&self.0, "destructor ran");
        }
    }
    Sim::new(11).run(async {
        let log = new_log();
        let a = Node::new("A");
        let spawner = SpawnOnDrop(log.clone());
        drop(a.spawn(async move {
            let _spawner = spawner;
            labrpc::sleep(secs(100)).await;
        }));
        labrpc::sleep(ms(1)).await;
        a.kill();
        labrpc::sleep(ms(10)).await;
        assert_eq!(
            entries(&log),
            vec!["destructor ran"],
            "a task spawned by a dying node's destructor must not run"
        );
    });
}

#[test]
#[should_panic(expected = "tester node cannot be killed")]
fn the_tester_node_cannot_be_killed() {
    Sim::new(12).watchdog(NO_WATCHDOG).run(async {
        Node::tester().kill();
    });
}

#[test]
fn node_enter_makes_spawns_belong_to_that_node() {
    Sim::new(13).run(async {
        let log = new_log();
        let a = Node::new("A");
        let b = Node::new("B");
        assert_eq!(Node::current(), Node::tester());
        let guard = Guard::new("entered", &log);
        let (owner, handle) = a.enter(|| {
            assert_eq!(Node::current(), a);
            a.enter(|| assert_eq!(Node::current(), a, "entering the current node nests"));
            let escape = catch_unwind(AssertUnwindSafe(|| b.enter(|| ())));
            let message = panic_message(escape.expect_err("a's code may not enter b"));
            assert!(
                message.contains("lab code on A called Node::enter(B)"),
                "{message}"
            );
            assert_eq!(
                Node::current(),
                a,
                "leaving the inner enter restores the outer node"
            );
            let owner = labrpc::spawn(async { Node::current() });
            let handle = labrpc::spawn(async move {
                let _guard = guard;
                labrpc::sleep(secs(100)).await;
            });
            (owner, handle)
        });
        assert_eq!(Node::current(), Node::tester(), "enter restores the tester");
        assert_eq!(
            owner.await,
            Ok(a),
            "a task spawned inside a.enter runs on a"
        );
        b.kill();
        labrpc::sleep(ms(1)).await;
        assert!(
            entries(&log).is_empty(),
            "killing another node leaves a's task alone"
        );
        a.kill();
        assert_eq!(entries(&log), vec!["dropped entered"]);
        assert_eq!(handle.await, Err(JoinError::Cancelled));
    });
}

#[derive(Serialize, Deserialize, Debug)]
struct SlowCall {
    wait_ms: u64,
}

impl Rpc for SlowCall {
    type Reply = String;
    const METHOD: &'static str = "Slow.Call";
}

#[test]
fn killing_a_server_node_fails_the_rpcs_its_handlers_were_serving() {
    Sim::new(14).run(async {
        let log = new_log();
        let net = Network::new();
        let s1 = Node::new("S1");
        let handler_log = log.clone();
        let service = Service::new("Slow").method(move |args: SlowCall| {
            let log = handler_log.clone();
            async move {
                let _guard = Guard::new(format!("handler on {}", Node::current().name()), &log);
                labrpc::sleep(ms(args.wait_ms)).await;
                push(&log, "handler finished (must not happen)");
                "done".to_string()
            }
        });
        let server = s1.enter(|| Server::new().with_service(service));
        net.add_server("S1", server);
        let client = net.make_end("c->S1");
        net.connect("c->S1", "S1");
        net.enable("c->S1", true);

        let calls: Vec<_> = (0..3)
            .map(|_| {
                let call = client.call(&SlowCall { wait_ms: 10_000 });
                labrpc::spawn(async move { (call.await, labrpc::now()) })
            })
            .collect();
        labrpc::sleep(secs(1)).await;
        assert_eq!(net.rpc_count("S1"), 3, "all three calls reached a handler");
        assert!(entries(&log).is_empty());
        s1.kill();
        assert_eq!(
            entries(&log),
            vec!["dropped handler on S1"; 3],
            "the handlers run on the server's node and die with it"
        );
        for call in calls {
            let (result, when) = call.await.unwrap();
            assert_eq!(
                result,
                Err(RpcError::Failed),
                "a call served by a killed node fails"
            );
            assert_eq!(
                when,
                at(secs(1)),
                "the call fails at the moment of the kill"
            );
        }
        // The server is still registered, but its node is dead: calls fail without an answer.
        let result = client.call(&SlowCall { wait_ms: 1 }).await;
        assert_eq!(result, Err(RpcError::Failed));
        assert!(labrpc::now() < at(secs(2)));
        assert!(
            !entries(&log).iter().any(|e| e.contains("must not happen")),
            "{:?}",
            entries(&log)
        );
    });
}

// ---------------------------------------------------------------------------------------
// Failure reports
// ---------------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "deadlock")]
fn a_deadlock_fails_the_run() {
    Sim::new(15).run(async {
        let (_sender, receiver) = oneshot::channel::<()>();
        let _ = receiver.await; // nobody ever sends
    });
}

#[test]
fn the_deadlock_message_lists_the_pending_tasks_by_node() {
    let message = failure_of(Sim::new(16), async {
        let s1 = Node::new("S1");
        let s2 = Node::new("S2");
        let mut senders = Vec::new();
        for _ in 0..2 {
            let (sender, receiver) = oneshot::channel::<()>();
            senders.push(sender);
            drop(s1.spawn(async move {
                let _ = receiver.await;
            }));
        }
        let (sender, receiver) = oneshot::channel::<()>();
        senders.push(sender);
        drop(s2.spawn(async move {
            let _ = receiver.await;
        }));
        labrpc::sleep(ms(1500)).await;
        let (_sender, receiver) = oneshot::channel::<()>();
        let _ = receiver.await; // nobody ever sends
        drop(senders);
    });
    assert_mentions(&message, "labrpc: deadlock at 1.500000s");
    assert_mentions(&message, "no task can run and no timer is set");
    assert_mentions(&message, "Pending tasks:");
    assert_mentions(&message, "  tester: the test body\n");
    assert_mentions(&message, "  S1: 2 tasks\n");
    assert_mentions(&message, "  S2: 1 task\n");
    assert_mentions(&message, &format!("2 spawned at {}", file!()));
    assert_mentions(&message, &format!("1 spawned at {}", file!()));
    let s1 = message.find("S1:").unwrap();
    let s2 = message.find("S2:").unwrap();
    assert!(s1 < s2, "nodes are listed in order:\n{message}");

    // The failed world is gone: this thread can run a new simulation.
    assert!(!labrpc::in_simulation());
    assert_eq!(Sim::new(1).run(async { 5 }), 5);
}

#[test]
fn a_sleep_or_timeout_that_is_dropped_leaves_no_timer_behind() {
    // If a dropped timer stayed set, the clock would jump to it instead of the run being
    // reported as the deadlock it is.
    let message = failure_of(Sim::new(21), async {
        assert_eq!(labrpc::timeout(secs(10), async { 1 }).await, Ok(1));
        let mut sleep = labrpc::sleep(secs(20));
        let poll = Pin::new(&mut sleep).poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(poll, Poll::Pending);
        drop(sleep);
        let (_sender, receiver) = oneshot::channel::<()>();
        let _ = receiver.await;
    });
    assert_mentions(&message, "labrpc: deadlock at 0.000000s");
}

#[test]
#[should_panic(expected = "livelock")]
fn a_livelock_fails_the_run() {
    Sim::new(17).livelock_polls(100_000).run(async {
        drop(Node::new("Spinner").spawn(async {
            loop {
                labrpc::yield_now().await;
            }
        }));
        labrpc::sleep(secs(1)).await;
    });
}

#[test]
fn the_livelock_message_names_the_spinning_task_and_the_fix() {
    let message = failure_of(Sim::new(18).livelock_polls(100_000), async {
        labrpc::sleep(ms(20)).await;
        drop(Node::new("Spinner").spawn(async {
            loop {
                labrpc::yield_now().await;
            }
        }));
        labrpc::sleep(secs(1)).await;
    });
    assert_mentions(&message, "labrpc: livelock at 0.020000s");
    assert_mentions(&message, "virtual time has not moved for 100000 task polls");
    assert_mentions(
        &message,
        &format!(
            "The last one woken was a task of Spinner spawned at {}",
            file!()
        ),
    );
    assert_mentions(&message, "labrpc::sleep(..).await");
    assert_mentions(&message, "  Spinner: 1 task\n");

    // The test body itself spinning.
    let message = failure_of(Sim::new(18).livelock_polls(1000), async {
        loop {
            labrpc::yield_now().await;
        }
    });
    assert_mentions(&message, "livelock");
    assert_mentions(&message, "The last one woken was the test body");
}

#[test]
#[should_panic(expected = "time limit")]
fn the_time_limit_fails_the_run() {
    Sim::new(19).time_limit(secs(5)).run(async {
        labrpc::sleep(secs(10)).await;
    });
}

#[test]
fn the_time_limit_message_and_boundary() {
    let message = failure_of(Sim::new(20).time_limit(secs(5)), async {
        let _keep = Node::new("S1").spawn(async {
            labrpc::sleep(secs(3600)).await;
        });
        labrpc::sleep(secs(2)).await;
        labrpc::sleep(secs(8)).await;
    });
    assert_mentions(&message, "labrpc: time limit");
    assert_mentions(&message, "within 5s of virtual time");
    assert_mentions(&message, "now 2.000000s");
    assert_mentions(&message, "10.000000s");
    assert_mentions(&message, "  S1: 1 task\n");

    // Finishing exactly at the limit is fine.
    let now = Sim::new(20).time_limit(secs(5)).run(async {
        labrpc::sleep(secs(5)).await;
        labrpc::now()
    });
    assert_eq!(now, at(secs(5)));

    // The default limit is the course's 120 s.
    assert_eq!(Sim::DEFAULT_TIME_LIMIT, secs(120));
    Sim::new(20).run(async { labrpc::sleep(secs(120)).await });
    let message = failure_of(Sim::new(20), async { labrpc::sleep(secs(121)).await });
    assert_mentions(&message, "within 120s of virtual time");
}

#[test]
fn runtime_functions_outside_a_simulation_panic_clearly() {
    assert!(!labrpc::in_simulation());
    type Attempt = Box<dyn Fn()>;
    let attempts: Vec<(&str, Attempt)> = vec![
        ("now", Box::new(|| _ = labrpc::now())),
        ("sleep", Box::new(|| drop(labrpc::sleep(ms(1))))),
        ("spawn", Box::new(|| drop(labrpc::spawn(async {})))),
        ("rng", Box::new(|| _ = labrpc::rng().next_u64())),
        ("Node::new", Box::new(|| _ = Node::new("X"))),
        ("Node::current", Box::new(|| _ = Node::current())),
        ("Server::new", Box::new(|| drop(Server::new()))),
    ];
    for (name, attempt) in attempts {
        let payload = catch_unwind(AssertUnwindSafe(attempt))
            .expect_err(&format!("{name} outside a simulation must panic"));
        let message = panic_message(payload);
        assert_mentions(&message, "must be called inside a simulation");
        assert_mentions(&message, "Sim::run");
    }
    assert!(Sim::new(1).run(async { labrpc::in_simulation() }));
}

#[test]
#[should_panic(expected = "must be called inside a simulation")]
fn now_outside_a_simulation_fails_the_test() {
    let _ = labrpc::now();
}

#[test]
#[should_panic(expected = "cannot be nested")]
fn nested_simulations_are_refused() {
    Sim::new(1).watchdog(NO_WATCHDOG).run(async {
        Sim::new(2).run(async {});
    });
}

#[test]
#[should_panic(expected = "needs a seed")]
fn running_without_a_seed_is_refused() {
    Sim::builder().run(async {});
}

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

fn draws(seed: u64) -> Vec<u64> {
    Sim::new(seed).run(async {
        let mut rng = labrpc::rng();
        (0..64).map(|_| rng.next_u64()).collect()
    })
}

#[test]
fn the_rng_replays_per_seed_and_differs_between_seeds() {
    for seed in SEEDS {
        assert_eq!(draws(seed), draws(seed), "seed {seed}: draws must replay");
    }
    let firsts: std::collections::BTreeSet<Vec<u64>> = (0..20).map(draws).collect();
    assert_eq!(
        firsts.len(),
        20,
        "twenty seeds must give twenty different sequences"
    );
    assert_ne!(draws(1), draws(2));
}

#[test]
fn rng_draws_from_concurrent_tasks_replay() {
    fn run(seed: u64) -> Vec<(usize, u32)> {
        Sim::new(seed).run(async {
            let drawn = Arc::new(Mutex::new(Vec::new()));
            let mut handles = Vec::new();
            for i in 0..8 {
                let drawn = drawn.clone();
                handles.push(Node::new(format!("N{i}")).spawn(async move {
                    for _ in 0..5 {
                        let wait = labrpc::rng().random_range(1..20);
                        labrpc::sleep(ms(wait)).await;
                        let x: u32 = labrpc::rng().random_range(0..1_000_000);
                        drawn.lock().unwrap().push((i, x));
                    }
                }));
            }
            for handle in handles {
                handle.await.unwrap();
            }
            drawn.lock().unwrap().clone()
        })
    }
    for seed in SEEDS {
        let first = run(seed);
        assert_eq!(first.len(), 40);
        assert_eq!(
            first,
            run(seed),
            "seed {seed}: interleaved draws must replay"
        );
    }
    assert_ne!(run(1), run(2));
}

// ---------------------------------------------------------------------------------------
// Observers
// ---------------------------------------------------------------------------------------

#[test]
fn an_observer_runs_after_every_poll_of_its_node_as_that_node() {
    Sim::new(11).run(async {
        let log = new_log();
        let a = Node::new("A");
        let b = Node::new("B");
        let counter = Arc::new(Mutex::new(0_u32));
        let seen = log.clone();
        let watched = counter.clone();
        a.observe("an observer", move |_| {
            let value = *watched.lock().unwrap();
            push(&seen, format!("{} sees {value}", Node::current().name()));
        });
        let ticks = counter.clone();
        a.spawn(async move {
            for _ in 0..3 {
                *ticks.lock().unwrap() += 1;
                labrpc::sleep(ms(10)).await;
            }
        });
        b.spawn(async { labrpc::sleep(ms(5)).await });
        labrpc::sleep(ms(100)).await;
        assert_eq!(
            entries(&log),
            vec!["A sees 1", "A sees 2", "A sees 3", "A sees 3"],
            "one call after each of A's four polls (the last one finishes the task), none \
             for B's, each seeing what the poll just did"
        );
    });
}

#[test]
fn an_observer_is_dropped_when_its_node_is_killed() {
    Sim::new(12).run(async {
        let log = new_log();
        let a = Node::new("A");
        let guard = Guard::new("observer", &log);
        let seen = log.clone();
        a.observe("an observer", move |_| {
            let _keep = &guard;
            push(&seen, "observed");
        });
        a.spawn(async { labrpc::sleep(ms(10)).await });
        labrpc::sleep(ms(1)).await;
        a.kill();
        labrpc::sleep(ms(20)).await;
        assert_eq!(entries(&log), vec!["observed", "dropped observer"]);
    });
}

#[test]
fn an_observer_sees_the_poll_in_which_its_node_killed_itself_then_goes() {
    Sim::new(13).run(async {
        let log = new_log();
        let a = Node::new("A");
        let guard = Guard::new("observer", &log);
        let seen = log.clone();
        a.observe("an observer", move |_| {
            let _keep = &guard;
            push(
                &seen,
                format!("observed, alive: {}", Node::current().is_alive()),
            );
        });
        a.spawn(async { Node::current().kill() });
        labrpc::sleep(ms(1)).await;
        assert_eq!(
            entries(&log),
            vec!["observed, alive: false", "dropped observer"]
        );
    });
}

#[test]
fn a_panicking_observer_fails_the_run_and_is_named() {
    let message = failure_of(Sim::new(14).watchdog(NO_WATCHDOG), async {
        let a = Node::new("A");
        a.observe("a failing observer", |_| panic!("invariant broken"));
        a.spawn(async {});
        labrpc::sleep(ms(1)).await;
    });
    assert_mentions(&message, "invariant broken");
}

#[test]
fn messages_sent_counts_requests_and_the_replies_of_handlers() {
    #[derive(Serialize, Deserialize)]
    struct Ping;
    impl Rpc for Ping {
        type Reply = u8;
        const METHOD: &'static str = "Pinger.Ping";
    }
    Sim::new(15).run(async {
        let net = Network::new();
        let client = Node::new("C");
        let server = Node::new("S");
        let service = Service::new("Pinger").method(|_: Ping| async { 7_u8 });
        net.add_server("S", Server::on(server).with_service(service));
        let end = net.make_end("C->S");
        net.connect("C->S", "S");
        net.enable("C->S", true);
        let reply = client.spawn(async move { end.call(&Ping).await }).await;
        assert_eq!(reply.unwrap(), Ok(7));
        assert_eq!((client.messages_sent(), server.messages_sent()), (1, 1));
        let observed = Arc::new(Mutex::new(Vec::new()));
        let record = observed.clone();
        server.observe("an observer", move |poll| {
            record.lock().unwrap().push(poll.messages_sent)
        });
        let again = net.make_end("C->S#2");
        net.connect("C->S#2", "S");
        net.enable("C->S#2", true);
        let reply = client.spawn(async move { again.call(&Ping).await }).await;
        assert_eq!(reply.unwrap(), Ok(7));
        assert_eq!(
            *observed.lock().unwrap(),
            vec![2],
            "the handler's one poll gave the second reply"
        );
        assert_eq!(Node::tester().messages_sent(), 0);
    });
}
