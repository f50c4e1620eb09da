//! The applier: hands committed entries and installed snapshots to the service, in order.

use std::sync::Arc;

use super::state::{Peer, State};
use crate::ApplyMsg;

impl Peer {
    /// Delivers everything between `last_applied` and `commit_index` whenever woken.
    ///
    /// Messages are taken from the state under the lock, and sent after releasing it: the
    /// service may call back into Raft (`snapshot`) as it applies them.
    pub(crate) async fn run_applier(self: Arc<Self>) {
        loop {
            self.applier.wait().await;
            loop {
                let batch = {
                    let mut state = self.state.lock();
                    if state.dead {
                        return;
                    }
                    take_ready(&mut state)
                };
                if batch.is_empty() {
                    break;
                }
                for msg in batch {
                    if self.apply_tx.unbounded_send(msg).is_err() {
                        return; // the service is gone
                    }
                }
            }
        }
    }
}

/// The messages ready for delivery: a freshly installed snapshot first, then the newly
/// committed entries. Marks them applied.
fn take_ready(state: &mut State) -> Vec<ApplyMsg> {
    let mut batch = Vec::new();
    if state.snapshot_to_apply {
        state.snapshot_to_apply = false;
        let index = state.log.snapshot_index();
        if index > state.last_applied {
            batch.push(ApplyMsg::Snapshot {
                index,
                term: state.log.snapshot_term(),
                data: state.snapshot.clone(),
            });
            state.last_applied = index;
        }
    }
    while state.last_applied < state.commit_index {
        let index = state.last_applied + 1;
        let entry = state
            .log
            .entry(index)
            .expect("committed entries after the snapshot are in the log");
        batch.push(ApplyMsg::Command {
            index,
            term: entry.term,
            command: entry.command.clone(),
        });
        state.last_applied = index;
    }
    batch
}
