//! The answer of a check, and how much effort a check may spend to reach it.

use std::time::Duration;

/// Whether a history is linearizable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Some order of the operations respects both real time and the model.
    Ok,
    /// No such order exists: the history is not linearizable.
    Illegal,
    /// The budget ran out before the search settled the question.
    Unknown,
}

impl Verdict {
    /// Combines the verdicts of independent partitions: one illegal part makes the whole
    /// illegal; otherwise one unsettled part leaves the whole unsettled.
    pub fn combine(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Illegal, _) | (_, Verdict::Illegal) => Verdict::Illegal,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            (Verdict::Ok, Verdict::Ok) => Verdict::Ok,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "linearizable",
            Verdict::Illegal => "not linearizable",
            Verdict::Unknown => "unknown (budget ran out)",
        })
    }
}

/// How much search a check may spend before answering [`Verdict::Unknown`].
///
/// The default is [`Budget::Steps`]`(`[`Budget::DEFAULT_STEPS`]`)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// At most this many search steps for each partition, counted separately per
    /// partition, so the verdict never depends on machine speed or thread timing.
    /// Use this in tests.
    Steps(u64),
    /// Stop every partition once this much wall-clock time has passed since the check
    /// started. The verdict then depends on machine speed: for interactive use only.
    Time(Duration),
    /// Search until settled, however long that takes.
    Unlimited,
}

impl Budget {
    /// The steps per partition of [`Budget::default`]. The lab's histories take far
    /// fewer (of 4 321 of the reference's, under the course's and swarm faults, 99.9 %
    /// under 10 000 per key, at most 78 383), and so do porcupine's public test histories
    /// (at most 24 984, etcd_002, of the 37 etcd logs and 4 key-value logs measured;
    /// `tests/porcupine.rs` checks them all given `PORCUPINE_TEST_DATA`), so this leaves
    /// a wide margin while bounding the memory of a search (one explored configuration
    /// per step at most).
    pub const DEFAULT_STEPS: u64 = 1_000_000;

    /// The same kind of budget, `factor` times larger (for the advice an unknown verdict
    /// gives): a step budget gets more steps, a time budget more time.
    pub fn scaled(self, factor: u32) -> Budget {
        match self {
            Budget::Steps(steps) => Budget::Steps(steps.saturating_mul(u64::from(factor))),
            Budget::Time(limit) => Budget::Time(limit.saturating_mul(factor)),
            Budget::Unlimited => Budget::Unlimited,
        }
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::Steps(Budget::DEFAULT_STEPS)
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::Steps(steps) => write!(f, "{steps} steps per partition"),
            Budget::Time(limit) => write!(f, "{limit:?} of wall-clock time"),
            Budget::Unlimited => f.write_str("no limit"),
        }
    }
}

/// How a check is run: its [`Budget`], and how many threads may search partitions at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    /// How much search the check may spend.
    pub budget: Budget,
    /// At most this many threads search partitions at once; `0` (the default) means one
    /// per available core. `1` searches on the calling thread only. A history with a
    /// single partition, or with fewer than a few hundred operations, is always searched
    /// on the calling thread: no thread is started for it; nor for one whose partitions
    /// all settle (or one of which is illegal) within the first 1 000 steps of each, which
    /// are searched on the calling thread first. The verdict (and the steps) never depend
    /// on this with a [`Budget::Steps`].
    pub threads: usize,
}

impl Options {
    /// The default options with this `budget`.
    pub fn with_budget(budget: Budget) -> Options {
        Options {
            budget,
            ..Options::default()
        }
    }
}

/// What [`crate::check`] found and what it cost.
///
/// Compares equal to a [`Verdict`] when its verdict is that one, so that
/// `assert_eq!(check(..), Verdict::Ok)` reads naturally. Its [`Display`](std::fmt::Display)
/// gives the verdict and the steps; for [`Verdict::Unknown`], it also says which partitions
/// ran out of budget and how to raise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Whether the history is linearizable.
    pub verdict: Verdict,
    /// The most search steps any one partition took: what [`Budget::Steps`] bounds. Run
    /// again with a budget at least this large to get the same verdict (for a
    /// [`Verdict::Illegal`] found early, other partitions may have been stopped before
    /// their end, so they may take more).
    pub max_steps: u64,
    /// The search steps of all partitions together.
    pub total_steps: u64,
    /// How many partitions the history was split into ([`crate::Model::partition`]).
    pub partitions: usize,
    /// The names ([`crate::Model::describe_partition`]) of the partitions whose search ran
    /// out of budget, in partition order; empty unless the verdict is [`Verdict::Unknown`]
    /// (or illegal with other partitions unsettled).
    pub exhausted: Vec<String>,
    /// The budget the check had.
    pub budget: Budget,
}

impl PartialEq<Verdict> for Report {
    fn eq(&self, verdict: &Verdict) -> bool {
        self.verdict == *verdict
    }
}

impl PartialEq<Report> for Verdict {
    fn eq(&self, report: &Report) -> bool {
        *self == report.verdict
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} search steps in {} partition{}, at most {} in one)",
            self.verdict,
            self.total_steps,
            self.partitions,
            if self.partitions == 1 { "" } else { "s" },
            self.max_steps
        )?;
        if self.verdict == Verdict::Unknown {
            let shown: Vec<&str> = self.exhausted.iter().take(5).map(String::as_str).collect();
            let more = self.exhausted.len().saturating_sub(shown.len());
            write!(
                f,
                ": the budget of {} ran out on {}{}; check again with a larger budget, such as \
                 Budget::{:?}, or Budget::Unlimited (which may take exponential time)",
                self.budget,
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
                self.budget.scaled(10)
            )?;
        }
        Ok(())
    }
}
