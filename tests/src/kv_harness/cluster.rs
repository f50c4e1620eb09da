//! A group of replicated servers on a simulated network, as the Lab 3 tests see it (the
//! course's `kvraft/config.go`, and `tester1` for the rsm tests): starting and shutting
//! down servers, partitions, the clients' ends, and the sizes of what servers saved.
//!
//! Generic over the [`Replica`] the group runs: a key/value server, or the rsm tests'
//! counter server. Every call the tester makes on a server runs in that server's node
//! context, and every action is logged under the target `tester`.

use std::sync::Arc;

use labrpc::tester::{Network, Node, Server};
use labrpc::{ClientEnd, Service};
use parking_lot::Mutex;
use raft::{Persister, Raft};
use rand::seq::SliceRandom;

use crate::ends::make_ends;
pub use crate::ends::server_name;
use crate::events::LinkMap;
use crate::monitors::{StateMonitor, StoreMonitor};

mod worst_moments;

/// A server the group can run: what the tester needs of a key/value server.
pub trait Replica: Clone + Send + Sync + 'static {
    /// Starts server `me` (`StartKVServer`), in its node's context, its Raft running
    /// `options` (`Options::FIGURE_2` in the course's tests).
    fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        options: raft::Options,
    ) -> Self;
    /// Its RPC services (its own and its Raft's).
    fn services(&self) -> Vec<Service>;
    /// Its Raft.
    fn raft(&self) -> Raft;
    /// Stops it.
    fn kill(&self);
}

impl Replica for kvraft::KvServer {
    fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        options: raft::Options,
    ) -> Self {
        if options == raft::Options::FIGURE_2 {
            kvraft::KvServer::new(servers, me, persister, maxraftstate)
        } else {
            kvraft::KvServer::with_options(servers, me, persister, maxraftstate, options)
        }
    }

    fn services(&self) -> Vec<Service> {
        kvraft::KvServer::services(self)
    }

    fn raft(&self) -> Raft {
        kvraft::KvServer::raft(self).clone()
    }

    fn kill(&self) {
        kvraft::KvServer::kill(self);
    }
}

/// A group of `n` servers. Cloning gives another handle to the same group.
pub struct Cluster<S: Replica> {
    inner: Arc<Inner<S>>,
}

impl<S: Replica> Clone for Cluster<S> {
    fn clone(&self) -> Self {
        Cluster {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<S: Replica> {
    n: usize,
    net: Network,
    maxraftstate: Option<usize>,
    /// What every server's Raft runs (part 3C; `FIGURE_2` in the course's tests).
    options: raft::Options,
    state: Mutex<State<S>>,
    /// The state monitor over the servers' Rafts (see `crate::monitors`).
    states: Arc<Mutex<StateMonitor>>,
    /// The store monitor over the servers' state machines (see `crate::monitors`).
    stores: Arc<Mutex<StoreMonitor>>,
    /// Restarts due from the crash-after-reply plan (part 3X).
    worst: Mutex<worst_moments::WorstMoments>,
}

struct State<S> {
    /// Server `i`'s running instance and its node; `None` while it is shut down.
    running: Vec<Option<(Node, S)>>,
    /// Server `i`'s stable storage, kept across restarts.
    saved: Vec<Persister>,
    /// `end_names[i][j]`: the end server `i`'s current incarnation uses to reach `j`.
    end_names: Vec<Vec<String>>,
    /// Which of the ends between servers are enabled, for the timeline.
    links: LinkMap,
    /// How many server incarnations and clients have been made, for fresh end names.
    made: u64,
    /// Server `i` is a spare: a fresh machine the cluster will add (part 3C), started with
    /// `Options::joining`.
    joining: Vec<bool>,
}

/// A client's ends, one per server, by server: the tester enables and disables them.
#[derive(Clone, Debug)]
pub struct ClientEnds {
    names: Vec<String>,
}

impl ClientEnds {
    /// The clerk's name in the timeline when the history does not record it: `ck5` for
    /// the clerk whose ends are `C5->S0`, ... (recorded clients are `C0`, `C1`, ... by
    /// their number in the history).
    pub fn row(&self) -> String {
        let clerk = self.names.first().and_then(|name| name.split("->").next());
        format!("ck{}", clerk.unwrap_or("?").trim_start_matches('C'))
    }
}

impl<S: Replica> Cluster<S> {
    /// `make_config`: `n` servers, all started and connected, on a network that is
    /// reliable unless `unreliable`, with [`NETWORK_LATENCY`](super::NETWORK_LATENCY) on
    /// every message. There are no long delays in the KV tests (as in the course).
    pub fn new(n: usize, unreliable: bool, maxraftstate: Option<usize>) -> Cluster<S> {
        Cluster::with_spares(n, unreliable, maxraftstate, raft::Options::FIGURE_2, &[])
    }

    /// [`Cluster::new`], with every server's Raft running `options`, and the servers
    /// `spares` started as fresh machines that the cluster will add (`Options::joining`)
    /// and left disconnected from everyone (part 3C). A spare is in the initial
    /// configuration, which holds every server: a test removes it first.
    pub fn with_spares(
        n: usize,
        unreliable: bool,
        maxraftstate: Option<usize>,
        options: raft::Options,
        spares: &[usize],
    ) -> Cluster<S> {
        tracing::info!(
            target: "tester",
            servers = n,
            reliable = !unreliable,
            ?maxraftstate,
            "make_config"
        );
        let cluster = Cluster {
            inner: Arc::new(Inner {
                n,
                net: Network::new(),
                maxraftstate,
                options,
                state: Mutex::new(State {
                    running: (0..n).map(|_| None).collect(),
                    saved: (0..n).map(|_| Persister::new()).collect(),
                    end_names: vec![Vec::new(); n],
                    links: LinkMap::new(n),
                    made: 0,
                    joining: (0..n).map(|i| spares.contains(&i)).collect(),
                }),
                states: Arc::new(Mutex::new(StateMonitor::new(n))),
                stores: Arc::new(Mutex::new(StoreMonitor::new(n))),
                worst: Mutex::default(),
            }),
        };
        let stores = cluster.inner.stores.clone();
        kvraft::watched::watch_stores(move |node, event| {
            stores.lock().event(node, event, labrpc::now());
        });
        for i in 0..n {
            cluster.start_server(i);
        }
        cluster.connect_all();
        for &spare in spares {
            cluster.disconnect(spare, &cluster.all());
        }
        cluster.inner.net.set_reliable(!unreliable);
        cluster.inner.net.set_latency(super::NETWORK_LATENCY);
        let states = cluster.inner.states.clone();
        let started = labrpc::now();
        labrpc::tester::note_on_failure(move || {
            let waited = labrpc::now() - started;
            (waited >= super::ELECTION_TIMEOUT && !states.lock().ever_led()).then(|| {
                format!(
                    "No Raft server became leader in the {waited:?} since the servers \
                     started, so nothing above Raft could work, and the failure below \
                     follows from that. Make your Raft pass Lab 2 first (cargo test -p \
                     tests 2a); or, if your course gave you the reference Raft, run this \
                     lab on it (docs/lab-kvraft.md says how)."
                )
            })
        });
        cluster
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.inner.n
    }

    /// Every server, `[0, 1, ..., n-1]` (the course's `All()`).
    pub fn all(&self) -> Vec<usize> {
        (0..self.inner.n).collect()
    }

    /// The network, for its counters.
    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// Runs `call` on server `i` in its node context; `None` if it is shut down.
    pub fn on_server<R>(&self, i: usize, call: impl FnOnce(&S) -> R) -> Option<R> {
        let (node, server) = self.inner.state.lock().running[i].clone()?;
        Some(node.enter(|| call(&server)))
    }

    /// `StartServer(i)`: starts server `i` on a fresh node with fresh ends, from a copy of
    /// what it saved. Does not connect it. Server `i` must be shut down.
    pub fn start_server(&self, i: usize) {
        self.cancel_pending_restart(i);
        let n = self.inner.n;
        let net = &self.inner.net;
        let (ends, persister, incarnation, options) = {
            let mut state = self.inner.state.lock();
            assert!(
                state.running[i].is_none(),
                "tester bug: start_server({i}) while it runs"
            );
            state.made += 1;
            let made = state.made;
            state.end_names[i] = (0..n).map(|j| format!("S{i}->S{j}#{made}")).collect();
            let ends = make_ends(net, &state.end_names[i]);
            state.links.fresh_ends(i);
            state.saved[i] = state.saved[i].copy();
            let options = raft::Options {
                joining: state.joining[i],
                ..self.inner.options
            };
            (ends, state.saved[i].clone(), made, options)
        };
        tracing::info!(target: "tester", "start S{i}");
        let node = Node::new(server_name(i));
        self.inner.stores.lock().starting(node, i, incarnation);
        let maxraftstate = self.inner.maxraftstate;
        let (server, services) = node.enter(|| {
            let server = S::start(ends, i, persister, maxraftstate, options);
            let services = server.services();
            (server, services)
        });
        if !self.inner.stores.lock().is_watched(i, incarnation) {
            fail!(
                "S{i}'s state machine is not watched: the tester compares the stores of \
                 servers that applied the same operations through kvraft::Watched, so \
                 KvServer::new must hand its store to the rsm wrapped in it, as the \
                 skeleton does: Rsm::new(servers, me, persister, maxraftstate, \
                 Watched::new(Store::default()))"
            );
        }
        let stores = self.inner.stores.clone();
        crate::monitors::watch_with(
            &self.inner.states,
            i,
            incarnation,
            node,
            &server.raft(),
            move || stores.lock().take_violation(),
        );
        let mut host = Server::on(node);
        for service in services {
            host.add_service(service);
        }
        net.add_server(server_name(i), host);
        self.inner.state.lock().running[i] = Some((node, server));
    }

    /// `ShutdownServer(i)`: cuts server `i` off, removes it from the network, keeps a copy
    /// of what it saved, kills it, and kills its node (every task it had stops).
    pub fn shutdown_server(&self, i: usize) {
        self.cancel_pending_restart(i);
        self.disconnect(i, &self.all());
        self.inner.net.delete_server(&server_name(i));
        let stopped = {
            let mut state = self.inner.state.lock();
            state.saved[i] = state.saved[i].copy();
            state.running[i].take()
        };
        if let Some((node, server)) = stopped {
            tracing::info!(target: "tester", "shut down S{i}");
            node.enter(|| server.kill());
            node.kill();
        }
    }

    /// Whether server `i` runs.
    pub fn is_up(&self, i: usize) -> bool {
        self.inner.state.lock().running[i].is_some()
    }

    /// Whether server `i`'s node is alive (a fault plan may have killed it while the
    /// tester still counts it as running); `None` if it is shut down.
    fn node_is_alive(&self, i: usize) -> Option<bool> {
        let state = self.inner.state.lock();
        let (node, _) = state.running[i].as_ref()?;
        Some(node.is_alive())
    }

    /// Enables the ends between server `i` and each server in `to`, both ways.
    pub fn connect(&self, i: usize, to: &[usize]) {
        tracing::info!(target: "tester", "connect S{i} to {to:?}");
        self.set_links(i, to, true);
    }

    /// Disables the ends between server `i` and each server in `from`, both ways.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        tracing::info!(target: "tester", "disconnect S{i} from {from:?}");
        self.set_links(i, from, false);
    }

    fn set_links(&self, i: usize, others: &[usize], enabled: bool) {
        let mut state = self.inner.state.lock();
        for &j in others {
            if let Some(name) = state.end_names[i].get(j) {
                self.inner.net.enable(name, enabled);
                state.links.set(i, j, enabled);
            }
            if let Some(name) = state.end_names[j].get(i) {
                self.inner.net.enable(name, enabled);
                state.links.set(j, i, enabled);
            }
        }
        // Which servers each server reaches now, for the timeline.
        state.links.record();
    }

    /// Connects every server to every other.
    pub fn connect_all(&self) {
        let all = self.all();
        for i in 0..self.inner.n {
            self.connect(i, &all);
        }
    }

    /// Splits the servers into `p1` and `p2`: connected within each, cut off between them.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        tracing::info!(target: "tester", "partition {p1:?} | {p2:?}");
        for &i in p1 {
            self.set_links(i, p2, false);
            self.set_links(i, p1, true);
        }
        for &i in p2 {
            self.set_links(i, p1, false);
            self.set_links(i, p2, true);
        }
    }

    /// The first server (by index) that believes it leads, if any (the course's `Leader()`).
    pub fn leader(&self) -> Option<usize> {
        (0..self.inner.n).find(|&i| self.on_server(i, |s| s.raft().state().1).unwrap_or(false))
    }

    /// Two groups, the current leader (or server 0, if none) at the end of the minority
    /// (`make_partition`): `n/2 + 1` servers, then `n/2`.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let leader = self.leader().unwrap_or(0);
        let others: Vec<usize> = (0..self.inner.n).filter(|&i| i != leader).collect();
        let majority = self.inner.n / 2 + 1;
        let p1 = others[..majority].to_vec();
        let mut p2 = others[majority..].to_vec();
        p2.push(leader);
        (p1, p2)
    }

    /// A random split of the servers in two, as the course's partitioner draws it: each
    /// server on either side with probability 1/2.
    pub fn random_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let mut rng = labrpc::rng();
        let (mut p1, mut p2) = (Vec::new(), Vec::new());
        for i in 0..self.inner.n {
            if rand::RngExt::random_bool(&mut rng, 0.5) {
                p2.push(i);
            } else {
                p1.push(i);
            }
        }
        (p1, p2)
    }

    /// The largest Raft state any server saved (`LogSize`).
    pub fn log_size(&self) -> usize {
        let state = self.inner.state.lock();
        state
            .saved
            .iter()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// The largest snapshot any server saved (`SnapshotSize`).
    pub fn snapshot_size(&self) -> usize {
        let state = self.inner.state.lock();
        state
            .saved
            .iter()
            .map(Persister::snapshot_size)
            .max()
            .unwrap_or(0)
    }

    /// Which servers' stable storage holds a snapshot (what they last saved, running or
    /// not): the proof a snapshot test needs that the service really took one.
    pub fn servers_with_snapshot(&self) -> Vec<usize> {
        let state = self.inner.state.lock();
        (0..self.inner.n)
            .filter(|&i| state.saved[i].snapshot_size() > 0)
            .collect()
    }

    /// Fails the test unless at least one server saved a snapshot: a snapshot test whose
    /// servers never snapshot tests nothing it claims to. `doing` says what the test did
    /// (its operations made the Raft state grow well past `maxraftstate`).
    pub fn require_a_snapshot(&self, doing: &str) {
        if !self.servers_with_snapshot().is_empty() {
            return;
        }
        let max = self.inner.maxraftstate;
        fail!(
            "no server has saved a snapshot after {doing}, with maxraftstate = {max:?}: the \
             service must call Raft::snapshot(index, state) once the Raft state its persister \
             holds reaches maxraftstate bytes (the largest is {} bytes now), and Raft must \
             save that snapshot with Persister::save",
            self.log_size()
        );
    }

    /// A fresh set of ends for a client, one to each server, all connected but enabled
    /// only to the servers in `to`; handed to the client in a random order (as the
    /// course's `random_handles`), so clients do not all start with server 0.
    pub fn make_client_ends(&self, to: &[usize]) -> (Vec<ClientEnd>, ClientEnds) {
        let net = &self.inner.net;
        let made = {
            let mut state = self.inner.state.lock();
            state.made += 1;
            state.made
        };
        let names: Vec<String> = (0..self.inner.n)
            .map(|j| format!("C{made}->S{j}"))
            .collect();
        let mut ends = make_ends(net, &names);
        ends.shuffle(&mut labrpc::rng());
        let client = ClientEnds { names };
        self.connect_client(&client, to);
        (ends, client)
    }

    /// Enables a client's ends to the servers in `to`.
    pub fn connect_client(&self, client: &ClientEnds, to: &[usize]) {
        for &j in to {
            self.inner.net.enable(&client.names[j], true);
        }
    }

    /// Disables a client's ends to the servers in `from`.
    pub fn disconnect_client(&self, client: &ClientEnds, from: &[usize]) {
        for &j in from {
            self.inner.net.enable(&client.names[j], false);
        }
    }

    /// Sets the network reliable or lossy.
    pub fn set_reliable(&self, reliable: bool) {
        tracing::info!(target: "tester", reliable, "set network reliability");
        self.inner.net.set_reliable(reliable);
    }
}

impl<S: Replica> Drop for Inner<S> {
    /// The course's `cleanup`: kills every server still running, in its node context.
    /// Skipped while a failed test unwinds (a panic inside `drop` would abort the test
    /// binary); the world then drops the servers' tasks anyway.
    ///
    /// The kills wait for the end of the run, after labrpc's check that no server is
    /// stuck (its tasks all waiting for something that can never happen: a deadlock), so
    /// that the check sees the servers as the test left them: a `kill()` may
    /// legitimately leave a server's node with nothing to wake a task it was given.
    fn drop(&mut self) {
        kvraft::watched::unwatch_stores();
        if std::thread::panicking() {
            return;
        }
        let running: Vec<_> = self
            .state
            .get_mut()
            .running
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        labrpc::tester::at_end_of_run(move || {
            for (node, server) in running {
                node.enter(|| server.kill());
            }
        });
    }
}
