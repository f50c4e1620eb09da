//! The key/value groups and the controller on one network: the course's 4B `config`
//! (`shardkv/config.go`): three controller servers, three groups (gids 100, 101, 102) of
//! `n` servers each, the tester's own controller clerk, and the clients.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::lock::Mutex as AsyncMutex;
use labrpc::Instant;
use labrpc::tester::{Network, Node, Server, say};
use parking_lot::Mutex;
use raft::Persister;
use rand::seq::SliceRandom;
use shardkv::{Clerk, Config, Gid, ShardKv};

use super::clerk::{TestClerk, TestCtrlerClerk};
use super::ctrlers::{Ctrlers, ctrler_name};
use super::{NETWORK_LATENCY, SERVERS, fail};
use crate::kv_harness::history::History;
use crate::monitors::{ShardMonitor, StateMonitor, StoreMonitor};

/// The groups the course's 4B tests run: three.
pub const GROUPS: usize = 3;

/// The course's `cfg` for 4B. Cloning gives another handle to the same world.
#[derive(Clone)]
pub struct ShardConfig {
    inner: Arc<Inner>,
}

struct Inner {
    net: Network,
    /// Servers per group (the course's `n`).
    n: usize,
    /// What servers snapshot at; never if `None` (the course's -1).
    maxraftstate: Option<usize>,
    ctrlers: Ctrlers,
    /// The tester's controller clerk (the course's `mck`), for Join, Leave and Query.
    mck: AsyncMutex<TestCtrlerClerk>,
    groups: Vec<Mutex<Group>>,
    /// Election Safety over each group's Rafts (see `crate::monitors`).
    states: Vec<Arc<Mutex<StateMonitor>>>,
    /// Each group's store monitor: its servers that applied the same operations hold the
    /// same state.
    stores: Vec<Arc<Mutex<StoreMonitor>>>,
    /// The shard monitor over every group.
    shards: Arc<Mutex<ShardMonitor>>,
    history: History,
    /// Clerk calls since `begin`.
    ops: AtomicU64,
    /// When `begin` was called, and the RPC count then.
    report: Mutex<Option<(Instant, u64)>>,
}

/// One replica group.
struct Group {
    gid: Gid,
    /// Server `i`'s running instance and its node; `None` while it is shut down.
    running: Vec<Option<(Node, ShardKv)>>,
    saved: Vec<Persister>,
    /// The ends server `i`'s current incarnation sends through: to its group's servers,
    /// then to the controller's (the course's `endnames` and `mendnames`).
    end_names: Vec<Vec<String>>,
    incarnations: u64,
}

/// The network name of server `i` of group `gid` (the course's `servername`).
pub fn server_name(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

impl ShardConfig {
    /// `make_config(n, unreliable, maxraftstate)`: the controller's three servers, and three
    /// groups of `n` servers (gids 100, 101 and 102), all started; the network reliable
    /// unless `unreliable`, with [`NETWORK_LATENCY`] on every message.
    pub fn new(n: usize, unreliable: bool, maxraftstate: Option<usize>) -> ShardConfig {
        tracing::info!(
            target: "tester",
            servers_per_group = n,
            reliable = !unreliable,
            ?maxraftstate,
            "make_config"
        );
        let net = Network::new();
        let names = |gi: usize| -> Vec<String> {
            (0..n).map(|i| server_name(100 + gi as Gid, i)).collect()
        };
        let ctrlers = Ctrlers::start(&net, SERVERS, Arc::new(AtomicU64::new(0)));
        let mck = AsyncMutex::new(ctrlers.make_clerk());
        let cfg = ShardConfig {
            inner: Arc::new(Inner {
                net: net.clone(),
                n,
                maxraftstate,
                ctrlers,
                mck,
                groups: (0..GROUPS)
                    .map(|gi| {
                        Mutex::new(Group {
                            gid: 100 + gi as Gid,
                            running: (0..n).map(|_| None).collect(),
                            saved: (0..n).map(|_| Persister::new()).collect(),
                            end_names: vec![Vec::new(); n],
                            incarnations: 0,
                        })
                    })
                    .collect(),
                states: (0..GROUPS)
                    .map(|gi| Arc::new(Mutex::new(StateMonitor::named(names(gi)))))
                    .collect(),
                stores: (0..GROUPS)
                    .map(|gi| Arc::new(Mutex::new(StoreMonitor::named(names(gi)))))
                    .collect(),
                shards: Arc::new(Mutex::new(ShardMonitor::new(
                    (0..GROUPS).map(|gi| 100 + gi as Gid).collect(),
                    (0..GROUPS).map(names).collect(),
                ))),
                history: History::default(),
                ops: AtomicU64::new(0),
                report: Mutex::new(None),
            }),
        };
        let shards = cfg.inner.shards.clone();
        shardkv::observed::watch_groups(move |node, event| {
            shards.lock().event(node, event, labrpc::now());
        });
        let stores = cfg.inner.stores.clone();
        kvraft::watched::watch_stores(move |node, event| {
            for store in &stores {
                store.lock().event(node, event, labrpc::now());
            }
        });
        for gi in 0..GROUPS {
            cfg.start_group(gi);
        }
        net.set_reliable(!unreliable);
        net.set_latency(NETWORK_LATENCY);
        cfg
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// The controller's servers.
    pub fn ctrlers(&self) -> &Ctrlers {
        &self.inner.ctrlers
    }

    /// Group `gi`'s id (`100 + gi`).
    pub fn gid(&self, gi: usize) -> Gid {
        self.inner.groups[gi].lock().gid
    }

    /// The history recorded so far.
    pub fn history(&self) -> &History {
        &self.inner.history
    }

    /// `StartServer(gi, i)`: starts server `i` of group `gi` on a fresh node, with fresh
    /// ends to its group and to the controller, all enabled, from a copy of what it saved.
    pub fn start_server(&self, gi: usize, i: usize) {
        let net = &self.inner.net;
        let made = self.inner.ctrlers.fresh();
        let (gid, ends, ctrler_ends, persister, incarnation) = {
            let mut group = self.inner.groups[gi].lock();
            assert!(
                group.running[i].is_none(),
                "tester bug: start_server({gi}, {i}) while it runs"
            );
            let gid = group.gid;
            let me = server_name(gid, i);
            let mut names: Vec<String> = (0..self.inner.n)
                .map(|j| format!("{me}->{}#{made}", server_name(gid, j)))
                .collect();
            let ends = names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let end = net.make_end(name.as_str());
                    net.connect(name, server_name(gid, j));
                    net.enable(name, true);
                    end
                })
                .collect::<Vec<_>>();
            let owner = format!("{me}#{made}");
            let ctrler_ends = self.inner.ctrlers.ends_for(&owner);
            names.extend(
                (0..self.inner.ctrlers.n()).map(|j| format!("{owner}->{}", ctrler_name(j))),
            );
            group.end_names[i] = names;
            group.saved[i] = group.saved[i].copy();
            group.incarnations += 1;
            (
                gid,
                ends,
                ctrler_ends,
                group.saved[i].clone(),
                group.incarnations,
            )
        };
        let name = server_name(gid, i);
        tracing::info!(target: "tester", "start {name}");
        let node = Node::new(name.clone());
        self.inner.shards.lock().starting(node, gi, i, incarnation);
        self.inner.stores[gi].lock().starting(node, i, incarnation);
        let dialer = net.dialer(format!("{name}#{made}"));
        let maxraftstate = self.inner.maxraftstate;
        let (server, services) = node.enter(|| {
            let server = ShardKv::new(ends, i, persister, maxraftstate, gid, ctrler_ends, dialer);
            let services = server.services();
            (server, services)
        });
        if !self.inner.shards.lock().is_observed(gi, i, incarnation) {
            fail!(
                "{name}'s state machine is not observed: the tester follows which shards each \
                 group serves through shardkv::Observed, so ShardKv::new must hand its state \
                 machine to the rsm wrapped in it, as the skeleton does: Rsm::new(servers, me, \
                 persister, maxraftstate, Observed::new(store))"
            );
        }
        let (shards, store) = (self.inner.shards.clone(), self.inner.stores[gi].clone());
        crate::monitors::watch_with(
            &self.inner.states[gi],
            i,
            incarnation,
            node,
            server.raft(),
            move || {
                let shards = shards.lock().take_violation();
                shards.or_else(|| store.lock().take_violation())
            },
        );
        let mut host = Server::on(node);
        for service in services {
            host.add_service(service);
        }
        net.add_server(name, host);
        self.inner.groups[gi].lock().running[i] = Some((node, server));
    }

    /// `ShutdownServer(gi, i)`: disables the ends server `i` of group `gi` sends through,
    /// removes it from the network (so no client gets a reply from it that its superseded
    /// persister stored), keeps a copy of what it saved, and kills it and its node.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        let (name, stopped) = {
            let mut group = self.inner.groups[gi].lock();
            for end in &group.end_names[i] {
                self.inner.net.enable(end, false);
            }
            let name = server_name(group.gid, i);
            self.inner.net.delete_server(&name);
            group.saved[i] = group.saved[i].copy();
            (name, group.running[i].take())
        };
        if let Some((node, server)) = stopped {
            tracing::info!(target: "tester", "shut down {name}");
            node.enter(|| server.kill());
            node.kill();
        }
    }

    /// Whether server `i` of group `gi` runs.
    pub fn is_up(&self, gi: usize, i: usize) -> bool {
        self.inner.groups[gi].lock().running[i].is_some()
    }

    /// The group and server named `name` (`"server-101-2"` is `(1, 2)`), if any.
    pub fn server_named(&self, name: &str) -> Option<(usize, usize)> {
        (0..GROUPS)
            .flat_map(|gi| (0..self.inner.n).map(move |i| (gi, i)))
            .find(|&(gi, i)| server_name(self.gid(gi), i) == name)
    }

    /// Every group server's name.
    pub fn server_names(&self) -> Vec<String> {
        (0..GROUPS)
            .flat_map(|gi| (0..self.inner.n).map(move |i| (gi, i)))
            .map(|(gi, i)| server_name(self.gid(gi), i))
            .collect()
    }

    /// `StartGroup(gi)`.
    pub fn start_group(&self, gi: usize) {
        for i in 0..self.inner.n {
            self.start_server(gi, i);
        }
    }

    /// `ShutdownGroup(gi)`.
    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..self.inner.n {
            self.shutdown_server(gi, i);
        }
    }

    /// `join(gi)`: tells the controller that group `gi` joins.
    pub async fn join(&self, gi: usize) {
        self.joinm(&[gi]).await;
    }

    /// `joinm(gis)`: tells the controller that the groups `gis` join, in one Join.
    pub async fn joinm(&self, gis: &[usize]) {
        let groups: BTreeMap<Gid, Vec<String>> = gis
            .iter()
            .map(|&gi| {
                let gid = self.gid(gi);
                (
                    gid,
                    (0..self.inner.n).map(|i| server_name(gid, i)).collect(),
                )
            })
            .collect();
        tracing::info!(target: "tester", gids = ?groups.keys().collect::<Vec<_>>(), "join");
        crate::events::phase(format!("join {:?}", groups.keys().collect::<Vec<_>>()));
        self.inner.mck.lock().await.join(groups).await;
    }

    /// `leave(gi)`: tells the controller that group `gi` leaves.
    pub async fn leave(&self, gi: usize) {
        self.leavem(&[gi]).await;
    }

    /// `leavem(gis)`: tells the controller that the groups `gis` leave, in one Leave.
    pub async fn leavem(&self, gis: &[usize]) {
        let gids: Vec<Gid> = gis.iter().map(|&gi| self.gid(gi)).collect();
        tracing::info!(target: "tester", ?gids, "leave");
        crate::events::phase(format!("leave {gids:?}"));
        self.inner.mck.lock().await.leave(&gids).await;
    }

    /// `mck.Move(shard, gid)` for group `gi`'s gid (beyond the course's 4B tests).
    pub async fn move_shard(&self, shard: usize, gi: usize) {
        let gid = self.gid(gi);
        tracing::info!(target: "tester", shard, gid, "move");
        crate::events::phase(format!("move shard {shard} to {gid}"));
        self.inner.mck.lock().await.move_shard(shard, gid).await;
    }

    /// `mck.Query(-1)`: the controller's latest configuration.
    pub async fn query_latest(&self) -> Config {
        self.inner.mck.lock().await.query(None).await
    }

    /// `makeClient`: a clerk with its own ends to the controller, in a random order, and
    /// its own dialer for the groups. Its calls are recorded in the history as client
    /// `record_as`, if given.
    pub fn make_client(&self, record_as: Option<usize>) -> TestClerk {
        let owner = format!("ck{}", self.inner.ctrlers.fresh());
        let mut ends = self.inner.ctrlers.ends_for(&owner);
        ends.shuffle(&mut labrpc::rng());
        let dialer = self.inner.net.dialer(owner.clone());
        TestClerk::new(Clerk::new(ends, dialer), self.clone(), owner, record_as)
    }

    /// `checklogs()`: no server's saved Raft state above 8 × `maxraftstate`, and no
    /// snapshot at all without `maxraftstate`.
    pub fn checklogs(&self) {
        for group in &self.inner.groups {
            let group = group.lock();
            for (i, saved) in group.saved.iter().enumerate() {
                let raft = saved.raft_state_size();
                let snap = saved.snapshot_size();
                match self.inner.maxraftstate {
                    Some(max) if raft > 8 * max => fail!(
                        "persister.RaftStateSize() {raft}, but maxraftstate {max} ({}): the \
                         service must snapshot once the Raft state reaches maxraftstate",
                        server_name(group.gid, i)
                    ),
                    None if snap > 0 => fail!(
                        "maxraftstate is -1, but snapshot is non-empty! ({}: {snap} bytes)",
                        server_name(group.gid, i)
                    ),
                    _ => {}
                }
            }
        }
    }

    /// The bytes every group server's persister holds, Raft state and snapshot together
    /// (what `TestChallenge1Delete` bounds).
    pub fn total_saved_bytes(&self) -> usize {
        self.inner
            .groups
            .iter()
            .map(|group| {
                group
                    .lock()
                    .saved
                    .iter()
                    .map(|p| p.raft_state_size() + p.snapshot_size())
                    .sum::<usize>()
            })
            .sum()
    }

    /// Sets the network reliable or lossy (`cfg.net.Reliable`).
    pub fn set_reliable(&self, reliable: bool) {
        tracing::info!(target: "tester", reliable, "set network reliability");
        self.inner.net.set_reliable(reliable);
    }

    /// Starts a test: says its description and notes the counters for the summary line.
    pub fn begin(&self, description: &str) {
        say(format_args!("{description} ..."));
        crate::events::phase(description);
        self.inner.ops.store(0, Ordering::SeqCst);
        *self.inner.report.lock() = Some((labrpc::now(), self.inner.net.total_rpcs()));
    }

    /// Ends a passing test: the summary line (virtual seconds, servers per group, RPCs,
    /// clerk calls) with the seed.
    pub fn end(&self) {
        let (t0, rpcs0) = self
            .inner
            .report
            .lock()
            .expect("tester bug: end() without begin()");
        crate::events::test_passed();
        say(format_args!(
            "  ... Passed --  {:4.1}  {} {:5} {:4}   (seed {})",
            (labrpc::now() - t0).as_secs_f64(),
            self.inner.n,
            self.inner.net.total_rpcs() - rpcs0,
            self.inner.ops.load(Ordering::SeqCst),
            labrpc::seed()
        ));
    }

    /// Counts one clerk call for the summary line.
    pub(crate) fn count_op(&self) {
        self.inner.ops.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether some group said it served `shard` at some moment since `since`.
    pub(crate) fn served_since(&self, shard: usize, since: Instant) -> bool {
        self.inner.shards.lock().served_since(shard, since)
    }
}

impl Drop for Inner {
    /// The course's `cleanup`: kills every group server still running, at the end of the
    /// run (the controller's servers are killed by their own handle). Skipped while a
    /// failed test unwinds.
    fn drop(&mut self) {
        shardkv::observed::unwatch_groups();
        kvraft::watched::unwatch_stores();
        if std::thread::panicking() {
            return;
        }
        let running: Vec<_> = self
            .groups
            .iter_mut()
            .flat_map(|group| {
                group
                    .get_mut()
                    .running
                    .iter_mut()
                    .filter_map(Option::take)
                    .collect::<Vec<_>>()
            })
            .collect();
        labrpc::tester::at_end_of_run(move || {
            for (node, server) in running {
                node.enter(|| server.kill());
            }
        });
    }
}
