//! Faults at the worst moments for a group of Lab 3 servers (part 3X): servers that crash
//! right after replying to a clerk, and clerks' requests that reach a server a second time,
//! late. The network's plans (`labrpc::net::faults`) do the faults; this module restarts
//! the servers they crash, as the Raft harness's `worst_moments` does for 2X.

use std::ops::Range;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use labrpc::tester::ReplyCrash;

use super::{Cluster, Inner, Replica};
use crate::ends::{server_index, server_name};
use crate::fault_plans;

/// The tester's side of the crash-after-reply plan.
#[derive(Default)]
pub(super) struct WorstMoments {
    /// Whether the task that restarts crashed servers runs.
    restarting: bool,
    /// How long after its crash a server is restarted, in ms.
    restart_after_ms: Range<u64>,
    /// Server `i`'s restart still due, by token (a later crash or restart cancels it).
    pending_restart: Vec<Option<u64>>,
    /// Tokens handed out so far.
    tokens: u64,
}

impl<S: Replica> Cluster<S> {
    /// From now on, a reply of one of `methods` (`"KV.PutAppend"`, ...; empty = every
    /// method) from any server crashes that server the instant it leaves, with probability
    /// `per_mille`/1000; the tester then restarts it (from its persister, connected to
    /// every server) `restart_after_ms` later (drawn uniformly).
    pub fn crash_after_reply(
        &self,
        methods: &[&str],
        per_mille: u64,
        restart_after_ms: Range<u64>,
    ) {
        tracing::info!(
            target: "tester",
            ?methods,
            per_mille,
            ?restart_after_ms,
            "crash after reply: on"
        );
        let crashes = {
            let mut worst = self.inner.worst.lock();
            worst.restart_after_ms = restart_after_ms;
            // The network hands out its crashes once: the first time, start the task that
            // restarts the servers.
            (!std::mem::replace(&mut worst.restarting, true))
                .then(|| self.inner.net.reply_crashes())
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
                (0..self.inner.n).map(server_name).collect(),
                methods,
                per_mille,
            )));
    }

    /// No more crashes after replies; servers crashed already are still restarted.
    pub fn stop_crashing_after_reply(&self) {
        tracing::info!(target: "tester", "crash after reply: off");
        self.inner.net.set_crash_after_reply(None);
    }

    /// From now on, a request of one of `methods` that reaches its server is delivered to
    /// it once more, with probability `per_mille`/1000, `delay_ms` later (drawn
    /// uniformly), as a client library that resends over a new connection would;
    /// `per_mille` 0 turns this off.
    pub fn stale_duplicates(&self, methods: &[&str], per_mille: u64, delay_ms: Range<u64>) {
        tracing::info!(target: "tester", ?methods, per_mille, ?delay_ms, "stale duplicates");
        self.inner
            .net
            .set_stale_duplicates(fault_plans::stale_duplicates(methods, per_mille, delay_ms));
    }

    /// Whether a restart of a server crashed by a fault plan is still due.
    pub fn restarts_pending(&self) -> bool {
        self.inner
            .worst
            .lock()
            .pending_restart
            .iter()
            .any(Option::is_some)
    }

    /// The tester shuts server `i` down or starts it: a restart due from a fault plan is
    /// off.
    pub(super) fn cancel_pending_restart(&self, i: usize) {
        if let Some(slot) = self.inner.worst.lock().pending_restart.get_mut(i) {
            *slot = None;
        }
    }

    /// A fault plan crashed server `i`: shuts it down as the tester would, if the running
    /// incarnation is the one that crashed. Returns its restart's token.
    fn note_crash_after_reply(&self, i: usize) -> Option<u64> {
        if self.node_is_alive(i)? {
            return None; // a newer incarnation: the test restarted it already
        }
        self.shutdown_server(i);
        let mut worst = self.inner.worst.lock();
        let n = self.inner.n;
        worst.pending_restart.resize(n, None);
        worst.tokens += 1;
        let token = worst.tokens;
        worst.pending_restart[i] = Some(token);
        Some(token)
    }

    /// Whether the restart with `token` is still due for server `i`; forgets it.
    fn take_pending_restart(&self, i: usize, token: u64) -> bool {
        let mut worst = self.inner.worst.lock();
        match worst.pending_restart.get_mut(i) {
            Some(slot) if *slot == Some(token) => {
                *slot = None;
                true
            }
            _ => false,
        }
    }
}

/// Shuts down each server the network reports crashed, and restarts it later. Holds the
/// cluster weakly: the test's end ends it.
async fn restart_crashed_servers<S: Replica>(
    cluster: Weak<Inner<S>>,
    mut crashes: UnboundedReceiver<ReplyCrash>,
) {
    while let Some(crash) = crashes.next().await {
        let Some(inner) = cluster.upgrade() else {
            return;
        };
        let group = Cluster { inner };
        let Some(i) = server_index(&crash.server).filter(|&i| i < group.n()) else {
            panic!(
                "tester bug: a crash of {}, which is no server of this cluster",
                crash.server
            );
        };
        let Some(token) = group.note_crash_after_reply(i) else {
            continue;
        };
        tracing::info!(target: "tester", method = crash.method, "S{i} crashed right after a reply");
        let range = group.inner.worst.lock().restart_after_ms.clone();
        let delay = fault_plans::restart_delay_ms(range);
        let cluster = cluster.clone();
        drop(group);
        labrpc::spawn(async move {
            labrpc::sleep(Duration::from_millis(delay)).await;
            let Some(inner) = cluster.upgrade() else {
                return;
            };
            let group = Cluster { inner };
            if group.take_pending_restart(i, token) {
                group.start_server(i);
                group.connect(i, &group.all());
            }
        });
    }
}
