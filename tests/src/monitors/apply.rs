//! The apply monitor: committed entries never change, and each server applies them in
//! index order without gaps, also across snapshots and restarts.

use std::collections::BTreeMap;

use labrpc::Instant;

use super::VIOLATED;
use crate::ends::server_name;
use crate::raft_harness::hints::{APPLY_ORDER, ENTRY_CHANGED};

/// What one server has applied in its current incarnation.
#[derive(Clone, Copy, Default)]
struct AppliedSoFar {
    /// The last index applied, by a command or a snapshot (0 if none).
    index: u64,
    /// Whether the last thing applied was a snapshot (for the message).
    by_snapshot: bool,
}

/// Values by log index. Every apply of every server looks its index up, and indices come
/// one after another: a vector indexed by the index makes that a load, where a map cost a
/// search and, for a new index, an insertion. An index far past the others (a broken
/// Raft's) goes to a map, so that memory stays bounded.
struct ByIndex<T> {
    /// `dense[k]`: the value at index `k + 1`.
    dense: Vec<Option<T>>,
    far: BTreeMap<u64, T>,
}

impl<T> Default for ByIndex<T> {
    fn default() -> Self {
        ByIndex {
            dense: Vec::new(),
            far: BTreeMap::new(),
        }
    }
}

impl<T: Copy> ByIndex<T> {
    /// The widest gap `dense` is stretched over.
    const MAX_GAP: u64 = 1 << 16;

    fn get(&self, index: u64) -> Option<T> {
        let dense = index
            .checked_sub(1)
            .and_then(|k| self.dense.get(usize::try_from(k).ok()?).copied().flatten());
        dense.or_else(|| self.far.get(&index).copied())
    }

    fn insert(&mut self, index: u64, value: T) {
        match index.checked_sub(1) {
            Some(k) if k < self.dense.len() as u64 + Self::MAX_GAP => {
                let k = k as usize;
                if k >= self.dense.len() {
                    self.dense.resize_with(k + 1, || None);
                }
                self.dense[k] = Some(value);
                self.far.remove(&index);
            }
            _ => {
                self.far.insert(index, value);
            }
        }
    }
}

/// The apply monitor: committed entries never change, and each server applies them in
/// index order without gaps, also across snapshots and restarts.
pub(crate) struct ApplyMonitor {
    /// Every command ever applied at each index, by any server in any incarnation: the
    /// first server that applied it, and when.
    committed: ByIndex<(u64, usize, Instant)>,
    servers: Vec<AppliedSoFar>,
}

impl ApplyMonitor {
    pub(crate) fn new(n: usize) -> ApplyMonitor {
        ApplyMonitor {
            committed: ByIndex::default(),
            servers: vec![AppliedSoFar::default(); n],
        }
    }

    /// Server `i` restarts; the service restored a snapshot covering up to
    /// `snapshot_index` (0 if none), so Raft must go on from the entry after it.
    pub(crate) fn restarted(&mut self, i: usize, snapshot_index: u64) {
        self.servers[i] = AppliedSoFar {
            index: snapshot_index,
            by_snapshot: snapshot_index > 0,
        };
    }

    /// Server `i` applied `command` at `index`.
    pub(crate) fn command(
        &mut self,
        i: usize,
        index: u64,
        command: u64,
        at: Instant,
    ) -> Result<(), String> {
        // Named only when something is said: this runs on every apply.
        let name = || server_name(i);
        let so_far = self.servers[i];
        if index != so_far.index + 1 {
            let after = if so_far.by_snapshot {
                format!("a snapshot up to index {}", so_far.index)
            } else if so_far.index == 0 {
                "nothing since it (re)started".to_owned()
            } else {
                format!("index {}", so_far.index)
            };
            return Err(format!(
                "{VIOLATED} at {at}: every server applies every committed entry once, in \
                 index order (Figure 2: lastApplied advances one index at a time, also after \
                 a restart and after a snapshot): {} applied index {index} right after \
                 {after}. After a restart, lastApplied starts from the snapshot (or 0), so \
                 entries are applied again from there. {APPLY_ORDER}",
                name()
            ));
        }
        match self.committed.get(index) {
            Some((first, by, when)) if first != command => {
                return Err(format!(
                    "{VIOLATED} at {at}: committed entries never change (State Machine \
                     Safety, §5.4.3, Figure 3): {} applied command {command} at index \
                     {index}, but {} applied command {first} there at {when}. \
                     {ENTRY_CHANGED}",
                    name(),
                    server_name(by)
                ));
            }
            Some(_) => {}
            None => {
                self.committed.insert(index, (command, i, at));
            }
        }
        self.servers[i] = AppliedSoFar {
            index,
            by_snapshot: false,
        };
        Ok(())
    }

    /// Server `i` installed a snapshot covering up to `index`.
    pub(crate) fn snapshot(&mut self, i: usize, index: u64, at: Instant) -> Result<(), String> {
        let so_far = self.servers[i];
        if index < so_far.index {
            return Err(format!(
                "{VIOLATED} at {at}: the service never goes back (Figure 13: a snapshot \
                 older than what the server has applied is discarded, not installed): {} \
                 was sent a snapshot up to index {index} after it had applied up to {}. \
                 Usually caused by InstallSnapshot installing a late or duplicated snapshot: \
                 ignore one whose last included index is not past commitIndex, and never \
                 hand the service a snapshot behind lastApplied.",
                server_name(i),
                so_far.index
            ));
        }
        self.servers[i] = AppliedSoFar {
            index,
            by_snapshot: true,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::*;

    #[test]
    fn applies_must_follow_each_other_also_after_a_restart() {
        let mut m = ApplyMonitor::new(2);
        m.command(0, 1, 10, at(1)).unwrap();
        m.command(0, 2, 20, at(2)).unwrap();
        m.restarted(0, 0);
        let error = m.command(0, 3, 30, at(3)).unwrap_err();
        assert!(
            error.contains("applied index 3 right after nothing"),
            "{error}"
        );
        assert!(error.contains("Usually caused by: lastApplied"), "{error}");
        m.restarted(0, 2);
        m.command(0, 3, 30, at(4)).unwrap();
    }

    #[test]
    fn a_committed_entry_that_changes_is_caught_across_servers_and_incarnations() {
        let mut m = ApplyMonitor::new(2);
        m.command(0, 1, 10, at(1)).unwrap();
        m.restarted(0, 0);
        let error = m.command(0, 1, 11, at(2)).unwrap_err();
        assert!(
            error.contains("S0 applied command 11 at index 1"),
            "{error}"
        );
        // The facts first, then the rules whose breach usually causes it.
        let (facts, causes) = error
            .split_once("Usually caused by")
            .expect("the causes follow the facts");
        assert!(facts.contains("State Machine Safety"), "{error}");
        for rule in ["§5.4.1", "§5.4.2", "rule 3", "matchIndex", "persisted"] {
            assert!(causes.contains(rule), "{rule} missing: {error}");
        }
        m.command(1, 1, 10, at(3)).unwrap();
    }

    #[test]
    fn a_snapshot_may_not_take_the_service_back() {
        let mut m = ApplyMonitor::new(1);
        for index in 1..=5 {
            m.command(0, index, index, at(index)).unwrap();
        }
        m.snapshot(0, 5, at(6)).unwrap();
        m.snapshot(0, 9, at(7)).unwrap();
        m.command(0, 10, 10, at(8)).unwrap();
        assert!(m.snapshot(0, 8, at(9)).is_err());
    }
}
