//! Snapshots (2D): the snapshot applier, which hands Raft a snapshot every
//! [`SNAPSHOT_INTERVAL`] entries and installs the snapshots Raft sends up, and `ingestSnap`.

use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use raft::{ApplyMsg, ApplyReceiver, Raft};
use serde::{Deserialize, Serialize};

use super::SNAPSHOT_INTERVAL;
use super::apply::{Applied, AppliedLog};
use super::commands::applied_value;
use super::hints::APPLY_ORDER;

/// The snapshot the snapshot applier makes: the last index, and every command up to it.
#[derive(Serialize, Deserialize)]
struct TesterSnapshot {
    last_included_index: u64,
    /// Commands at indices 1..=last_included_index.
    commands: Vec<u64>,
}

/// The snapshot applier (`applierSnap`): as the plain one, plus it requires each command
/// to be the next index, installs snapshots Raft sends up, and hands Raft a snapshot after
/// every [`SNAPSHOT_INTERVAL`] entries.
///
/// Runs as a task of server `i`, so its calls to `raft.snapshot` run in the server's
/// context.
pub(super) async fn run_snapshot_applier(
    i: usize,
    mut apply_rx: ApplyReceiver,
    applied: Arc<Mutex<Applied>>,
    raft: Raft,
    noop_on_election: bool,
) {
    while let Some(msg) = apply_rx.next().await {
        let outcome = {
            let mut applied = applied.lock();
            let outcome = match msg {
                ApplyMsg::Snapshot { index, data, .. } => {
                    if let Err(violation) = applied.monitor.snapshot(i, index, labrpc::now()) {
                        fail!("{violation}");
                    }
                    ingest_snapshot(&mut applied, i, &data, Some(index)).map(|()| None)
                }
                // Reads (part 3C) take no index; the Raft tests make none.
                ApplyMsg::ReadReady { .. } => Ok(None),
                msg => {
                    let (index, value) = applied_value(i, &msg, noop_on_election)
                        .expect("only snapshots and reads carry no value");
                    apply_command(&mut applied, i, index, value)
                }
            };
            if let Err(error) = &outcome {
                applied.record_error(i, error.clone());
            }
            outcome
        };
        // Outside the lock: Raft may take its own lock, and its applier may be waiting on
        // ours.
        if let Ok(Some(snapshot)) = outcome {
            let bytes = labrpc::codec::encode(&snapshot).expect("snapshots encode");
            raft.snapshot(snapshot.last_included_index, bytes);
        }
    }
}

/// Checks and records a command the snapshot applier received; returns the snapshot to
/// hand Raft if this index completes an interval.
fn apply_command(
    applied: &mut Applied,
    i: usize,
    index: u64,
    value: Result<u64, String>,
) -> Result<Option<TesterSnapshot>, String> {
    let expected = applied.last_applied[i] + 1;
    let checked = if index == expected {
        value.and_then(|command| {
            applied.monitor_command(i, index, command);
            applied.check_and_record(i, index, command)
        })
    } else {
        Err(format!(
            "server S{i} apply out of order, expected index {expected}, got {index} (Figure 2: \
             lastApplied advances one index at a time; a snapshot moves it to its last \
             included index). {APPLY_ORDER}"
        ))
    };
    applied.last_applied[i] = index;
    checked?;
    if !(index + 1).is_multiple_of(SNAPSHOT_INTERVAL) {
        return Ok(None);
    }
    let commands: Option<Vec<u64>> = (1..=index).map(|j| applied.logs[i].get(j)).collect();
    match commands {
        Some(commands) => Ok(Some(TesterSnapshot {
            last_included_index: index,
            commands,
        })),
        None => Err(format!(
            "server S{i} applied index {index} without all the indices before it"
        )),
    }
}

/// `ingestSnap`: replaces server `i`'s applied log by the snapshot's.
pub(super) fn ingest_snapshot(
    applied: &mut Applied,
    i: usize,
    bytes: &[u8],
    expected_index: Option<u64>,
) -> Result<(), String> {
    let snapshot: TesterSnapshot = labrpc::codec::decode(bytes).map_err(|e| {
        format!(
            "server S{i}: snapshot decode error ({} bytes: {e}); a Snapshot ApplyMsg must carry \
             the bytes the service passed to snapshot()",
            bytes.len()
        )
    })?;
    if let Some(index) = expected_index
        && index != snapshot.last_included_index
    {
        return Err(format!(
            "server S{i} snapshot doesn't match its ApplyMsg: the message says index {index}, \
             the snapshot covers up to {}",
            snapshot.last_included_index
        ));
    }
    applied.logs[i] = AppliedLog::from_commands(&snapshot.commands);
    applied.last_applied[i] = snapshot.last_included_index;
    Ok(())
}
