//! How one seed of one test ended.

use serde::{Deserialize, Serialize};

/// One seed's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecord {
    /// The seed.
    pub seed: u64,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The path of its timeline page, if the run drew one (see `labrpc`'s `LAB_VIS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
}

/// How a seed ended. A seed passed only if the test's own process wrote its pass line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The test passed on this seed.
    Pass {
        /// Virtual time the run took, in nanoseconds.
        virtual_ns: u64,
        /// CPU time the run took, in nanoseconds, if the platform measures it.
        cpu_ns: Option<u64>,
    },
    /// It did not.
    Fail {
        /// Why, in a word.
        reason: Reason,
        /// The first line of what went wrong.
        message: String,
    },
}

impl Outcome {
    /// Whether the seed passed.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Pass { .. })
    }

    /// Whether the seed failed on a limit of the machine's real resources (the CPU time of
    /// one step or of the whole run) rather than on anything the simulation decided. Such a
    /// verdict is the one a machine can distort: a thread that pages in the kernel while
    /// the machine runs out of memory, or whose virtual CPU the host pauses, is charged CPU
    /// time that its code did not use. The simulation itself is deterministic, so the
    /// grader runs such a seed again (see `schedule`) before it charges it.
    pub fn failed_on_real_resources(&self) -> bool {
        match self {
            Outcome::Pass { .. } => false,
            Outcome::Fail { reason, message } => match reason {
                Reason::Watchdog | Reason::TooSlow => true,
                // The watchdog's flag makes the stuck code panic at its next runtime call:
                // the test fails with labrpc's explanation (lab code that prints the same
                // words only buys itself a rerun that fails again).
                Reason::TestFailed => message.contains("labrpc watchdog:"),
                _ => false,
            },
        }
    }
}

/// Why a seed failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The test's checks failed (a panic in the test or the lab code).
    TestFailed,
    /// Two runs of the seed differed (`--check-determinism`).
    NotDeterministic,
    /// Lab code called `std::process::exit` (or the process ended quietly mid-test).
    ExitCalled,
    /// The process aborted.
    Aborted,
    /// A thread overflowed its stack (runaway recursion).
    StackOverflow,
    /// An allocation failed under the memory limit.
    OutOfMemory,
    /// labrpc's watchdog ended the process: code that never yields.
    Watchdog,
    /// The process was still running at the wall-clock limit, and was killed.
    Timeout,
    /// The seed passed, but used more CPU time than its test's budget
    /// (`catalogue::cpu_budget`).
    TooSlow,
    /// The process ended some other way (a signal, an unexpected status).
    Crashed,
}

impl Reason {
    /// What it means, for a report.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::TestFailed => "test failed",
            Reason::NotDeterministic => "not deterministic: cannot be replayed",
            Reason::ExitCalled => "process exit called",
            Reason::Aborted => "process aborted",
            Reason::StackOverflow => "stack overflow",
            Reason::OutOfMemory => "out of memory",
            Reason::Watchdog => "watchdog: code never yields",
            Reason::Timeout => "wall-clock timeout",
            Reason::TooSlow => "over its CPU budget",
            Reason::Crashed => "process crashed",
        }
    }

    /// Whether it ended the test's process (so seeds after it ran in a new one).
    pub fn is_crash(self) -> bool {
        !matches!(
            self,
            Reason::TestFailed | Reason::NotDeterministic | Reason::TooSlow
        )
    }
}
