//! The shard controller's servers on the simulated network (the course's
//! `shardctrler/config.go`, and the controller half of `shardkv/config.go`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::ClientEnd;
use labrpc::tester::{Network, Node, Server};
use parking_lot::Mutex;
use raft::Persister;
use rand::seq::SliceRandom;
use shardkv::{CtrlerClerk, ShardCtrler};

use super::clerk::TestCtrlerClerk;
use super::waiting::Waiting;
use crate::monitors::StateMonitor;

/// The controller's servers. Cloning gives another handle to the same servers.
#[derive(Clone)]
pub struct Ctrlers {
    inner: Arc<Inner>,
}

struct Inner {
    n: usize,
    net: Network,
    /// How many ends' owners have been made on this network, for fresh end names (shared
    /// with the groups).
    made: Arc<AtomicU64>,
    state: Mutex<State>,
    /// Election Safety over the controller's Rafts (see `crate::monitors`).
    states: Arc<Mutex<StateMonitor>>,
    /// The clerks' calls under way, in the controller and in the groups.
    waiting: Waiting,
}

struct State {
    /// Server `i`'s running instance and its node; `None` while it is shut down.
    running: Vec<Option<(Node, ShardCtrler)>>,
    saved: Vec<Persister>,
    /// `end_names[i][j]`: the end server `i`'s current incarnation uses to reach `j`.
    end_names: Vec<Vec<String>>,
    incarnations: u64,
}

/// The network name of controller server `i` (the course's `ctrlername`).
pub fn ctrler_name(i: usize) -> String {
    format!("ctrler{i}")
}

impl Ctrlers {
    /// `n` controller servers on `net`, all started and connected. `made` numbers the ends'
    /// owners on the network.
    pub fn start(net: &Network, n: usize, made: Arc<AtomicU64>) -> Ctrlers {
        let ctrlers = Ctrlers {
            inner: Arc::new(Inner {
                n,
                net: net.clone(),
                made,
                state: Mutex::new(State {
                    running: (0..n).map(|_| None).collect(),
                    saved: (0..n).map(|_| Persister::new()).collect(),
                    end_names: vec![Vec::new(); n],
                    incarnations: 0,
                }),
                states: Arc::new(Mutex::new(StateMonitor::named(
                    (0..n).map(ctrler_name).collect(),
                ))),
                waiting: Waiting::new(),
            }),
        };
        for i in 0..n {
            ctrlers.start_server(i);
        }
        ctrlers.connect_all();
        ctrlers
    }

    /// The clerks' calls under way.
    pub fn waiting(&self) -> &Waiting {
        &self.inner.waiting
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.inner.n
    }

    /// A fresh number for an end owner's name.
    pub(crate) fn fresh(&self) -> u64 {
        self.inner.made.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// `StartServer(i)`: starts controller server `i` on a fresh node, with fresh ends to
    /// the others (not yet enabled) and a copy of what it saved.
    pub fn start_server(&self, i: usize) {
        let made = self.fresh();
        let net = &self.inner.net;
        let (ends, persister, incarnation) = {
            let mut state = self.inner.state.lock();
            assert!(
                state.running[i].is_none(),
                "tester bug: start_server({i}) while it runs"
            );
            state.end_names[i] = (0..self.inner.n)
                .map(|j| format!("{}->{}#{made}", ctrler_name(i), ctrler_name(j)))
                .collect();
            let ends = state.end_names[i]
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let end = net.make_end(name.as_str());
                    net.connect(name, ctrler_name(j));
                    end
                })
                .collect::<Vec<_>>();
            state.saved[i] = state.saved[i].copy();
            state.incarnations += 1;
            (ends, state.saved[i].clone(), state.incarnations)
        };
        tracing::info!(target: "tester", "start {}", ctrler_name(i));
        let node = Node::new(ctrler_name(i));
        let (server, services) = node.enter(|| {
            let server = ShardCtrler::new(ends, i, persister);
            let services = server.services();
            (server, services)
        });
        crate::monitors::watch(&self.inner.states, i, incarnation, node, server.raft());
        let mut host = Server::on(node);
        for service in services {
            host.add_service(service);
        }
        net.add_server(ctrler_name(i), host);
        self.inner.state.lock().running[i] = Some((node, server));
    }

    /// `ShutdownServer(i)`: cuts controller server `i` off from the others, removes it from
    /// the network, keeps a copy of what it saved, and kills it and its node.
    pub fn shutdown_server(&self, i: usize) {
        self.set_links(i, false);
        self.inner.net.delete_server(&ctrler_name(i));
        let stopped = {
            let mut state = self.inner.state.lock();
            state.saved[i] = state.saved[i].copy();
            state.running[i].take()
        };
        if let Some((node, server)) = stopped {
            tracing::info!(target: "tester", "shut down {}", ctrler_name(i));
            node.enter(|| server.kill());
            node.kill();
        }
    }

    /// Whether controller server `i` runs.
    pub fn is_up(&self, i: usize) -> bool {
        self.inner.state.lock().running[i].is_some()
    }

    /// `ConnectAll`: enables the ends between every two controller servers.
    pub fn connect_all(&self) {
        for i in 0..self.inner.n {
            self.set_links(i, true);
        }
    }

    /// Enables or disables the ends between server `i` and every other, both ways.
    fn set_links(&self, i: usize, enabled: bool) {
        let state = self.inner.state.lock();
        for j in 0..self.inner.n {
            for name in [state.end_names[i].get(j), state.end_names[j].get(i)]
                .into_iter()
                .flatten()
            {
                self.inner.net.enable(name, enabled);
            }
        }
    }

    /// The first controller server (by index) that believes it leads (the course's
    /// `Leader()`).
    pub fn leader(&self) -> Option<usize> {
        (0..self.inner.n).find(|&i| {
            let running = self.inner.state.lock().running[i].clone();
            running.is_some_and(|(node, server)| node.enter(|| server.raft().state().1))
        })
    }

    /// Fresh ends from `owner` to every controller server, enabled, in server order.
    pub fn ends_for(&self, owner: &str) -> Vec<ClientEnd> {
        let net = &self.inner.net;
        (0..self.inner.n)
            .map(|j| {
                let name = format!("{owner}->{}", ctrler_name(j));
                let end = net.make_end(name.as_str());
                net.connect(&name, ctrler_name(j));
                net.enable(&name, true);
                end
            })
            .collect()
    }

    /// `makeClient`: a controller clerk with its own ends to every server, handed over in
    /// a random order (the course's `random_handles`).
    pub fn make_clerk(&self) -> TestCtrlerClerk {
        let mut ends = self.ends_for(&format!("ck{}", self.fresh()));
        ends.shuffle(&mut labrpc::rng());
        TestCtrlerClerk::new(CtrlerClerk::new(ends), self.inner.waiting.clone())
    }
}

impl Drop for Inner {
    /// The course's `cleanup`: kills every server still running, at the end of the run
    /// (see `kv_harness::cluster`'s `Drop` for why then). Skipped while a failed test
    /// unwinds.
    fn drop(&mut self) {
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
