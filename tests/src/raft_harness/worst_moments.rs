//! Faults at the worst moments (part 2X): servers that crash right after a reply, which
//! the tester restarts a little later, and stale duplicate requests. Both are labrpc
//! fault plans beyond the course's model (see `docs/fault-model.md`); off unless a test
//! turns them on.

use std::ops::Range;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use labrpc::tester::ReplyCrash;

use super::{Config, Inner};
use crate::ends::{server_index, server_name};
use crate::fault_plans;

impl Config {
    /// From now on, a server among `servers` (every server if empty) crashes right after
    /// its reply to a request of one of `methods` (e.g. `"Raft.RequestVote"`), with
    /// probability `per_mille`/1000, and the tester restarts it (from its persister)
    /// `restart_after_ms` later, drawn uniformly, reconnecting it if it was connected
    /// when it crashed. A server the test itself crashes or starts meanwhile is left to
    /// the test.
    pub fn crash_after_reply(
        &self,
        servers: &[usize],
        methods: &[&str],
        per_mille: u64,
        restart_after_ms: Range<u64>,
    ) {
        tracing::info!(
            target: "tester",
            ?servers,
            ?methods,
            per_mille,
            ?restart_after_ms,
            "crash after reply: on"
        );
        let crashes = {
            let mut plan = self.inner.worst.lock();
            plan.restart_after_ms = restart_after_ms;
            // The network hands out its crashes once: the first time, start the task
            // that restarts the servers.
            (!std::mem::replace(&mut plan.restarting, true)).then(|| self.inner.net.reply_crashes())
        };
        if let Some(crashes) = crashes {
            labrpc::spawn(restart_crashed_servers(
                Arc::downgrade(&self.inner),
                crashes,
            ));
        }
        self.inner
            .net
            .set_crash_after_reply(Some(fault_plans::crash_after_reply(
                servers.iter().map(|&i| server_name(i)).collect(),
                methods,
                per_mille,
            )));
    }

    /// No more crashes after replies (servers crashed already are still restarted).
    pub fn stop_crashing_after_reply(&self) {
        tracing::info!(target: "tester", "crash after reply: off");
        self.inner.net.set_crash_after_reply(None);
    }

    /// From now on, a request of one of `methods` that reaches its server is delivered to
    /// it once more, with probability `per_mille`/1000, `delay_ms` later (drawn
    /// uniformly); `per_mille` 0 turns this off.
    pub fn stale_duplicates(&self, methods: &[&str], per_mille: u64, delay_ms: Range<u64>) {
        tracing::info!(target: "tester", ?methods, per_mille, ?delay_ms, "stale duplicates");
        self.inner
            .net
            .set_stale_duplicates(fault_plans::stale_duplicates(methods, per_mille, delay_ms));
    }
}

/// The tester's side of the crash-after-reply plan.
#[derive(Default)]
pub(super) struct WorstMoments {
    /// Whether the task that restarts crashed servers runs.
    restarting: bool,
    /// How long after its crash a server is restarted, in ms.
    restart_after_ms: Range<u64>,
}

/// Notes each crash the network reports, as `crash1` would, and restarts the server
/// later. Holds the cluster weakly: the test's end ends it.
async fn restart_crashed_servers(cluster: Weak<Inner>, mut crashes: UnboundedReceiver<ReplyCrash>) {
    while let Some(crash) = crashes.next().await {
        let Some(inner) = cluster.upgrade() else {
            return;
        };
        let cfg = Config { inner };
        let Some(i) = server_index(&crash.server).filter(|&i| i < cfg.n()) else {
            panic!(
                "tester bug: a crash of {}, which is no server of this cluster",
                crash.server
            );
        };
        let Some((token, was_connected)) = cfg.note_crash_after_reply(i) else {
            continue; // the test crashed or restarted it first
        };
        tracing::info!(target: "tester", method = crash.method, "S{i} crashed right after a reply");
        let range = cfg.inner.worst.lock().restart_after_ms.clone();
        let delay = fault_plans::restart_delay_ms(range);
        let cluster = cluster.clone();
        drop(cfg);
        labrpc::spawn(async move {
            labrpc::sleep(Duration::from_millis(delay)).await;
            let Some(inner) = cluster.upgrade() else {
                return;
            };
            let cfg = Config { inner };
            if cfg.take_pending_restart(i, token) {
                cfg.start1(i);
                if was_connected {
                    cfg.connect(i);
                }
            }
        });
    }
}
