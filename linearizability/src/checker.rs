//! Checks the partitions of a history, in parallel, and combines their verdicts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::model::{Model, Operation};
use crate::search::{Limits, Outcome, search};
use crate::trace::Trace;
use crate::verdict::{Budget, Verdict};

/// How many partial linearizations an explanation keeps per partition.
pub(crate) const KEPT_LINEARIZATIONS: usize = 8;

/// The result of searching one partition.
#[derive(Debug)]
pub(crate) struct PartitionRun {
    pub(crate) outcome: Outcome,
    /// Present when the run was asked to explain itself and did run.
    pub(crate) trace: Option<Trace>,
}

impl PartitionRun {
    pub(crate) fn verdict(&self) -> Verdict {
        match self.outcome {
            Outcome::Linearizable => Verdict::Ok,
            Outcome::Illegal => Verdict::Illegal,
            Outcome::Abandoned => Verdict::Unknown,
        }
    }
}

/// Panics unless every operation's interval is well formed and `parts` covers each
/// operation of `history` exactly once.
pub(crate) fn validate<I, O>(history: &[Operation<I, O>], parts: &[Vec<usize>]) {
    for (i, op) in history.iter().enumerate() {
        assert!(
            op.call <= op.ret,
            "operation {i} returns ({}) before its call ({})",
            op.ret,
            op.call
        );
    }
    let mut seen = vec![false; history.len()];
    for &i in parts.iter().flatten() {
        assert!(
            i < history.len(),
            "Model::partition returned index {i}, past the history's end"
        );
        assert!(
            !seen[i],
            "Model::partition put operation {i} in two partitions"
        );
        seen[i] = true;
    }
    if let Some(missing) = seen.iter().position(|&s| !s) {
        panic!("Model::partition left out operation {missing}");
    }
}

/// Searches every part of `history`. With `explain`, traces each search and never stops
/// early for an illegal part (so every part gets its explanation); otherwise the first
/// illegal part stops the others, since the verdict is then settled.
pub(crate) fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[Vec<usize>],
    budget: Budget,
    explain: bool,
) -> Vec<PartitionRun> {
    let deadline = match budget {
        Budget::Time(limit) => Some(Instant::now() + limit),
        Budget::Steps(_) | Budget::Unlimited => None,
    };
    let steps = match budget {
        Budget::Steps(limit) => Some(limit),
        Budget::Time(_) | Budget::Unlimited => None,
    };
    let stop = AtomicBool::new(false);
    let limits = Limits {
        steps,
        deadline,
        stop: (!explain).then_some(&stop),
    };

    let check_part = |index: usize| -> PartitionRun {
        if stop.load(Ordering::Relaxed) {
            return PartitionRun {
                outcome: Outcome::Abandoned,
                trace: None,
            };
        }
        let ops: Vec<&Operation<M::Input, M::Output>> =
            parts[index].iter().map(|&i| &history[i]).collect();
        let (outcome, trace) = search(model, &ops, &limits, explain, KEPT_LINEARIZATIONS);
        if outcome == Outcome::Illegal && !explain {
            stop.store(true, Ordering::Relaxed);
        }
        PartitionRun { outcome, trace }
    };

    // Largest parts first, so that no worker is left with a big one at the end.
    let mut queue: Vec<usize> = (0..parts.len()).collect();
    queue.sort_by_key(|&i| std::cmp::Reverse(parts[i].len()));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(parts.len());

    let mut results: Vec<Option<PartitionRun>> = (0..parts.len()).map(|_| None).collect();
    if workers <= 1 {
        for &index in &queue {
            results[index] = Some(check_part(index));
        }
    } else {
        let next = AtomicUsize::new(0);
        let finished: Vec<Vec<(usize, PartitionRun)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        while let Some(&index) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                            done.push((index, check_part(index)));
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for (index, run) in finished.into_iter().flatten() {
            results[index] = Some(run);
        }
    }
    results
        .into_iter()
        .map(|run| run.expect("every partition was queued"))
        .collect()
}

/// The verdict of the whole history from those of its parts.
pub(crate) fn combine(runs: &[PartitionRun]) -> Verdict {
    runs.iter()
        .fold(Verdict::Ok, |verdict, run| verdict.combine(run.verdict()))
}
