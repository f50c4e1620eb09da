//! What a test reports: its description, the course's summary line, and the counters the
//! tests read.

use labrpc::Instant;
use labrpc::tester::say;

use super::{Config, server_name};

/// What `begin` recorded, for the summary line.
#[derive(Default)]
pub(super) struct Report {
    started_at: Option<Instant>,
    rpcs0: u64,
    bytes0: u64,
    max_index0: u64,
}

impl Config {
    /// Starts a test: says its description (the course's `Test (2A): ...`) and records the
    /// counters the summary line reports.
    pub fn begin(&self, description: &str) {
        say(format_args!("{description} ..."));
        crate::events::phase(description);
        *self.inner.report.lock() = Report {
            started_at: Some(labrpc::now()),
            rpcs0: self.rpc_total(),
            bytes0: self.bytes_total(),
            max_index0: self.inner.applied.lock().max_index,
        };
    }

    /// Ends a passing test: checks for apply errors and says the course's summary line
    /// (virtual seconds, peers, RPCs, bytes, commands) with the seed.
    pub fn end(&self) {
        self.check_apply_errors();
        let report = self.inner.report.lock();
        let started_at = report
            .started_at
            .expect("tester bug: end() without begin()");
        let elapsed = labrpc::now() - started_at;
        let rpcs = self.rpc_total() - report.rpcs0;
        let bytes = self.bytes_total() - report.bytes0;
        let commands = self.inner.applied.lock().max_index - report.max_index0;
        crate::events::test_passed();
        say(format_args!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}   (seed {})",
            elapsed.as_secs_f64(),
            self.inner.n,
            rpcs,
            bytes,
            commands,
            labrpc::seed()
        ));
    }

    /// RPCs that reached the handlers of server `i`'s current incarnation. A restart starts
    /// the count again from zero, as in the course (the network counts per server object).
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.inner.net.rpc_count(&server_name(i))
    }

    /// All RPCs sent so far, including lost ones and ones on dead ends.
    pub fn rpc_total(&self) -> u64 {
        self.inner.net.total_rpcs()
    }

    /// All bytes sent so far (requests, and replies delivered).
    pub fn bytes_total(&self) -> u64 {
        self.inner.net.total_bytes()
    }

    /// The largest saved Raft state among the servers (the course's `LogSize`).
    pub fn max_log_size(&self) -> usize {
        self.inner
            .servers
            .lock()
            .raft_state_sizes()
            .max()
            .unwrap_or(0)
    }
}
