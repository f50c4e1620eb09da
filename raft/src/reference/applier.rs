//! Figure 2, Rules for All Servers: "If commitIndex > lastApplied: increment
//! lastApplied, apply `log[lastApplied]` to state machine (§5.3)", and an installed
//! snapshot before that (Figure 13, rule 8).

use super::log::Payload;
use super::state::State;
use crate::ApplyMsg;

impl State {
    /// The messages ready for the service, in order: a freshly installed snapshot first,
    /// then the newly committed entries, with no gap. Marks them applied. The peer's
    /// applier sends them once it has let go of the lock.
    pub(crate) fn take_ready(&mut self) -> Vec<ApplyMsg> {
        let mut batch = Vec::new();
        if self.snapshot_to_apply {
            self.snapshot_to_apply = false;
            let index = self.log.snapshot_index();
            if index > self.last_applied {
                batch.push(ApplyMsg::Snapshot {
                    index,
                    term: self.log.snapshot_term(),
                    data: self.snapshot.clone(),
                });
                self.last_applied = index;
            }
        }
        while self.last_applied < self.commit_index {
            let index = self.last_applied + 1;
            let entry = self
                .log
                .entry(index)
                .expect("committed entries after the snapshot are in the log");
            batch.push(match &entry.payload {
                Payload::Command(command) => ApplyMsg::Command {
                    index,
                    term: entry.term,
                    command: command.clone(),
                },
                Payload::Noop => ApplyMsg::Noop {
                    index,
                    term: entry.term,
                },
                Payload::Configuration(config) => ApplyMsg::Configuration {
                    index,
                    term: entry.term,
                    servers: config.members().to_vec(),
                },
            });
            self.last_applied = index;
        }
        // Part 3C: a confirmed read once everything up to its read index is delivered.
        while let Some(&(index, id)) = self.ready_reads.front() {
            if index > self.last_applied {
                break;
            }
            self.ready_reads.pop_front();
            batch.push(ApplyMsg::ReadReady { id });
        }
        self.check_invariants();
        batch
    }
}
