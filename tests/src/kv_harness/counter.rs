//! The rsm tests' service: a counter replicated by the student's rsm layer, and the
//! helpers of the course's `kvraft1/rsm` tests (`oneInc`, `checkCounter`, ...).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kvraft::{Rsm, StateMachine, SubmitError, Watched};
use labrpc::tester::say;
use labrpc::{ClientEnd, Instant, Service};
use parking_lot::Mutex;
use raft::{Persister, Raft};
use serde::{Deserialize, Serialize, Serializer};

use super::cluster::{Cluster, Replica};

/// Servers in an rsm test (`NSRV`).
pub const NSRV: usize = 3;

/// How long `one_partition` keeps trying before it gives up (`NSEC`).
pub const NSEC: Duration = Duration::from_secs(10);

/// An operation on the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterOp {
    /// Adds one.
    Inc,
    /// Subtracts one.
    Dec,
    /// Changes nothing.
    Null,
}

/// The counter as a state machine. Its value is also in a cell the tester reads (as the
/// course's tester reads `rsmSrv.counter`).
pub struct Counter {
    value: Arc<Mutex<i64>>,
    /// How many times the rsm restored this incarnation's counter from a snapshot.
    restores: Arc<AtomicU64>,
}

impl StateMachine for Counter {
    type Op = CounterOp;
    /// The counter's value right after the operation.
    type Output = i64;

    fn apply(&mut self, op: CounterOp) -> i64 {
        let mut value = self.value.lock();
        match op {
            CounterOp::Inc => *value += 1,
            CounterOp::Dec => *value -= 1,
            CounterOp::Null => {}
        }
        *value
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(&*self.value.lock()).expect("a counter encodes")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        let value: i64 = labrpc::codec::decode(snapshot).unwrap_or_else(|e| {
            panic!(
                "the rsm restored the counter from {} bytes that are not a snapshot the \
                 counter made: {e}",
                snapshot.len()
            )
        });
        *self.value.lock() = value;
        self.restores.fetch_add(1, Ordering::SeqCst);
    }
}

/// The counter's state, as the store monitor compares it: its value.
impl Serialize for Counter {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.serialize_i64(*self.value.lock())
    }
}

/// A server of the rsm tests: the student's rsm over the counter.
#[derive(Clone)]
pub struct CounterServer {
    rsm: Rsm<Watched<Counter>>,
    value: Arc<Mutex<i64>>,
    restores: Arc<AtomicU64>,
}

impl Replica for CounterServer {
    fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        options: raft::Options,
    ) -> Self {
        let value = Arc::new(Mutex::new(0));
        let restores = Arc::new(AtomicU64::new(0));
        let counter = Counter {
            value: value.clone(),
            restores: restores.clone(),
        };
        CounterServer {
            rsm: if options == raft::Options::FIGURE_2 {
                Rsm::new(servers, me, persister, maxraftstate, Watched::new(counter))
            } else {
                Rsm::with_options(
                    servers,
                    me,
                    persister,
                    maxraftstate,
                    Watched::new(counter),
                    options,
                )
            },
            value,
            restores,
        }
    }

    fn services(&self) -> Vec<Service> {
        vec![self.rsm.raft().service()]
    }

    fn raft(&self) -> Raft {
        self.rsm.raft().clone()
    }

    fn kill(&self) {
        self.rsm.kill();
    }
}

/// An rsm test's cluster and state (the course's `Test` in `rsm/test.go`). Cloning gives
/// another handle to the same test, for the tasks it spawns.
#[derive(Clone)]
pub struct RsmTest {
    cluster: Cluster<CounterServer>,
    /// The server that last returned OK: tried first.
    leader: Arc<Mutex<usize>>,
    /// Which servers the tester counts as connected (`IsConnected`).
    connected: Arc<Mutex<Vec<bool>>>,
    started_at: Arc<Mutex<Option<(Instant, u64)>>>,
}

impl RsmTest {
    /// `makeTest(maxraftstate)`: [`NSRV`] servers on a reliable network.
    pub fn new(maxraftstate: Option<usize>) -> RsmTest {
        RsmTest {
            cluster: Cluster::new(NSRV, false, maxraftstate),
            leader: Arc::default(),
            connected: Arc::new(Mutex::new(vec![true; NSRV])),
            started_at: Arc::default(),
        }
    }

    /// The servers.
    pub fn cluster(&self) -> &Cluster<CounterServer> {
        &self.cluster
    }

    /// Starts a test: says its description.
    pub fn begin(&self, description: &str) {
        say(format_args!("{description} ..."));
        crate::events::phase(description);
        *self.started_at.lock() = Some((labrpc::now(), self.cluster.net().total_rpcs()));
    }

    /// Ends a passing test with the summary line.
    pub fn end(&self) {
        let (t0, rpcs0) = self
            .started_at
            .lock()
            .expect("tester bug: end() without begin()");
        crate::events::test_passed();
        say(format_args!(
            "  ... Passed --  {:4.1}  {} {:5}   (seed {})",
            (labrpc::now() - t0).as_secs_f64(),
            NSRV,
            self.cluster.net().total_rpcs() - rpcs0,
            labrpc::seed()
        ));
    }

    /// Submits `op` to server `i`'s rsm, in a task of that server (so it dies with it).
    /// `None` if the server is down or dies before `submit` returns.
    pub async fn submit(&self, i: usize, op: CounterOp) -> Option<Result<i64, SubmitError>> {
        let task = self.cluster.on_server(i, |server| {
            let rsm = server.rsm.clone();
            labrpc::spawn(async move { rsm.submit(op).await })
        })?;
        task.await.ok()
    }

    /// `onePartition(p, op)`: submits `op` to each connected server in `p` (every server
    /// if `None`), the last leader first, until one returns OK; gives up after [`NSEC`].
    pub async fn one_partition(&self, p: Option<&[usize]>, op: CounterOp) -> Option<i64> {
        let deadline = labrpc::now() + NSEC;
        while labrpc::now() < deadline {
            let mut index = *self.leader.lock();
            for _ in 0..NSRV {
                let eligible = self.connected.lock()[index] && p.is_none_or(|p| p.contains(&index));
                if eligible && let Some(Ok(result)) = self.submit(index, op).await {
                    *self.leader.lock() = index;
                    return Some(result);
                }
                index = (index + 1) % NSRV;
            }
            labrpc::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// `oneInc`: an increment, somewhere; fails the test if none succeeds within [`NSEC`].
    pub async fn one_inc(&self) -> i64 {
        match self.one_partition(None, CounterOp::Inc).await {
            Some(value) => value,
            None => fail!(
                "one: took too long: no server returned OK for an Inc within {NSEC:?} \
                 (submit() returned an error on every server, every time)"
            ),
        }
    }

    /// `checkCounter(v, nsrv)`: waits (up to about 25 s, backing off) until at least
    /// `nsrv` servers' counters are `v`.
    pub async fn check_counter(&self, v: i64, nsrv: usize) {
        let mut wait = Duration::from_millis(10);
        let mut n = 0;
        for _ in 0..30 {
            n = self.count_value(v);
            if n >= nsrv {
                tracing::info!(target: "tester", "all {nsrv} servers have counter value {v}");
                return;
            }
            labrpc::sleep(wait).await;
            if wait < Duration::from_secs(1) {
                wait *= 2;
            }
        }
        fail!("checkCounter: only {n} servers have {v} instead of {nsrv}");
    }

    /// How many running servers' counters are `v`.
    fn count_value(&self, v: i64) -> usize {
        (0..NSRV)
            .filter(|&i| self.cluster.on_server(i, |s| *s.value.lock() == v) == Some(true))
            .count()
    }

    /// The running servers whose rsm has not restored their counter from a snapshot since
    /// they (re)started.
    pub fn servers_not_restored(&self) -> Vec<usize> {
        (0..NSRV)
            .filter(|&i| {
                self.cluster
                    .on_server(i, |s| s.restores.load(Ordering::SeqCst) == 0)
                    .unwrap_or(false)
            })
            .collect()
    }

    /// The server that last returned OK.
    pub fn leader(&self) -> usize {
        *self.leader.lock()
    }

    /// The current leader as the tester last saw it, cut off from everyone.
    pub fn disconnect_leader(&self) -> usize {
        let leader = *self.leader.lock();
        self.cluster.disconnect(leader, &self.cluster.all());
        self.connected.lock()[leader] = false;
        leader
    }

    /// `ConnectOne(i)`: connects server `i` to every connected server.
    pub fn connect(&self, i: usize) {
        let connected: Vec<usize> = {
            let mut connected = self.connected.lock();
            connected[i] = true;
            (0..NSRV).filter(|&j| connected[j]).collect()
        };
        self.cluster.connect(i, &connected);
    }

    /// Splits the servers: `p1` and `p2` connected within, cut off between.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        self.cluster.partition(p1, p2);
    }

    /// `Shutdown()`: shuts every server down.
    pub fn shutdown_all(&self) {
        for i in 0..NSRV {
            self.cluster.shutdown_server(i);
        }
        self.connected.lock().fill(false);
    }

    /// Calls `kill()` on every server without killing its node, so that whatever the rsm
    /// leaves running (a `submit` that never returns) still runs and can be seen.
    pub fn kill_all_keeping_nodes(&self) {
        for i in 0..NSRV {
            self.cluster.on_server(i, |server| server.kill());
        }
    }

    /// `StartServers()`: starts every server and connects them all.
    pub fn start_all(&self) {
        for i in 0..NSRV {
            self.cluster.start_server(i);
        }
        self.cluster.connect_all();
        self.connected.lock().fill(true);
    }
}
