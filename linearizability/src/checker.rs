//! Checks the partitions of a history, in parallel, and combines their verdicts.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::model::{Model, Operation};
use crate::search::{Limits, Outcome, Search, search};
use crate::trace::Trace;
use crate::verdict::{Budget, Report, Verdict};

/// How many partial linearizations an explanation keeps per partition.
pub(crate) const KEPT_LINEARIZATIONS: usize = 8;

/// Histories with fewer operations are checked on the calling thread: starting threads
/// takes longer than checking them (a few microseconds per operation at most, unless the
/// search is hard, and a hard partition cannot be split anyway).
const MIN_OPS_FOR_THREADS: usize = 400;

/// The step budgets of the stages every part's search goes through before the whole
/// budget (see [`run`]): most of the lab's partitions settle within the first ones (the
/// reference's need under 10 000 steps per key but for about one in a thousand).
const STAGE_STEPS: [u64; 3] = [1_000, 10_000, 100_000];

/// The result of searching one partition.
#[derive(Debug)]
pub(crate) struct PartitionRun {
    pub(crate) outcome: Outcome,
    /// The steps the search that settled it (or ran out) took.
    pub(crate) steps: u64,
    /// The linearization found, when the outcome is [`Outcome::Linearizable`].
    pub(crate) order: Option<Vec<u32>>,
    /// The partial linearizations worth explaining, when asked for and worth it.
    pub(crate) trace: Option<Trace>,
    /// Whether the part was found illegal by a read that fits no state, once out of budget.
    pub(crate) impossible: bool,
}

impl PartitionRun {
    pub(crate) fn verdict(&self) -> Verdict {
        match self.outcome {
            Outcome::Linearizable => Verdict::Ok,
            Outcome::Illegal => Verdict::Illegal,
            Outcome::Abandoned | Outcome::Stopped => Verdict::Unknown,
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

/// Searches every part of `history`, on up to `threads` threads (0: one per core). The
/// first illegal part stops the others, since the verdict is then settled. With
/// `explain`, each part found illegal or out of budget is then searched again, tracing
/// its partial linearizations: the search is deterministic, so the second run takes the
/// same path and steps (a time budget becomes a step budget of the steps the first run
/// took), and explaining costs at most about twice the check.
pub(crate) fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[Vec<usize>],
    budget: Budget,
    threads: usize,
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
        stop: Some(&stop),
    };
    let ops_of = |index: usize| -> Vec<&Operation<M::Input, M::Output>> {
        parts[index].iter().map(|&i| &history[i]).collect()
    };
    let part_ops: Vec<Vec<&Operation<M::Input, M::Output>>> =
        (0..parts.len()).map(ops_of).collect();

    // Every part is first searched with a small budget, smallest first: most parts settle
    // within it, and an illegal one among them then stops the check before any costly
    // part is searched far. The parts that ran out then go on where they stopped, with
    // larger budgets in turn and then the whole budget, largest first, so that no worker
    // is left with a big one at the end. A search that goes on takes the very path one
    // search with the whole budget would have taken: the verdict and the steps are the
    // same.
    let mut stages: Vec<Option<u64>> = STAGE_STEPS
        .iter()
        .copied()
        .filter(|&stage| steps.is_none_or(|limit| limit > stage))
        .map(Some)
        .collect();
    stages.push(steps);
    let stopped = || PartitionRun {
        outcome: Outcome::Stopped,
        steps: 0,
        order: None,
        trace: None,
        impossible: false,
    };
    let settle = |search: Search<'_, M>, outcome: Outcome| -> PartitionRun {
        let searched = search.finish(outcome, KEPT_LINEARIZATIONS);
        if searched.outcome == Outcome::Illegal {
            stop.store(true, Ordering::Relaxed);
        }
        PartitionRun {
            outcome: searched.outcome,
            steps: searched.steps,
            order: searched.order,
            trace: None,
            impossible: searched.impossible.is_some(),
        }
    };
    let small = history.len() < MIN_OPS_FOR_THREADS;
    // Stage 0 takes the smallest parts first; later stages the largest first.
    let mut by_size: Vec<usize> = (0..parts.len()).collect();
    by_size.sort_by_key(|&i| parts[i].len());
    let mut rank = vec![0; parts.len()];
    for (position, &i) in by_size.iter().enumerate() {
        rank[i] = position;
    }
    let last_stage = stages.len() - 1;
    let pool = StagePool::new(by_size.iter().map(|&i| (0, rank[i], i)));
    let paused: Vec<Mutex<Option<Search<'_, M>>>> =
        (0..parts.len()).map(|_| Mutex::new(None)).collect();
    let results: Vec<Mutex<Option<PartitionRun>>> =
        (0..parts.len()).map(|_| Mutex::new(None)).collect();
    // Takes jobs until none is left, or (`first_stage_only`) none of the first stage.
    let work = |first_stage_only: bool| {
        while let Some((stage, index)) = pool.take(first_stage_only) {
            // Marks the job done however it ends, so that no worker waits forever for a
            // job that panicked (the panic then reaches the caller through the scope).
            let mut finished = Finished {
                pool: &pool,
                next: None,
            };
            let taken = paused[index].lock().expect("no job panicked").take();
            let run = if stop.load(Ordering::Relaxed) {
                Some(stopped())
            } else {
                let mut search =
                    taken.unwrap_or_else(|| Search::new(model, &part_ops[index], false));
                let outcome = search.run(&Limits {
                    steps: stages[stage],
                    ..limits
                });
                if outcome == Outcome::Abandoned && stage < last_stage {
                    *paused[index].lock().expect("no job panicked") = Some(search);
                    finished.next = Some((stage + 1, parts.len() - rank[index], index));
                    None
                } else {
                    Some(settle(search, outcome))
                }
            };
            if run.is_some() {
                *results[index].lock().expect("no job panicked") = run;
            }
        }
    };
    let workers = if small {
        1
    } else if threads == 0 {
        available_threads()
    } else {
        threads
    }
    .min(parts.len());
    if workers > 1 {
        // The first stage on the calling thread: it settles most histories (every part,
        // or an illegal one that stops the rest) in less time than starting threads takes.
        work(true);
    }
    let workers = workers.min(pool.waiting());
    if workers <= 1 || stop.load(Ordering::Relaxed) {
        work(false);
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers).map(|_| scope.spawn(|| work(false))).collect();
            for handle in handles {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            }
        });
    }
    let mut results: Vec<Option<PartitionRun>> = results
        .into_iter()
        .map(|run| run.into_inner().expect("no job panicked"))
        .collect();

    if explain {
        // Only the parts whose explanation needs more than the linearization found; a
        // stopped part was not searched to the end, so it has nothing to explain.
        let retrace: Vec<usize> = (0..parts.len())
            .filter(|&i| {
                results[i]
                    .as_ref()
                    .is_some_and(|run| matches!(run.outcome, Outcome::Illegal | Outcome::Abandoned))
            })
            .collect();
        let traced = run_queue(&retrace, threads, small, |index| {
            let first = results[index].as_ref().expect("every partition was queued");
            // The first run stopped at the step past its limit when out of budget.
            let steps = if first.outcome == Outcome::Abandoned || first.impossible {
                first.steps.saturating_sub(1)
            } else {
                first.steps
            };
            let again = Limits {
                steps: Some(steps),
                deadline: None,
                stop: None,
            };
            search(model, &part_ops[index], &again, true, KEPT_LINEARIZATIONS).trace
        });
        for (index, trace) in traced.into_iter().enumerate() {
            if let Some(trace) = trace
                && let Some(run) = results[index].as_mut()
            {
                run.trace = trace;
            }
        }
    }
    results
        .into_iter()
        .map(|run| run.expect("every partition was queued"))
        .collect()
}

/// The jobs of [`run`]: (stage, rank within the stage, part), taken lowest first, so that
/// every part goes through a stage before any goes through the next. A job may add the
/// next stage of its part when done; workers wait while jobs are in flight that may.
struct StagePool {
    state: Mutex<Jobs>,
    changed: Condvar,
}

/// A job of [`StagePool`]: (stage, rank within the stage, part).
type Job = (usize, usize, usize);

/// The jobs waiting, and how many are being done.
struct Jobs {
    waiting: BinaryHeap<Reverse<Job>>,
    in_flight: usize,
}

impl StagePool {
    fn new(jobs: impl IntoIterator<Item = Job>) -> StagePool {
        StagePool {
            state: Mutex::new(Jobs {
                waiting: jobs.into_iter().map(Reverse).collect(),
                in_flight: 0,
            }),
            changed: Condvar::new(),
        }
    }

    /// The next job, as (stage, part); `None` once no job is left or in flight, or, with
    /// `first_stage_only` (for a lone worker), once no job of the first stage is left.
    fn take(&self, first_stage_only: bool) -> Option<(usize, usize)> {
        let mut jobs = self.state.lock().expect("no job panicked");
        loop {
            if first_stage_only
                && jobs
                    .waiting
                    .peek()
                    .is_none_or(|Reverse((stage, _, _))| *stage > 0)
            {
                return None;
            }
            if let Some(Reverse((stage, _, part))) = jobs.waiting.pop() {
                jobs.in_flight += 1;
                return Some((stage, part));
            }
            if jobs.in_flight == 0 {
                return None;
            }
            jobs = self.changed.wait(jobs).expect("no job panicked");
        }
    }

    /// How many jobs are waiting.
    fn waiting(&self) -> usize {
        self.state.lock().expect("no job panicked").waiting.len()
    }

    /// A job is done, and maybe added `next`.
    fn done(&self, next: Option<Job>) {
        // Never poisoned: no job runs while holding it.
        let mut jobs = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.in_flight -= 1;
        if let Some(job) = next {
            jobs.waiting.push(Reverse(job));
        }
        drop(jobs);
        self.changed.notify_all();
    }
}

/// Tells its [`StagePool`] that a job is done when dropped, adding `next`.
struct Finished<'a> {
    pool: &'a StagePool,
    next: Option<Job>,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.pool.done(self.next.take());
    }
}

/// How many threads "one per core" is. Asked once: on Linux it reads cgroup files.
fn available_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `job` on every index of `queue`, in that order, on up to `threads` threads (0:
/// one per core), never more threads than jobs: a single job runs on the calling thread.
/// With `small`, runs everything on the calling thread: starting threads would cost more
/// than the jobs. Returns the results by index (`None` for indices not in the queue).
fn run_queue<T: Send>(
    queue: &[usize],
    threads: usize,
    small: bool,
    job: impl Fn(usize) -> T + Sync,
) -> Vec<Option<T>> {
    let len = queue.iter().max().map_or(0, |&i| i + 1);
    let mut results: Vec<Option<T>> = (0..len).map(|_| None).collect();
    let threads = if threads == 0 {
        available_threads()
    } else {
        threads
    };
    let workers = threads.min(queue.len());
    if workers <= 1 || small {
        for &index in queue {
            results[index] = Some(job(index));
        }
        return results;
    }
    let next = AtomicUsize::new(0);
    let finished: Vec<Vec<(usize, T)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&index) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((index, job(index)));
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
    for (index, result) in finished.into_iter().flatten() {
        results[index] = Some(result);
    }
    results
}

/// The report of a check from the runs of its parts.
pub(crate) fn report<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[Vec<usize>],
    runs: &[PartitionRun],
    budget: Budget,
) -> Report {
    Report {
        verdict: combine(runs),
        max_steps: runs.iter().map(|run| run.steps).max().unwrap_or(0),
        total_steps: runs.iter().map(|run| run.steps).sum(),
        partitions: parts.len(),
        exhausted: runs
            .iter()
            .enumerate()
            .filter(|(_, run)| run.outcome == Outcome::Abandoned)
            .map(|(index, _)| model.describe_partition(history, &parts[index], index))
            .collect(),
        budget,
    }
}

/// The verdict of the whole history from those of its parts.
pub(crate) fn combine(runs: &[PartitionRun]) -> Verdict {
    runs.iter()
        .fold(Verdict::Ok, |verdict, run| verdict.combine(run.verdict()))
}
