//! What a verbose check tells besides its verdict: for each partition, how far the search
//! got and where it got stuck.

use crate::checker::PartitionRun;
use crate::model::{Model, Operation};
use crate::search::Outcome;
use crate::verdict::Verdict;

/// Why a history got its verdict, partition by partition. Built by [`crate::check_verbose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The verdict of the whole history.
    pub verdict: Verdict,
    /// One entry per partition, in the order [`Model::partition`] returned them.
    pub partitions: Vec<PartitionExplanation>,
}

impl Explanation {
    /// The partitions found not linearizable.
    pub fn illegal_partitions(&self) -> impl Iterator<Item = &PartitionExplanation> {
        self.partitions
            .iter()
            .filter(|p| p.verdict == Verdict::Illegal)
    }
}

/// The search's findings on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionExplanation {
    /// The partition's name ([`Model::describe_partition`]).
    pub name: String,
    /// The partition's own verdict ([`Verdict::Unknown`] if its search gave up).
    pub verdict: Verdict,
    /// Its operations, as indices into the history.
    pub ops: Vec<usize>,
    /// Distinct partial linearizations the search reached, longest first (at most a few:
    /// the longest ones). For a linearizable partition, just the complete one.
    pub linearizations: Vec<PartialLinearization>,
    /// For each operation of `ops` (same positions), the index in `linearizations` of the
    /// longest partial linearization that contains it, if one was kept.
    pub longest_for_op: Vec<Option<usize>>,
    /// The search steps it took.
    pub steps: u64,
    /// Whether its search ran to an answer or to the budget; `false` when it was stopped
    /// (or never started) because another partition had already been found illegal,
    /// which settles the verdict. Such a partition has no linearizations.
    pub searched: bool,
}

impl PartitionExplanation {
    /// The longest partial linearization found, if the search ran.
    pub fn longest(&self) -> Option<&PartialLinearization> {
        self.linearizations.first()
    }

    /// The operation (history index) that the longest partial linearization could not be
    /// extended with before that operation's response.
    pub fn blocked(&self) -> Option<usize> {
        self.longest().and_then(|l| l.blocked)
    }
}

/// Operations in an order that respects real time and the model, as far as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialLinearization {
    /// The operations, first to last, with the state after each.
    pub steps: Vec<LinearizedStep>,
    /// The operation (history index) whose response came before the search could place it
    /// after these steps: the search had to backtrack from here. Where the search ran out
    /// of budget on a partition that has a read no order of its writes explains
    /// ([`crate::Model::find_impossible_read`]), that read. `None` when the linearization is
    /// complete or the search gave up here.
    pub blocked: Option<usize>,
}

/// One operation of a partial linearization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinearizedStep {
    /// The operation, as an index into the history.
    pub op: usize,
    /// The model's state just after it ([`Model::describe_state`]).
    pub state_after: String,
}

/// Builds the explanation of `runs` (one per part of `parts`).
pub(crate) fn explain<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: Vec<Vec<usize>>,
    runs: Vec<PartitionRun>,
    verdict: Verdict,
) -> Explanation {
    let partitions = parts
        .into_iter()
        .zip(runs)
        .enumerate()
        .map(|(index, (ops, run))| {
            let name = model.describe_partition(history, &ops, index);
            let part_verdict = run.verdict();
            let searched = run.outcome != Outcome::Stopped;
            let (linearizations, longest_for_op) = match (run.trace, run.order) {
                // A linearizable part is explained by the linearization found.
                (None, Some(order)) => {
                    let order: Vec<usize> = order.iter().map(|&op| ops[op as usize]).collect();
                    let complete = PartialLinearization {
                        steps: replay(model, history, &order),
                        blocked: None,
                    };
                    (vec![complete], vec![Some(0); ops.len()])
                }
                (None, None) => (Vec::new(), vec![None; ops.len()]),
                (Some(trace), _) => {
                    let linearizations = trace
                        .linearizations
                        .iter()
                        .map(|snapshot| {
                            let order: Vec<usize> =
                                snapshot.order.iter().map(|&op| ops[op as usize]).collect();
                            PartialLinearization {
                                steps: replay(model, history, &order),
                                blocked: snapshot.blocked.map(|op| ops[op as usize]),
                            }
                        })
                        .collect();
                    (linearizations, trace.best_for_op)
                }
            };
            PartitionExplanation {
                name,
                verdict: part_verdict,
                ops,
                linearizations,
                longest_for_op,
                steps: run.steps,
                searched,
            }
        })
        .collect();
    Explanation {
        verdict,
        partitions,
    }
}

/// The states along `order`, an order of history operations the search accepted.
fn replay<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    order: &[usize],
) -> Vec<LinearizedStep> {
    let mut state = model.init();
    order
        .iter()
        .map(|&op| {
            let operation = &history[op];
            state = model
                .step(&state, &operation.input, &operation.output)
                .expect("Model::step must be pure: it rejected a step it accepted before");
            LinearizedStep {
                op,
                state_after: model.describe_state(&state),
            }
        })
        .collect()
}
