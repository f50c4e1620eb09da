//! Faults at the worst moments for Lab 4 (part 4X, beyond the course's model; see
//! `docs/fault-model.md`): requests delivered again later, and servers that crash right
//! after a reply and are restarted from their persisters.

use std::ops::Range;
use std::time::Duration;

use futures::StreamExt;

use super::ctrlers::ctrler_name;
use super::groups::ShardConfig;
use crate::fault_plans;

impl ShardConfig {
    /// Every request that reaches a server (any method: clerks', groups', Raft's) is
    /// delivered to it once more with probability `per_mille`/1000, `delay_ms` later.
    pub fn stale_duplicates(&self, per_mille: u64, delay_ms: Range<u64>) {
        tracing::info!(target: "tester", per_mille, ?delay_ms, "stale duplicates");
        self.net()
            .set_stale_duplicates(fault_plans::stale_duplicates(&[], per_mille, delay_ms));
    }

    /// Every group server and controller server crashes right after a reply to one of
    /// `methods` (any method if empty) with probability `per_mille`/1000, and is restarted
    /// from its persister after `restart_after_ms`. Call once per test.
    pub fn crash_after_reply(
        &self,
        methods: &[&str],
        per_mille: u64,
        restart_after_ms: Range<u64>,
    ) {
        tracing::info!(target: "tester", ?methods, per_mille, ?restart_after_ms, "crash after reply: on");
        let mut crashes = self.net().reply_crashes();
        let cfg = self.clone();
        labrpc::spawn(async move {
            while let Some(crash) = crashes.next().await {
                let delay = fault_plans::restart_delay_ms(restart_after_ms.clone());
                let cfg = cfg.clone();
                labrpc::spawn(async move { cfg.restart_crashed(&crash.server, delay).await });
            }
        });
        let mut servers = self.server_names();
        servers.extend((0..self.ctrlers().n()).map(ctrler_name));
        self.net()
            .set_crash_after_reply(Some(fault_plans::crash_after_reply(
                servers, methods, per_mille,
            )));
    }

    /// Stops crashing servers after replies (those crashed already are still restarted).
    pub fn stop_crashing_after_reply(&self) {
        tracing::info!(target: "tester", "crash after reply: off");
        self.net().set_crash_after_reply(None);
    }

    /// Shuts down the crashed server `name` (its node is dead already), and starts it
    /// again `delay_ms` later from its persister.
    async fn restart_crashed(&self, name: &str, delay_ms: u64) {
        if let Some((gi, i)) = self.server_named(name) {
            self.shutdown_server(gi, i);
            labrpc::sleep(Duration::from_millis(delay_ms)).await;
            if !self.is_up(gi, i) {
                self.start_server(gi, i);
            }
        } else if let Some(i) = (0..self.ctrlers().n()).find(|&i| ctrler_name(i) == name) {
            let ctrlers = self.ctrlers();
            ctrlers.shutdown_server(i);
            labrpc::sleep(Duration::from_millis(delay_ms)).await;
            if !ctrlers.is_up(i) {
                ctrlers.start_server(i);
                ctrlers.connect_all();
            }
        }
    }
}
