//! Cluster control: starting and crashing servers, connecting and disconnecting them, the
//! network's settings, and the calls the tester makes on a server (each in the server's
//! node context). Every action is logged under the target `tester`.

use std::time::Duration;

use labrpc::tester::{Node, Server};
use raft::{Persister, Raft, apply_channel};

use super::apply::run_applier;
use super::commands::encode_command;
use super::snapshots::{ingest_snapshot, run_snapshot_applier};
use super::{Applier, Config, server_name};
use crate::ends::make_ends;
use crate::events::LinkMap;

/// Which servers run and which are connected, and what each has saved.
pub(super) struct Servers {
    /// Server `i`'s running instance; `None` while it is crashed.
    running: Vec<Option<Running>>,
    /// Whether server `i` is connected (the course's `connected[i]`).
    connected: Vec<bool>,
    /// Server `i`'s stable storage, kept across crashes.
    saved: Vec<Persister>,
    /// `end_names[i][j]`: the end server `i`'s current incarnation uses to reach `j`.
    end_names: Vec<Vec<String>>,
    /// Which of the ends between servers are enabled, for the timeline.
    links: LinkMap,
    /// How many servers have been started so far, to give every incarnation fresh end
    /// names (an end connects once, and a crashed instance's ends must stay dead).
    incarnations: u64,
    /// For each server crashed by a fault plan (and not crashed or started by the test
    /// since), the token of its pending restart.
    pending_restart: Vec<Option<u64>>,
    /// Whether server `i` is a spare, started as a fresh machine that joins the running
    /// cluster (part 2F): it is restarted with `Options::joining` too.
    pub(super) joining: Vec<bool>,
}

/// A running server: the node it runs on, and its Raft.
#[derive(Clone)]
pub(super) struct Running {
    pub(super) node: Node,
    pub(super) raft: Raft,
}

impl Servers {
    pub(super) fn new(n: usize) -> Servers {
        Servers {
            running: vec![None; n],
            connected: vec![false; n],
            saved: (0..n).map(|_| Persister::new()).collect(),
            end_names: vec![Vec::new(); n],
            links: LinkMap::new(n),
            incarnations: 0,
            pending_restart: vec![None; n],
            joining: vec![false; n],
        }
    }

    /// Takes every running server out of the cluster (for the final cleanup).
    pub(super) fn take_all_running(&mut self) -> Vec<Running> {
        self.running.iter_mut().filter_map(Option::take).collect()
    }

    /// The saved Raft state sizes, one per server.
    pub(super) fn raft_state_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.saved.iter().map(Persister::raft_state_size)
    }
}

impl Config {
    /// Runs `call` on server `i`'s Raft in the server's node context, so that whatever it
    /// spawns belongs to the server; `None` if the server is crashed.
    pub(super) fn on_server<R>(&self, i: usize, call: impl FnOnce(&Raft) -> R) -> Option<R> {
        // Clone out of the lock: the call must not run with the cluster locked.
        let running = self.inner.servers.lock().running[i].clone()?;
        // A server that crashed on its own (a fault plan) is crashed, before the tester
        // has even noted it.
        if !running.node.is_alive() {
            return None;
        }
        Some(running.node.enter(|| call(&running.raft)))
    }

    /// `Start(cmd)` on server `i`, whether connected or not: `Some((index, term))` if it
    /// accepted the command as leader; `None` if it did not, or is crashed.
    pub fn start(&self, i: usize, command: u64) -> Option<(u64, u64)> {
        self.start_encoded(i, encode_command(command))
    }

    /// [`Config::start`] with a command already encoded.
    pub(super) fn start_encoded(&self, i: usize, command: Vec<u8>) -> Option<(u64, u64)> {
        self.on_server(i, |raft| raft.start(command)).flatten()
    }

    /// `transfer_leadership(to)` on server `i` (part 2E): whether it started a transfer;
    /// `false` if it did not, or is crashed.
    pub fn transfer_leadership(&self, i: usize, to: usize) -> bool {
        tracing::info!(target: "tester", "S{i}.transfer_leadership(S{to})");
        self.on_server(i, |raft| raft.transfer_leadership(to))
            .unwrap_or(false)
    }

    /// `add_server(server)` on server `i` (part 2F): whether it started the change;
    /// `false` if it did not, or is crashed.
    pub fn add_server(&self, i: usize, server: usize) -> bool {
        tracing::info!(target: "tester", "S{i}.add_server(S{server})");
        self.on_server(i, |raft| raft.add_server(server))
            .unwrap_or(false)
    }

    /// `remove_server(server)` on server `i` (part 2F): whether it started the change;
    /// `false` if it did not, or is crashed.
    pub fn remove_server(&self, i: usize, server: usize) -> bool {
        tracing::info!(target: "tester", "S{i}.remove_server(S{server})");
        self.on_server(i, |raft| raft.remove_server(server))
            .unwrap_or(false)
    }

    /// The configuration server `i` uses (part 2F).
    ///
    /// # Panics
    ///
    /// If server `i` is crashed (a tester bug: check [`Config::is_up`] first).
    pub fn members(&self, i: usize) -> Vec<usize> {
        self.on_server(i, Raft::members)
            .unwrap_or_else(|| panic!("tester bug: members() of S{i}, which is crashed"))
    }

    /// `GetState()` of server `i`: its term, and whether it believes it is the leader.
    ///
    /// # Panics
    ///
    /// If server `i` is crashed (a tester bug: check [`Config::is_up`] first).
    pub fn state(&self, i: usize) -> (u64, bool) {
        self.on_server(i, Raft::state)
            .unwrap_or_else(|| panic!("tester bug: state() of S{i}, which is crashed"))
    }

    /// Whether server `i` is running (not crashed).
    pub fn is_up(&self, i: usize) -> bool {
        self.inner.servers.lock().running[i]
            .as_ref()
            .is_some_and(|running| running.node.is_alive())
    }

    /// Whether server `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.inner.servers.lock().connected[i]
    }

    /// The connected servers, in order.
    pub fn connected_servers(&self) -> Vec<usize> {
        let servers = self.inner.servers.lock();
        (0..self.inner.n)
            .filter(|&i| servers.connected[i])
            .collect()
    }

    /// `crash1(i)`: disconnects server `i`, deletes it from the network, calls its `kill()`
    /// and kills its node (every task it had stops), and keeps a copy of its persisted
    /// state so that nothing the dead instance could still do touches what the next one
    /// starts from.
    pub fn crash1(&self, i: usize) {
        self.inner.servers.lock().pending_restart[i] = None;
        self.set_connected(i, false);
        self.inner.net.delete_server(&server_name(i));
        let crashed = {
            let mut servers = self.inner.servers.lock();
            servers.saved[i] = servers.saved[i].copy();
            servers.running[i].take()
        };
        if let Some(crashed) = crashed {
            tracing::info!(target: "tester", "crash S{i}");
            crashed.node.enter(|| crashed.raft.kill());
            crashed.node.kill();
        }
    }

    /// A fault plan crashed server `i`: notes the crash as [`Config::crash1`] does, if the
    /// running incarnation is the one that crashed. Returns the token of its restart, and
    /// whether it was connected.
    pub(super) fn note_crash_after_reply(&self, i: usize) -> Option<(u64, bool)> {
        let was_connected = {
            let servers = self.inner.servers.lock();
            let running = servers.running[i].as_ref()?;
            if running.node.is_alive() {
                return None; // a newer incarnation: the test restarted it already
            }
            servers.connected[i]
        };
        self.crash1(i);
        let mut servers = self.inner.servers.lock();
        servers.incarnations += 1;
        let token = servers.incarnations;
        servers.pending_restart[i] = Some(token);
        Some((token, was_connected))
    }

    /// Whether the restart with `token` is still due for server `i` (nobody crashed or
    /// started it since); forgets it.
    pub(super) fn take_pending_restart(&self, i: usize, token: u64) -> bool {
        let mut servers = self.inner.servers.lock();
        if servers.pending_restart[i] == Some(token) {
            servers.pending_restart[i] = None;
            true
        } else {
            false
        }
    }

    /// `start1(i)`: (re)starts server `i` on a fresh node, with fresh ends, from a copy of
    /// its persisted state, re-ingesting its snapshot as the service would. Does not
    /// connect it.
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        let n = self.inner.n;
        let net = &self.inner.net;
        let (ends, persister, incarnation) = {
            let mut servers = self.inner.servers.lock();
            servers.incarnations += 1;
            let incarnation = servers.incarnations;
            servers.end_names[i] = (0..n)
                .map(|j| format!("S{i}->S{j}#{incarnation}"))
                .collect();
            let ends = make_ends(net, &servers.end_names[i]);
            servers.links.fresh_ends(i);
            servers.saved[i] = servers.saved[i].copy();
            (ends, servers.saved[i].clone(), incarnation)
        };
        tracing::info!(target: "tester", incarnation, "start S{i}");

        {
            let mut applied = self.inner.applied.lock();
            applied.restart(i);
            let snapshot = persister.read_snapshot();
            if !snapshot.is_empty()
                && let Err(e) = ingest_snapshot(&mut applied, i, &snapshot, None)
            {
                fail!("{e}");
            }
            let restored = applied.last_applied[i];
            applied.monitor.restarted(i, restored);
        }

        let node = Node::new(server_name(i));
        let applied = self.inner.applied.clone();
        let applier = self.inner.applier;
        let options = raft::Options {
            joining: self.inner.servers.lock().joining[i],
            ..self.inner.options
        };
        let noop = options.noop_on_election;
        let (raft, service) = node.enter(|| {
            let (apply_tx, apply_rx) = apply_channel();
            let raft = if options == raft::Options::FIGURE_2 {
                Raft::new(ends, i, persister, apply_tx) // the course's call
            } else {
                Raft::with_options(ends, i, persister, apply_tx, options)
            };
            // The applier is a task of the server, so the `snapshot` calls it makes run
            // in the server's context, and it dies with the server.
            let for_applier = raft.clone();
            labrpc::spawn(async move {
                match applier {
                    Applier::Plain => run_applier(i, apply_rx, applied, noop).await,
                    Applier::Snapshot => {
                        run_snapshot_applier(i, apply_rx, applied, for_applier, noop).await
                    }
                }
            });
            let service = raft.service();
            (raft, service)
        });
        crate::monitors::watch(&self.inner.states, i, incarnation, node, &raft);
        net.add_server(server_name(i), Server::on(node).with_service(service));
        self.inner.servers.lock().running[i] = Some(Running { node, raft });
    }

    /// Attaches server `i` to the network: enables its ends to and from every connected
    /// server.
    pub fn connect(&self, i: usize) {
        tracing::info!(target: "tester", "connect S{i}");
        self.set_connected(i, true);
        self.record_links();
    }

    /// Detaches server `i` from the network: disables its ends to and from every server.
    pub fn disconnect(&self, i: usize) {
        tracing::info!(target: "tester", "disconnect S{i}");
        self.set_connected(i, false);
        self.record_links();
    }

    /// Cuts (`up == false`) or restores the link between servers `i` and `j`, both ways,
    /// leaving every other link as it is. Restoring needs both servers connected. (The
    /// next `connect` or `disconnect` of either server sets all its links again.)
    pub fn set_link(&self, i: usize, j: usize, up: bool) {
        self.set_one_way_link_unrecorded(i, j, up);
        self.set_one_way_link_unrecorded(j, i, up);
        self.record_links();
    }

    /// Cuts (`up == false`) or restores the link from server `from` to server `to` only:
    /// `from`'s calls to `to` fail, while `to`'s calls to `from` still go through, replies
    /// included. Restoring needs both servers connected.
    pub fn set_one_way_link(&self, from: usize, to: usize, up: bool) {
        self.set_one_way_link_unrecorded(from, to, up);
        self.record_links();
    }

    /// [`Config::set_one_way_link`], without recording the links for the timeline (the
    /// caller records them once it has set them all).
    fn set_one_way_link_unrecorded(&self, from: usize, to: usize, up: bool) {
        tracing::info!(target: "tester", up, "link S{from} -> S{to}");
        let mut servers = self.inner.servers.lock();
        let up = up && servers.connected[from] && servers.connected[to];
        if let Some(name) = servers.end_names[from].get(to) {
            self.inner.net.enable(name, up);
            servers.links.set(from, to, up);
        }
    }

    /// Splits the servers into `groups`: servers in one group reach each other, servers in
    /// different groups do not, and servers in no group are disconnected.
    pub fn partition(&self, groups: &[&[usize]]) {
        tracing::info!(target: "tester", ?groups, "partition");
        for i in 0..self.inner.n {
            self.set_connected(i, groups.iter().any(|g| g.contains(&i)));
        }
        for (k, group) in groups.iter().enumerate() {
            for other in &groups[k + 1..] {
                for &i in *group {
                    for &j in *other {
                        self.set_one_way_link_unrecorded(i, j, false);
                        self.set_one_way_link_unrecorded(j, i, false);
                    }
                }
            }
        }
        self.record_links();
    }

    /// Records which servers each server reaches now, for the timeline.
    fn record_links(&self) {
        self.inner.servers.lock().links.record();
    }

    fn set_connected(&self, i: usize, connected: bool) {
        let mut servers = self.inner.servers.lock();
        servers.connected[i] = connected;
        for j in 0..self.inner.n {
            // Connecting links `i` only with connected servers; disconnecting cuts all.
            if connected && !servers.connected[j] {
                continue;
            }
            if let Some(name) = servers.end_names[i].get(j) {
                self.inner.net.enable(name, connected);
                servers.links.set(i, j, connected);
            }
            if let Some(name) = servers.end_names[j].get(i) {
                self.inner.net.enable(name, connected);
                servers.links.set(j, i, connected);
            }
        }
    }

    /// Makes the network reliable (`true`) or lossy (`false`), as the course's
    /// `setunreliable`.
    pub fn set_reliable(&self, reliable: bool) {
        tracing::info!(target: "tester", reliable, "set network reliability");
        self.inner.net.set_reliable(reliable);
    }

    /// Turns long reordering of replies on or off.
    pub fn set_long_reordering(&self, on: bool) {
        tracing::info!(target: "tester", on, "set long reordering");
        self.inner.net.set_long_reordering(on);
    }

    /// Makes every message take `latency` on the wire (none in the course's Raft tests,
    /// whose reliable network delivers at once): a test that must act between a message
    /// and its reply has the time to.
    pub fn set_latency(&self, latency: Duration) {
        tracing::info!(target: "tester", ?latency, "set network latency");
        self.inner.net.set_latency(latency);
    }
}
