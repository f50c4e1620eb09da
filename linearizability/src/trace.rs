//! Remembers, while the search runs, the partial linearizations worth showing: for each
//! operation, the longest linearized prefix that contained it, and the longest of all.
//!
//! A prefix is only copied at a peak of the search (where it is about to backtrack), and
//! only when it beats the record of some operation on it, so following the search costs
//! little beyond the search itself.

/// A partial linearization: operations (numbered within the partition) in the order they
/// were linearized.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The linearized operations, first to last.
    pub(crate) order: Vec<u32>,
    /// The operation whose return the search reached without being able to linearize it,
    /// which forced it to backtrack from here; `None` when the search stopped here for
    /// another reason (success or an exhausted budget).
    pub(crate) blocked: Option<u32>,
}

/// What the search found worth explaining, once it is over.
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    /// Distinct partial linearizations, longest first (the first is the longest found).
    pub(crate) linearizations: Vec<Snapshot>,
    /// For each operation, the position in `linearizations` of the longest one holding it,
    /// if that one was kept.
    pub(crate) best_for_op: Vec<Option<usize>>,
}

/// Follows the search's stack. See the module documentation.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// For each operation, the greatest depth the stack reached while holding it.
    record: Vec<usize>,
    /// For each operation, the snapshot behind its record.
    best: Vec<Option<usize>>,
    /// Snapshots, `None` once nothing refers to them any more.
    snapshots: Vec<Option<Snapshot>>,
    /// How many references (operations, and the longest) each snapshot has.
    refs: Vec<u32>,
    /// The first snapshot of the greatest depth reached, and that depth.
    longest: Option<(usize, usize)>,
    /// For each stack position, the greatest depth seen at a peak since the entry there
    /// was pushed. Never increases from the bottom of the stack to the top, which lets a
    /// peak stop looking down the stack at the first entry that has seen its depth.
    tenure: Vec<usize>,
}

impl Tracker {
    /// A tracker for a partition of `ops` operations.
    pub(crate) fn new(ops: usize) -> Tracker {
        Tracker {
            record: vec![0; ops],
            best: vec![None; ops],
            snapshots: Vec::new(),
            refs: Vec::new(),
            longest: None,
            tenure: Vec::new(),
        }
    }

    /// The search pushed an operation onto its stack.
    pub(crate) fn pushed(&mut self) {
        self.tenure.push(0);
    }

    /// The search popped an operation off its stack.
    pub(crate) fn popped(&mut self) {
        self.tenure.pop();
    }

    /// The search is at a peak: `stack` (the linearized operations, in order) is about to
    /// shrink or the search is over; `blocked` is the operation it could not place.
    pub(crate) fn peak(&mut self, stack: &[u32], blocked: Option<u32>) {
        let depth = stack.len();
        let mut snapshot = None;
        for pos in (0..depth).rev() {
            if self.tenure[pos] >= depth {
                break;
            }
            self.tenure[pos] = depth;
            let op = stack[pos] as usize;
            if self.record[op] < depth {
                self.record[op] = depth;
                let id = *snapshot.get_or_insert_with(|| self.save(stack, blocked));
                self.refs[id] += 1;
                if let Some(old) = self.best[op].replace(id) {
                    self.release(old);
                }
            }
        }
        if self.longest.is_none_or(|(_, longest)| depth > longest) {
            let id = snapshot.unwrap_or_else(|| self.save(stack, blocked));
            self.refs[id] += 1;
            if let Some((old, _)) = self.longest.replace((id, depth)) {
                self.release(old);
            }
        }
    }

    fn save(&mut self, stack: &[u32], blocked: Option<u32>) -> usize {
        self.snapshots.push(Some(Snapshot {
            order: stack.to_vec(),
            blocked,
        }));
        self.refs.push(0);
        self.snapshots.len() - 1
    }

    fn release(&mut self, id: usize) {
        self.refs[id] -= 1;
        if self.refs[id] == 0 {
            self.snapshots[id] = None;
        }
    }

    /// The partial linearizations, keeping at most `keep` of them (the longest ones).
    pub(crate) fn finish(mut self, keep: usize) -> Trace {
        let mut live: Vec<usize> = (0..self.snapshots.len())
            .filter(|&id| self.snapshots[id].is_some())
            .collect();
        // Longest first; among equals, the first found first, so the overall longest
        // (the first snapshot of the greatest depth) leads.
        live.sort_by_key(|&id| {
            let len = self.snapshots[id].as_ref().map_or(0, |s| s.order.len());
            (std::cmp::Reverse(len), id)
        });
        live.truncate(keep.max(1));
        let mut position = vec![None; self.snapshots.len()];
        for (pos, &id) in live.iter().enumerate() {
            position[id] = Some(pos);
        }
        let linearizations = live
            .iter()
            .map(|&id| self.snapshots[id].take().expect("live snapshot"))
            .collect();
        let best_for_op = self
            .best
            .iter()
            .map(|best| best.and_then(|id| position[id]))
            .collect();
        Trace {
            linearizations,
            best_for_op,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_longest_prefix_of_each_operation() {
        let mut tracker = Tracker::new(4);
        // Stack [0, 1, 2], blocked by 3.
        for _ in 0..3 {
            tracker.pushed();
        }
        tracker.peak(&[0, 1, 2], Some(3));
        tracker.popped();
        tracker.popped();
        // Stack [0, 3], blocked by 1: only 3 improves.
        tracker.pushed();
        tracker.peak(&[0, 3], Some(1));
        let trace = tracker.finish(8);
        assert_eq!(trace.linearizations.len(), 2);
        assert_eq!(trace.linearizations[0].order, [0, 1, 2]);
        assert_eq!(trace.linearizations[0].blocked, Some(3));
        assert_eq!(trace.linearizations[1].order, [0, 3]);
        assert_eq!(trace.best_for_op, [Some(0), Some(0), Some(0), Some(1)]);
    }

    #[test]
    fn an_empty_peak_still_names_the_blocked_operation() {
        let tracker = {
            let mut t = Tracker::new(1);
            t.peak(&[], Some(0));
            t
        };
        let trace = tracker.finish(8);
        assert_eq!(trace.linearizations[0].order, Vec::<u32>::new());
        assert_eq!(trace.linearizations[0].blocked, Some(0));
        assert_eq!(trace.best_for_op, [None]);
    }
}
