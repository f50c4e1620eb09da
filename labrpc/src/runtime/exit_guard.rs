//! Turning an exit or an abort in the middle of a simulation into a reported failure.
//!
//! Lab code that calls `std::process::exit(0)` while a test runs would otherwise end the
//! test binary with success and no test reported; an abort (a stack overflow, an
//! allocation failure, `std::process::abort`) would end it with no word of which test and
//! seed were running. While any simulation runs, this module keeps a ready-made report of
//! it, and
//!
//! - an `atexit` hook, run by `exit`, prints the report and ends the process with status
//!   101 instead of the status lab code asked for;
//! - a `SIGABRT` handler prints the report before the abort goes on.
//!
//! The process still ends (a test binary cannot survive either); the grader runs each
//! test in a child process of its own for that reason.

#![allow(unsafe_code)] // atexit, signal, write and _exit have no safe wrappers in std

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

/// The reports of the simulations running now, by world id.
static RUNNING: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());

/// Set when labrpc itself ends the process on purpose (the watchdog), which has already
/// said why.
static DELIBERATE: AtomicBool = AtomicBool::new(false);

static INSTALL: Once = Once::new();

thread_local! {
    /// The world running on this thread, if any (0: none). A plain `Cell` with no
    /// destructor, so the exit hook and the signal handler can read it safely.
    static ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
}

/// Registers a running simulation until the returned guard is dropped.
pub(crate) fn running(world: u64, test: &str, seed: u64, replay: &str) -> RunningGuard {
    INSTALL.call_once(install);
    let report = format!(
        "\nlabrpc: the process is ending while {test} (seed {seed}) runs; the test did not \
         finish, and counts as failed.\nreplay:  {replay}\n"
    );
    RUNNING.lock().push((world, report));
    let previous = ON_THIS_THREAD.replace(world);
    RunningGuard { world, previous }
}

/// Unregisters a simulation when it ends, however it ends.
pub(crate) struct RunningGuard {
    world: u64,
    previous: u64,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.lock().retain(|(world, _)| *world != self.world);
        ON_THIS_THREAD.set(self.previous);
    }
}

/// Ends the process with `code`, as labrpc's own last resort (the explanation is printed).
pub(crate) fn deliberate_exit(code: i32) -> ! {
    DELIBERATE.store(true, Ordering::SeqCst);
    std::process::exit(code)
}

fn install() {
    // SAFETY: both handlers are `extern "C"` functions with the signatures libc expects,
    // valid for the life of the process.
    unsafe {
        libc::atexit(on_exit);
        libc::signal(
            libc::SIGABRT,
            on_abort as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

/// Writes the reports of every running simulation to stderr, without allocating.
fn write_reports(prefix: &str) -> bool {
    let Some(running) = RUNNING.try_lock() else {
        return false;
    };
    if running.is_empty() {
        return false;
    }
    write_stderr(prefix.as_bytes());
    let here = ON_THIS_THREAD.try_with(Cell::get).unwrap_or(0);
    // The simulation whose thread is ending the process first, then the others.
    for (_, report) in running.iter().filter(|(world, _)| *world == here) {
        write_stderr(b"\nlabrpc: it happened in this simulation's code:");
        write_stderr(report.as_bytes());
    }
    for (_, report) in running.iter().filter(|(world, _)| *world != here) {
        write_stderr(report.as_bytes());
    }
    true
}

fn write_stderr(bytes: &[u8]) {
    // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes; write(2) is
    // async-signal-safe.
    unsafe {
        libc::write(2, bytes.as_ptr().cast(), bytes.len());
    }
}

extern "C" fn on_exit() {
    if DELIBERATE.load(Ordering::SeqCst) {
        return;
    }
    if write_reports(
        "\nlabrpc: std::process::exit was called while a simulation was running: lab code \
         must never end the process (a server stops by ending its own tasks).",
    ) {
        // Not a signal handler: drawing the timelines may allocate.
        let timelines = super::events::write_unfinished(
            None,
            "std::process::exit was called while this test ran: lab code must never end \
             the process",
        );
        write_stderr(timelines.as_bytes());
        // SAFETY: _exit ends the process at once, skipping the status lab code chose.
        unsafe { libc::_exit(101) };
    }
}

extern "C" fn on_abort(_signal: libc::c_int) {
    write_reports(
        "\nlabrpc: the process aborted while a simulation was running (a stack overflow, an \
         allocation failure, or an explicit abort).",
    );
    // SAFETY: restoring the default action and raising the signal again ends the process
    // as the abort would have.
    unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        libc::raise(libc::SIGABRT);
    }
}
