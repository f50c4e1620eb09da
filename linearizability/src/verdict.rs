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
