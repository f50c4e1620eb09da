//! Apply checking: what each server applied, and the plain applier that checks it.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use raft::ApplyReceiver;

use super::commands::{CONFIGURATION, NOOP, applied_value};
use super::hints::{APPLY_ORDER, ENTRY_CHANGED};
use crate::monitors::{ApplyMonitor, MembershipMonitor};

/// The commands one server applied, by index.
///
/// Indices come (almost) one after another, and every apply looks up every server's log
/// at that index, as does every `nCommitted` poll of the tester: a vector indexed by the
/// index makes those lookups a load, where a map cost a sixth of the 2C suite. An index
/// far beyond the rest (only a broken Raft applies one: the apply monitor fails it first)
/// goes to a map, so that memory stays bounded.
#[derive(Clone, Debug, Default)]
pub(super) struct AppliedLog {
    /// `dense[k]`: the command applied at index `k + 1`, if any.
    dense: Vec<Option<u64>>,
    /// Indices more than [`AppliedLog::MAX_GAP`] past the end of `dense` when applied.
    far: BTreeMap<u64, u64>,
}

impl AppliedLog {
    /// The widest gap `dense` is stretched over.
    const MAX_GAP: u64 = 1 << 16;

    /// The command applied at `index`, if any.
    pub(super) fn get(&self, index: u64) -> Option<u64> {
        let dense = index
            .checked_sub(1)
            .and_then(|k| self.dense.get(usize::try_from(k).ok()?).copied().flatten());
        dense.or_else(|| self.far.get(&index).copied())
    }

    /// Records `command` at `index`.
    pub(super) fn insert(&mut self, index: u64, command: u64) {
        let len = self.dense.len() as u64;
        match index.checked_sub(1) {
            Some(k) if k < len + Self::MAX_GAP => {
                let k = k as usize;
                if k >= self.dense.len() {
                    self.dense.resize(k + 1, None);
                }
                self.dense[k] = Some(command);
                self.far.remove(&index);
            }
            _ => {
                self.far.insert(index, command);
            }
        }
    }

    /// A log holding `commands` at indices 1, 2, ...
    pub(super) fn from_commands(commands: &[u64]) -> AppliedLog {
        AppliedLog {
            dense: commands.iter().copied().map(Some).collect(),
            far: BTreeMap::new(),
        }
    }
}

/// What the appliers have seen, shared between them and the tester.
pub(super) struct Applied {
    /// For each server, the command it applied at each index.
    pub(super) logs: Vec<AppliedLog>,
    /// For each server, the last index it applied (snapshot applier only).
    pub(super) last_applied: Vec<u64>,
    /// For each server, the first apply error it made.
    errors: Vec<Option<String>>,
    /// The highest index any server applied.
    pub(super) max_index: u64,
    /// The apply monitor: stricter than the course's checks, and fails at once.
    pub(super) monitor: ApplyMonitor,
    /// The membership monitor (part 2F): configurations change one server at a time.
    membership: MembershipMonitor,
}

impl Applied {
    pub(super) fn new(n: usize) -> Applied {
        Applied {
            logs: vec![AppliedLog::default(); n],
            last_applied: vec![0; n],
            errors: vec![None; n],
            max_index: 0,
            monitor: ApplyMonitor::new(n),
            membership: MembershipMonitor::new((0..n).collect()),
        }
    }

    /// Server `i` restarts: it has applied nothing yet (until its snapshot is ingested).
    pub(super) fn restart(&mut self, i: usize) {
        self.last_applied[i] = 0;
    }

    /// The course's `checkLogs`: records `command` at `index` for server `i`. An error if
    /// another server applied something else there, or if `i` had not applied the index
    /// before (out of order).
    pub(super) fn check_and_record(
        &mut self,
        i: usize,
        index: u64,
        command: u64,
    ) -> Result<(), String> {
        let mut error = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(old) = log.get(index)
                && old != command
            {
                error = Some(format!(
                    "commit index={index} server={i} {command} != server={j} {old}: two \
                     servers applied different commands at one index (State Machine Safety, \
                     §5.4.3). {ENTRY_CHANGED}"
                ));
            }
        }
        let had_previous = self.logs[i].get(index - 1).is_some();
        self.logs[i].insert(index, command);
        self.max_index = self.max_index.max(index);
        if index > 1 && !had_previous {
            return Err(format!(
                "server S{i} apply out of order {index}: it had not applied index {} \
                 (Figure 2: lastApplied advances one index at a time). {APPLY_ORDER}",
                index - 1
            ));
        }
        error.map_or(Ok(()), Err)
    }

    /// Runs the apply monitor on a command server `i` applied: fails the test at once if
    /// it breaks an invariant.
    pub(super) fn monitor_command(&mut self, i: usize, index: u64, command: u64) {
        if let Err(violation) = self.monitor.command(i, index, command, labrpc::now()) {
            fail!("{violation}");
        }
        if command & CONFIGURATION != 0 && command != NOOP {
            let servers: Vec<usize> = (0..62).filter(|s| command & 1 << s != 0).collect();
            if let Err(violation) = self.membership.applied(i, index, &servers, labrpc::now()) {
                fail!("{violation}");
            }
        }
    }

    /// Records server `i`'s first apply error.
    pub(super) fn record_error(&mut self, i: usize, error: String) {
        self.errors[i].get_or_insert(error);
    }

    /// The first apply error any server made.
    pub(super) fn first_error(&self) -> Option<&str> {
        self.errors.iter().flatten().next().map(String::as_str)
    }

    /// How many servers applied `index`, and the command there. An error if two servers
    /// applied different commands.
    pub(super) fn committed_at(&self, index: u64) -> Result<(usize, Option<u64>), String> {
        let mut count = 0;
        let mut command = None;
        for log in &self.logs {
            if let Some(c) = log.get(index) {
                if let Some(previous) = command
                    && previous != c
                {
                    return Err(format!(
                        "committed values do not match: index {index}, {previous}, {c}: two \
                         servers applied different commands at one index (State Machine \
                         Safety, §5.4.3). {ENTRY_CHANGED}"
                    ));
                }
                count += 1;
                command = Some(c);
            }
        }
        Ok((count, command))
    }
}

/// The plain applier (`applier` in config.go): checks that commands arrive in order and
/// agree with what other servers applied. Runs as a task of server `i`.
pub(super) async fn run_applier(
    i: usize,
    mut apply_rx: ApplyReceiver,
    applied: Arc<Mutex<Applied>>,
    noop_on_election: bool,
) {
    while let Some(msg) = apply_rx.next().await {
        let Some((index, value)) = applied_value(i, &msg, noop_on_election) else {
            continue;
        };
        let mut applied = applied.lock();
        let checked = value.and_then(|command| {
            // The monitor first: it fails the test at once, with more to say.
            applied.monitor_command(i, index, command);
            applied.check_and_record(i, index, command)
        });
        if let Err(error) = checked {
            applied.record_error(i, error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_messages_come_first_then_what_usually_causes_them() {
        let mut applied = Applied::new(2);
        applied.check_and_record(0, 1, 10).unwrap();
        let error = applied.check_and_record(1, 1, 11).unwrap_err();
        assert!(
            error.starts_with("commit index=1 server=1 11 != server=0 10"),
            "{error}"
        );
        assert!(
            error.contains("Usually caused by (most likely first): a vote"),
            "{error}"
        );

        let error = applied.committed_at(1).unwrap_err();
        assert!(
            error.starts_with("committed values do not match: index 1, 10, 11"),
            "{error}"
        );
        assert!(error.contains("§5.4.1"), "{error}");

        let error = applied.check_and_record(0, 3, 30).unwrap_err();
        assert!(
            error.starts_with("server S0 apply out of order 3"),
            "{error}"
        );
        assert!(error.contains("Usually caused by: lastApplied"), "{error}");
    }
}
