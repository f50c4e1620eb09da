//! The key/value cluster as the 3A/3B tests see it, its clerks, and the summary line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kvraft::{Clerk, KvServer};
use labrpc::Instant;
use labrpc::tester::say;
use parking_lot::Mutex;

use super::NETWORK_LATENCY;
use super::cluster::{ClientEnds, Cluster};
use super::history::{History, KvCall};

/// A key/value cluster, its recorded history and its counters (the course's `cfg`).
/// Cloning gives another handle to the same cluster, for the tasks a test spawns.
#[derive(Clone)]
pub struct KvConfig {
    cluster: Cluster<KvServer>,
    history: History,
    /// Clerk calls since `begin` (the course's `cfg.op()`).
    ops: Arc<AtomicU64>,
    /// When `begin` was called, and the RPC count then.
    report: Arc<Mutex<Option<(Instant, u64)>>>,
}

impl KvConfig {
    /// `make_config(n, unreliable, maxraftstate)`.
    pub fn new(n: usize, unreliable: bool, maxraftstate: Option<usize>) -> KvConfig {
        KvConfig::with_spares(n, unreliable, maxraftstate, raft::Options::FIGURE_2, &[])
    }

    /// [`KvConfig::new`], with every server started by `KvServer::with_options(..,
    /// options)`, and the servers `spares` started as fresh machines to be added (part
    /// 3C; see [`Cluster::with_spares`]).
    pub fn with_spares(
        n: usize,
        unreliable: bool,
        maxraftstate: Option<usize>,
        options: raft::Options,
        spares: &[usize],
    ) -> KvConfig {
        KvConfig {
            cluster: Cluster::with_spares(n, unreliable, maxraftstate, options, spares),
            history: History::default(),
            ops: Arc::default(),
            report: Arc::default(),
        }
    }

    /// The servers.
    pub fn cluster(&self) -> &Cluster<KvServer> {
        &self.cluster
    }

    /// The history recorded so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// `makeClient(to)`: a clerk with its own ends to every server, enabled only to `to`.
    /// Its calls are recorded in the history as client `record_as`, if given.
    pub fn make_client(&self, to: &[usize], record_as: Option<usize>) -> TestClerk {
        let (ends, client_ends) = self.cluster.make_client_ends(to);
        TestClerk {
            clerk: Clerk::new(ends),
            ends: client_ends,
            config: self.clone(),
            record_as,
        }
    }

    /// Starts a test: says its description and notes the counters for the summary line.
    pub fn begin(&self, description: &str) {
        say(format_args!("{description} ..."));
        crate::events::phase(description);
        self.ops.store(0, Ordering::SeqCst);
        *self.report.lock() = Some((labrpc::now(), self.cluster.net().total_rpcs()));
    }

    /// Ends a passing test: says the course's summary line (virtual seconds, peers, RPCs,
    /// clerk calls) with the seed.
    pub fn end(&self) {
        let (t0, rpcs0) = self
            .report
            .lock()
            .expect("tester bug: end() without begin()");
        let elapsed = labrpc::now() - t0;
        crate::events::test_passed();
        say(format_args!(
            "  ... Passed --  {:4.1}  {} {:5} {:4}   (seed {})",
            elapsed.as_secs_f64(),
            self.cluster.n(),
            self.cluster.net().total_rpcs() - rpcs0,
            self.ops.load(Ordering::SeqCst),
            labrpc::seed()
        ));
    }
}

/// A clerk as the tests use it: every call counted, and recorded in the history if the
/// clerk records.
pub struct TestClerk {
    clerk: Clerk,
    ends: ClientEnds,
    config: KvConfig,
    record_as: Option<usize>,
}

impl TestClerk {
    /// `Get`, recorded.
    pub async fn get(&mut self, key: &str) -> String {
        let call = labrpc::now();
        let value = self.clerk.get(key).await;
        self.done(KvCall::get(key, &value), call);
        value
    }

    /// `Put`, recorded.
    pub async fn put(&mut self, key: &str, value: &str) {
        let call = labrpc::now();
        self.clerk.put(key, value).await;
        self.done(KvCall::put(key, value), call);
    }

    /// `Append`, recorded.
    pub async fn append(&mut self, key: &str, value: &str) {
        let call = labrpc::now();
        self.clerk.append(key, value).await;
        self.done(KvCall::append(key, value), call);
    }

    /// `check(ck, key, value)`: a Get that must return `value`.
    pub async fn check(&mut self, key: &str, value: &str) {
        let got = self.get(key).await;
        if got != value {
            fail!("Get({key:?}): expected:\n{value:?}\nreceived:\n{got:?}");
        }
    }

    /// This clerk's ends, for `ConnectClient` and `DisconnectClient`.
    pub fn ends(&self) -> &ClientEnds {
        &self.ends
    }

    fn done(&self, call: KvCall, called_at: Instant) {
        if labrpc::now() == called_at {
            // Every message takes NETWORK_LATENCY: a call that took no time asked no server.
            fail!(
                "the Clerk's {} returned at once, without asking any server (every request \
                 and reply takes {NETWORK_LATENCY:?} on the wire in these tests): the Clerk must \
                 send the request to the servers and return only once one has carried it out",
                call.name()
            );
        }
        self.config.ops.fetch_add(1, Ordering::SeqCst);
        match self.record_as {
            Some(client) => self
                .config
                .history
                .record(client, call, called_at, labrpc::now()),
            // Drawn in the timeline all the same (a test's own clerks make the calls it
            // checks, such as the minority's Put in one_partition_3a).
            None => crate::events::op_on_row(
                self.ends.row(),
                super::history::nanos(called_at),
                call.describe(),
            ),
        }
    }
}
