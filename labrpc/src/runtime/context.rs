//! The thread-local pointer to the simulation running on this thread.
//!
//! A world is single-threaded and belongs to the thread that runs it, so `cargo test` can
//! run many simulations side by side, one per test thread. Every runtime function reaches
//! its world through here; outside a simulation they panic with a clear message.

use std::cell::RefCell;
use std::rc::Rc;

use super::world::World;

thread_local! {
    static CURRENT: RefCell<Option<Rc<World>>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's world, panicking if there is none.
///
/// This is also where a task flagged by the watchdog is stopped: the next time runaway
/// code touches the runtime (reads the clock, draws a random number, spawns, calls an RPC),
/// it panics with the watchdog's explanation instead of running on.
pub(crate) fn with_world<R>(f: impl FnOnce(&World) -> R) -> R {
    CURRENT.with(|current| {
        let current = current.borrow();
        let Some(world) = current.as_deref() else {
            panic!(
                "labrpc: this function must be called inside a simulation \
                 (labrpc::tester::Sim::run or labrpc::tester::Sim::run_test); \
                 lab code cannot use the simulated runtime from a plain thread"
            )
        };
        world.monitor.stop_if_flagged();
        f(world)
    })
}

/// Runs `f` on this thread's world if there is one. Used by destructors, which must
/// neither panic nor be stopped by the watchdog.
pub(crate) fn try_with_world<R>(f: impl FnOnce(&World) -> R) -> Option<R> {
    CURRENT.with(|current| match current.try_borrow() {
        Ok(current) => current.as_deref().map(f),
        Err(_) => None,
    })
}

/// Whether this thread is inside a simulation.
pub fn in_simulation() -> bool {
    CURRENT.with(|current| current.try_borrow().map(|c| c.is_some()).unwrap_or(true))
}

/// Installs `world` as this thread's world until the guard is dropped.
pub(crate) fn enter(world: Rc<World>) -> EnterGuard {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "labrpc: simulations cannot be nested: Sim::run was called from inside a simulation"
        );
        *current = Some(world);
    });
    EnterGuard { _private: () }
}

/// Uninstalls the world when dropped, also when a panic unwinds out of the executor.
pub(crate) struct EnterGuard {
    _private: (),
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let world = CURRENT.with(|current| current.borrow_mut().take());
        if std::thread::panicking() {
            if let Some(world) = &world {
                super::sim::say(world.failure_context());
            }
            // The executor's state may be half-updated; dropping the remaining tasks could
            // panic again and abort the whole test binary. A failed run leaks them instead.
            std::mem::forget(world);
        }
    }
}
