//! Naming why a child process ended before a seed finished, from what it printed.

use std::process::ExitStatus;
use std::time::Duration;

use crate::outcome::Reason;

/// What is known about a child that ended with a seed unfinished.
pub struct Ending<'a> {
    /// The tail of its stderr.
    pub stderr: &'a str,
    /// Its exit status, if it was reaped.
    pub status: Option<ExitStatus>,
    /// Set when the grader killed it at the wall-clock limit.
    pub timed_out: Option<Duration>,
    /// The memory limit it ran under, in bytes.
    pub memory_limit: u64,
}

/// The timeline page a process drew on its way out (labrpc says `timeline: PATH` when an
/// `exit` in lab code or the watchdog ends a run), if its stderr says so.
pub fn timeline_path(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("timeline: "))
        .filter(|path| path.ends_with(".html"))
        .map(str::to_owned)
}

/// Why the seed did not finish, and one line saying so. The most specific cause wins: a
/// failed allocation or a stack overflow ends in an abort, and slow runaway code may have
/// drawn a watchdog warning before it blew up.
pub fn classify(ending: &Ending<'_>) -> (Reason, String) {
    if let Some(limit) = ending.timed_out {
        return (
            Reason::Timeout,
            format!(
                "still running after {} s of wall-clock time; killed",
                limit.as_secs_f64()
            ),
        );
    }
    let stderr = ending.stderr;
    let line_with = |needle: &str| {
        stderr
            .lines()
            .rev()
            .find(|line| line.contains(needle))
            .map(|line| line.trim().to_owned())
    };
    if let Some(line) = line_with("has overflowed its stack") {
        return (Reason::StackOverflow, line);
    }
    if let Some(line) = line_with("memory allocation of") {
        let limit = ending.memory_limit as f64 / f64::from(1 << 30);
        return (
            Reason::OutOfMemory,
            format!("{line} (the memory limit is {limit:.2} GiB)"),
        );
    }
    if let Some(line) = line_with("labrpc watchdog:") {
        return (Reason::Watchdog, line);
    }
    if stderr.contains("std::process::exit was called") {
        return (
            Reason::ExitCalled,
            "lab code called std::process::exit while the test was running".to_owned(),
        );
    }
    if stderr.contains("the process aborted while a simulation was running") {
        return (
            Reason::Aborted,
            "the process aborted while the test was running".to_owned(),
        );
    }
    match ending.status {
        Some(status) => describe_status(status),
        None => (
            Reason::Crashed,
            "the process ended in an unknown way".to_owned(),
        ),
    }
}

fn describe_status(status: ExitStatus) -> (Reason, String) {
    use std::os::unix::process::ExitStatusExt as _;
    if let Some(signal) = status.signal() {
        let reason = if signal == libc::SIGABRT {
            Reason::Aborted
        } else {
            Reason::Crashed
        };
        let hint = if signal == libc::SIGKILL {
            " (the system may have run out of memory)"
        } else {
            ""
        };
        return (
            reason,
            format!("the process was killed by signal {signal}{hint}"),
        );
    }
    let code = status.code().unwrap_or(-1);
    if code == 0 {
        // Only lab code ends a test binary with success mid-test: labrpc turns a plain
        // `exit` into status 101, so this was `_exit` or a raw system call.
        return (
            Reason::ExitCalled,
            "the process ended with status 0 while the test was running (lab code ended it)"
                .to_owned(),
        );
    }
    (
        Reason::Crashed,
        format!("the process ended with status {code} while the test was running"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt as _;

    fn classify_text(stderr: &str, raw_status: i32) -> Reason {
        classify(&Ending {
            stderr,
            status: Some(ExitStatus::from_raw(raw_status)),
            timed_out: None,
            memory_limit: 1 << 30,
        })
        .0
    }

    #[test]
    fn each_ending_gets_its_reason() {
        let exit = "labrpc: std::process::exit was called while a simulation was running";
        assert_eq!(classify_text(exit, 101 << 8), Reason::ExitCalled);
        let overflow = "\nthread 'figure8_2c seed=3' has overflowed its stack\nfatal runtime error: stack overflow\nlabrpc: the process aborted while a simulation was running";
        assert_eq!(classify_text(overflow, 6), Reason::StackOverflow);
        let oom = "memory allocation of 1048576 bytes failed\nlabrpc: the process aborted while a simulation was running";
        assert_eq!(classify_text(oom, 6), Reason::OutOfMemory);
        let watchdog = "labrpc watchdog: in figure8_2c (seed 3), S1 ran for 10 s";
        assert_eq!(classify_text(watchdog, 101 << 8), Reason::Watchdog);
        assert_eq!(classify_text("", 6), Reason::Aborted);
        assert_eq!(classify_text("", 0), Reason::ExitCalled);
        assert_eq!(classify_text("", 9), Reason::Crashed);
        assert_eq!(classify_text("", 3 << 8), Reason::Crashed);
    }
}
