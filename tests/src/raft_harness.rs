//! The Raft tester: a cluster of Raft servers on a simulated network, and the checks the
//! 2A–2D tests are made of. A port of the course's `raft/config.go`, with the same helpers
//! and the same numbers (`one`, `check_one_leader`, `wait`, `crash1`, `start1`, ...).
//!
//! Every failure panics with the course's message, or a more helpful one, on the tester's
//! task; the runner adds the seed and the command that replays it. Apply errors found by a
//! server's applier are recorded, and reported by the next check that looks (as in the
//! course, where `nCommitted` reports them), so they fail only their own test.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use labrpc::tester::{Network, Node, Server};
use labrpc::{ClientEnd, Instant};
use parking_lot::Mutex;
use raft::{ApplyMsg, ApplyReceiver, Persister, Raft, apply_channel};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The course's `RaftElectionTimeout`: an election must complete within about this long
/// once it is possible.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The snapshot applier asks Raft to snapshot after every this many entries.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// Upper bound for the Raft state a 2D server may keep once snapshots are in use.
pub const MAX_LOG_SIZE: usize = 2000;

/// Which applier reads each server's apply channel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Applier {
    /// Checks commands only (2A–2C).
    Plain,
    /// Also makes a snapshot every [`SNAPSHOT_INTERVAL`] entries and installs snapshots
    /// Raft sends up (2D).
    Snapshot,
}

/// What the appliers have seen, shared between them and the tester.
#[derive(Default)]
struct Applied {
    /// For each server, the command it applied at each index.
    logs: Vec<BTreeMap<u64, u64>>,
    /// For each server, the last index it applied (snapshot applier only).
    last_applied: Vec<u64>,
    /// For each server, the first apply error it made.
    errors: Vec<Option<String>>,
    /// The highest index any server applied.
    max_index: u64,
}

impl Applied {
    /// The course's `checkLogs`: records `command` at `index` for server `i`; an error if
    /// another server applied something else there. Also says whether `i` had applied the
    /// index before.
    fn check_and_record(&mut self, i: usize, index: u64, command: u64) -> (Option<String>, bool) {
        let mut error = None;
        for (j, log) in self.logs.iter().enumerate() {
            if let Some(&old) = log.get(&index)
                && old != command
            {
                error = Some(format!(
                    "commit index={index} server={i} {command} != server={j} {old}"
                ));
            }
        }
        let had_previous = self.logs[i].contains_key(&(index - 1));
        self.logs[i].insert(index, command);
        self.max_index = self.max_index.max(index);
        (error, had_previous)
    }

    fn record_error(&mut self, i: usize, error: String) {
        self.errors[i].get_or_insert(error);
    }
}

/// The snapshot the snapshot applier makes: the last index, and every command up to it.
#[derive(Serialize, Deserialize)]
struct TesterSnapshot {
    last_included_index: u64,
    /// Commands at indices 1..=last_included_index.
    commands: Vec<u64>,
}

/// A command as the tester submits it: a value the checks compare, and optional padding
/// (the RPC byte-count test sends 5000-byte commands).
#[derive(Serialize, Deserialize)]
struct TestCommand {
    value: u64,
    #[serde(with = "serde_bytes")]
    padding: Vec<u8>,
}

/// Encodes a test command the way the tester hands it to `start`.
pub fn encode_command(value: u64) -> Vec<u8> {
    encode_padded_command(value, Vec::new())
}

/// Encodes a test command carrying `padding` bytes besides its value.
pub fn encode_padded_command(value: u64, padding: Vec<u8>) -> Vec<u8> {
    labrpc::codec::encode(&TestCommand { value, padding }).expect("commands encode")
}

/// The servers as the tester sees them: which are running, which are connected, and what
/// they applied. Shared between the [`Config`] and the tasks a test spawns (the course's
/// goroutines share `cfg` the same way), so every view is current.
///
/// Cloning gives another handle to the same cluster.
#[derive(Clone)]
pub struct Cluster {
    n: usize,
    servers: Arc<Mutex<Servers>>,
    applied: Arc<Mutex<Applied>>,
}

/// Which servers run and which are connected.
struct Servers {
    rafts: Vec<Option<Raft>>,
    connected: Vec<bool>,
}

/// A cluster of Raft servers on a simulated network, as the tests see it.
pub struct Config {
    n: usize,
    net: Network,
    applier: Applier,
    cluster: Cluster,
    nodes: Vec<Option<Node>>,
    saved: Vec<Persister>,
    /// `end_names[i][j]`: the end server `i`'s current incarnation uses to reach `j`.
    end_names: Vec<Vec<String>>,
    /// Counts incarnations, to give every restarted server fresh end names.
    incarnations: u64,
    // What `begin` recorded, for the summary line.
    started_at: Instant,
    rpcs0: u64,
    bytes0: u64,
    max_index0: u64,
    description: String,
}

impl Config {
    /// `make_config`: `n` servers, all started and connected. The network is reliable
    /// unless `unreliable`; long delays are always on, to catch leaders that send RPCs
    /// one after another.
    pub fn new(n: usize, unreliable: bool, applier: Applier) -> Config {
        let net = Network::new();
        net.set_reliable(!unreliable);
        net.set_long_delays(true);
        let applied = Applied {
            logs: vec![BTreeMap::new(); n],
            last_applied: vec![0; n],
            errors: vec![None; n],
            max_index: 0,
        };
        let cluster = Cluster {
            n,
            servers: Arc::new(Mutex::new(Servers {
                rafts: vec![None; n],
                connected: vec![false; n],
            })),
            applied: Arc::new(Mutex::new(applied)),
        };
        let mut cfg = Config {
            n,
            net,
            applier,
            cluster,
            nodes: vec![None; n],
            saved: (0..n).map(|_| Persister::new()).collect(),
            end_names: vec![Vec::new(); n],
            incarnations: 0,
            started_at: labrpc::now(),
            rpcs0: 0,
            bytes0: 0,
            max_index0: 0,
            description: String::new(),
        };
        for i in 0..n {
            cfg.start1(i);
        }
        for i in 0..n {
            cfg.connect(i);
        }
        cfg
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The network, for tests that change its settings.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// A handle on the cluster for tasks the test spawns.
    pub fn cluster(&self) -> Cluster {
        self.cluster.clone()
    }

    /// Whether server `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.cluster.is_connected(i)
    }

    /// Server `i`'s current Raft instance.
    ///
    /// # Panics
    ///
    /// If server `i` is crashed.
    pub fn raft(&self, i: usize) -> Raft {
        self.cluster
            .raft(i)
            .unwrap_or_else(|| panic!("tester bug: server {i} is crashed"))
    }

    /// Whether server `i` is running (not crashed).
    pub fn is_up(&self, i: usize) -> bool {
        self.cluster.raft(i).is_some()
    }

    /// `Start(cmd)` on server `i`: `Some((index, term))` if it accepted as leader.
    ///
    /// # Panics
    ///
    /// If server `i` is crashed.
    pub fn start(&self, i: usize, command: u64) -> Option<(u64, u64)> {
        self.raft(i).start(encode_command(command))
    }

    /// `GetState()` of server `i`.
    pub fn state(&self, i: usize) -> (u64, bool) {
        self.raft(i).state()
    }

    /// Starts a test: prints its description and records the counters it will report.
    pub fn begin(&mut self, description: &str) {
        println!("{description} ...");
        self.description = description.to_owned();
        self.started_at = labrpc::now();
        self.rpcs0 = self.net.total_rpcs();
        self.bytes0 = self.net.total_bytes();
        self.max_index0 = self.cluster.applied.lock().max_index;
    }

    /// Ends a test: checks for apply errors and prints the course's summary line
    /// (virtual seconds, peers, RPCs, bytes, commands) with the seed.
    pub fn end(&self) {
        self.check_apply_errors();
        let elapsed = labrpc::now() - self.started_at;
        let rpcs = self.net.total_rpcs() - self.rpcs0;
        let bytes = self.net.total_bytes() - self.bytes0;
        let commands = self.cluster.applied.lock().max_index - self.max_index0;
        println!(
            "  ... Passed --  {:4.1}  {} {:4} {:7} {:4}   (seed {})",
            elapsed.as_secs_f64(),
            self.n,
            rpcs,
            bytes,
            commands,
            labrpc::seed()
        );
    }

    /// RPCs that reached server `i`'s handlers, over all its incarnations' names.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.net.rpc_count(&server_name(i))
    }

    /// All RPCs sent so far.
    pub fn rpc_total(&self) -> u64 {
        self.net.total_rpcs()
    }

    /// All bytes sent so far (requests, and replies delivered).
    pub fn bytes_total(&self) -> u64 {
        self.net.total_bytes()
    }

    /// The size of server `i`'s saved Raft state.
    pub fn log_size(&self, i: usize) -> usize {
        self.saved[i].raft_state_size()
    }

    /// The largest saved Raft state among the servers.
    pub fn max_log_size(&self) -> usize {
        self.saved
            .iter()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    // ----- crash, restart, partition -----

    /// `crash1(i)`: disconnects server `i`, deletes it from the network, kills its node
    /// (every task it had stops), and keeps a copy of its persisted state so that nothing
    /// the dead instance could still do touches what the next one starts from.
    pub fn crash1(&mut self, i: usize) {
        self.disconnect(i);
        self.net.delete_server(&server_name(i));
        self.saved[i] = self.saved[i].copy();
        let crashed = self.cluster.servers.lock().rafts[i].take();
        if let Some(raft) = crashed {
            raft.kill();
        }
        if let Some(node) = self.nodes[i].take() {
            node.kill();
        }
    }

    /// `start1(i)`: (re)starts server `i` on a fresh node, with fresh ends, from a copy of
    /// its persisted state, re-ingesting its snapshot as the service would. Does not
    /// connect it.
    pub fn start1(&mut self, i: usize) {
        self.crash1(i);
        self.incarnations += 1;
        let incarnation = self.incarnations;
        self.end_names[i] = (0..self.n)
            .map(|j| format!("S{i}->S{j}#{incarnation}"))
            .collect();
        let ends: Vec<ClientEnd> = (0..self.n)
            .map(|j| {
                let end = self.net.make_end(self.end_names[i][j].as_str());
                self.net.connect(&self.end_names[i][j], server_name(j));
                end
            })
            .collect();

        self.saved[i] = self.saved[i].copy();
        {
            let mut applied = self.cluster.applied.lock();
            applied.last_applied[i] = 0;
            let snapshot = self.saved[i].read_snapshot();
            if !snapshot.is_empty()
                && let Err(e) = ingest_snapshot(&mut applied, i, &snapshot, None)
            {
                panic!("{e}");
            }
        }

        let node = Node::new(server_name(i));
        let persister = self.saved[i].clone();
        let applied = self.cluster.applied.clone();
        let applier = self.applier;
        let raft = node.enter(|| {
            let (apply_tx, apply_rx) = apply_channel();
            let raft = Raft::new(ends, i, persister, apply_tx);
            let for_applier = raft.clone();
            labrpc::spawn(async move {
                match applier {
                    Applier::Plain => run_applier(i, apply_rx, applied).await,
                    Applier::Snapshot => {
                        run_snapshot_applier(i, apply_rx, applied, for_applier).await
                    }
                }
            });
            raft
        });
        self.net.add_server(
            server_name(i),
            Server::on(node).with_service(raft.service()),
        );
        self.cluster.servers.lock().rafts[i] = Some(raft);
        self.nodes[i] = Some(node);
    }

    /// Attaches server `i` to the network: enables its ends to and from every connected
    /// server.
    pub fn connect(&mut self, i: usize) {
        self.cluster.servers.lock().connected[i] = true;
        self.set_links(i, true);
    }

    /// Detaches server `i` from the network.
    pub fn disconnect(&mut self, i: usize) {
        self.cluster.servers.lock().connected[i] = false;
        self.set_links(i, false);
    }

    fn set_links(&self, i: usize, enabled: bool) {
        for j in 0..self.n {
            if !self.is_connected(j) && enabled {
                continue;
            }
            if let Some(name) = self.end_names[i].get(j) {
                self.net.enable(name, enabled);
            }
            if let Some(name) = self.end_names[j].get(i) {
                self.net.enable(name, enabled);
            }
        }
    }

    // ----- checks -----

    /// `checkOneLeader`: polls up to ten times, 450–549 ms apart, until some connected
    /// server claims leadership; fails if a term has two leaders, or if none appears.
    /// Returns the leader of the newest term.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            let ms = labrpc::rng().random_range(450..550);
            labrpc::sleep(Duration::from_millis(ms)).await;
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for i in (0..self.n).filter(|&i| self.is_connected(i)) {
                let (term, is_leader) = self.state(i);
                if is_leader {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ids) in &leaders {
                if ids.len() > 1 {
                    panic!("term {term} has {} (>1) leaders: {}", ids.len(), names(ids));
                }
            }
            if let Some((_, ids)) = leaders.last_key_value() {
                return ids[0];
            }
        }
        panic!(
            "expected one leader, got none (after 10 checks over ~5 s; connected: {}). \
             Is leader election (2A) working: do followers start an election when they \
             hear no heartbeat, and does a candidate with a majority of votes become leader?",
            names(
                &(0..self.n)
                    .filter(|&i| self.is_connected(i))
                    .collect::<Vec<_>>()
            )
        )
    }

    /// `checkTerms`: every connected server is in the same term; returns it.
    pub fn check_terms(&self) -> u64 {
        let mut agreed: Option<(usize, u64)> = None;
        for i in (0..self.n).filter(|&i| self.is_connected(i)) {
            let (term, _) = self.state(i);
            match agreed {
                None => agreed = Some((i, term)),
                Some((first, t)) if t != term => {
                    panic!("servers disagree on term: S{first} is in term {t}, S{i} in term {term}")
                }
                Some(_) => {}
            }
        }
        agreed.map_or(0, |(_, t)| t)
    }

    /// `checkNoLeader`: no connected server claims to be leader.
    pub fn check_no_leader(&self) {
        for i in (0..self.n).filter(|&i| self.is_connected(i)) {
            let (term, is_leader) = self.state(i);
            if is_leader {
                panic!(
                    "expected no leader among connected servers, but S{i} claims to be leader \
                     (term {term})"
                );
            }
        }
    }

    /// Fails the test if any applier recorded an error.
    pub fn check_apply_errors(&self) {
        self.cluster.check_apply_errors();
    }

    /// `nCommitted(index)`: see [`Cluster::n_committed`].
    pub fn n_committed(&self, index: u64) -> (usize, Option<u64>) {
        self.cluster.n_committed(index)
    }

    /// `wait(index, n, start_term)`: see [`Cluster::wait`].
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<u64> {
        self.cluster.wait(index, n, start_term).await
    }

    /// `one(cmd, expected_servers, retry)`: see [`Cluster::one`].
    pub async fn one(&self, command: u64, expected_servers: usize, retry: bool) -> u64 {
        self.cluster.one(command, expected_servers, retry).await
    }

    /// [`Config::one`] for a command whose encoding is `encoded` (e.g. a padded one).
    pub async fn one_encoded(
        &self,
        command: u64,
        encoded: Vec<u8>,
        expected_servers: usize,
        retry: bool,
    ) -> u64 {
        self.cluster
            .one_encoded(command, encoded, expected_servers, retry)
            .await
    }
}

impl Cluster {
    /// Number of servers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Server `i`'s current Raft instance, unless it is crashed.
    pub fn raft(&self, i: usize) -> Option<Raft> {
        self.servers.lock().rafts[i].clone()
    }

    /// Whether server `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.servers.lock().connected[i]
    }

    /// `Start(cmd)` on server `i`, if it is running (connected or not): `Some((index,
    /// term))` if it accepted as leader; `None` if it did not, or is crashed.
    pub fn start(&self, i: usize, command: u64) -> Option<(u64, u64)> {
        self.raft(i)
            .and_then(|raft| raft.start(encode_command(command)))
    }

    /// Fails the test if any applier recorded an error.
    pub fn check_apply_errors(&self) {
        let applied = self.applied.lock();
        if let Some(error) = applied.errors.iter().flatten().next() {
            panic!("apply error: {error}");
        }
    }

    /// `nCommitted(index)`: how many servers applied `index`, and the command there.
    /// Fails on an apply error or if two servers applied different commands.
    pub fn n_committed(&self, index: u64) -> (usize, Option<u64>) {
        self.check_apply_errors();
        let applied = self.applied.lock();
        let mut count = 0;
        let mut command = None;
        for log in &applied.logs {
            if let Some(&c) = log.get(&index) {
                if let Some(previous) = command
                    && previous != c
                {
                    panic!("committed values do not match: index {index}, {previous}, {c}");
                }
                count += 1;
                command = Some(c);
            }
        }
        (count, command)
    }

    /// `wait(index, n, start_term)`: waits (10 ms, doubling to ~1 s, 30 times) until at
    /// least `n` servers applied `index`; returns the command, or `None` if some server's
    /// term moved past `start_term` (the command may then legitimately never commit).
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<u64> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            labrpc::sleep(pause).await;
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(start_term) = start_term {
                let rafts = self.servers.lock().rafts.clone();
                for raft in rafts.iter().flatten() {
                    if raft.state().0 > start_term {
                        return None;
                    }
                }
            }
        }
        let (count, command) = self.n_committed(index);
        if count < n {
            panic!("only {count} decided for index {index}; wanted {n}");
        }
        command
    }

    /// `one(cmd, expected_servers, retry)`: submits `command` to whichever connected
    /// server accepts it as leader, and waits for `expected_servers` to apply it. Tries
    /// for 10 s; without `retry`, a leader that accepted but did not commit within 2 s
    /// fails the test. Returns the command's index.
    pub async fn one(&self, command: u64, expected_servers: usize, retry: bool) -> u64 {
        self.one_encoded(command, encode_command(command), expected_servers, retry)
            .await
    }

    /// [`Config::one`] for a command whose encoding is `encoded` (e.g. a padded one).
    pub async fn one_encoded(
        &self,
        command: u64,
        encoded: Vec<u8>,
        expected_servers: usize,
        retry: bool,
    ) -> u64 {
        let t0 = labrpc::now();
        let mut starts = 0;
        let mut ever_accepted = false;
        while labrpc::now() - t0 < Duration::from_secs(10) {
            let mut index = None;
            for _ in 0..self.n {
                starts = (starts + 1) % self.n;
                if !self.is_connected(starts) {
                    continue;
                }
                if let Some(raft) = self.raft(starts)
                    && let Some((i, _)) = raft.start(encoded.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            let Some(index) = index else {
                labrpc::sleep(Duration::from_millis(50)).await;
                continue;
            };
            ever_accepted = true;
            let t1 = labrpc::now();
            while labrpc::now() - t1 < Duration::from_secs(2) {
                let (count, applied) = self.n_committed(index);
                if count > 0 && count >= expected_servers && applied == Some(command) {
                    return index;
                }
                labrpc::sleep(Duration::from_millis(20)).await;
            }
            if !retry {
                panic!(
                    "one({command}) failed to reach agreement: a leader accepted it at index \
                     {index}, but {expected_servers} servers had not applied it 2 s later \
                     ({} had)",
                    self.n_committed(index).0
                );
            }
        }
        if ever_accepted {
            panic!("one({command}) failed to reach agreement within 10 s")
        }
        panic!(
            "one({command}) failed to reach agreement: for 10 s no connected server accepted \
             the command (start() returned None on every one). Is there a leader (2A), and \
             does the leader's start() append the command and return Some((index, term))?"
        )
    }
}

/// The network name of server `i`.
fn server_name(i: usize) -> String {
    format!("S{i}")
}

fn names(ids: &[usize]) -> String {
    let list: Vec<String> = ids.iter().map(|&i| server_name(i)).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// Decodes a test command.
fn decode_command(i: usize, index: u64, bytes: &[u8]) -> Result<u64, String> {
    let command: Result<TestCommand, _> = labrpc::codec::decode(bytes);
    command.map(|c| c.value).map_err(|e| {
        format!(
            "server S{i} applied something at index {index} that is not a command the tester \
             submitted ({} bytes: {e})",
            bytes.len()
        )
    })
}

/// The plain applier (`applier` in config.go): checks that commands arrive in order and
/// agree with what other servers applied.
async fn run_applier(i: usize, mut apply_rx: ApplyReceiver, applied: Arc<Mutex<Applied>>) {
    while let Some(msg) = apply_rx.next().await {
        let ApplyMsg::Command { index, command, .. } = msg else {
            continue;
        };
        let mut applied = applied.lock();
        let error = match decode_command(i, index, &command) {
            Err(e) => Some(e),
            Ok(command) => {
                let (error, had_previous) = applied.check_and_record(i, index, command);
                if index > 1 && !had_previous {
                    Some(format!("server S{i} apply out of order {index}"))
                } else {
                    error
                }
            }
        };
        if let Some(error) = error {
            applied.record_error(i, error);
        }
    }
}

/// The snapshot applier (`applierSnap`): as the plain one, plus it requires each command
/// to be the next index, installs snapshots Raft sends up, and hands Raft a snapshot after
/// every [`SNAPSHOT_INTERVAL`] entries.
async fn run_snapshot_applier(
    i: usize,
    mut apply_rx: ApplyReceiver,
    applied: Arc<Mutex<Applied>>,
    raft: Raft,
) {
    while let Some(msg) = apply_rx.next().await {
        let mut snapshot_to_take = None;
        let error = {
            let mut applied = applied.lock();
            let error = match msg {
                ApplyMsg::Snapshot { index, data, .. } => {
                    ingest_snapshot(&mut applied, i, &data, Some(index)).err()
                }
                ApplyMsg::Command { index, command, .. } => {
                    let expected = applied.last_applied[i] + 1;
                    let error = if index != expected {
                        Some(format!(
                            "server S{i} apply out of order, expected index {expected}, got {index}"
                        ))
                    } else {
                        match decode_command(i, index, &command) {
                            Err(e) => Some(e),
                            Ok(command) => {
                                let (error, had_previous) =
                                    applied.check_and_record(i, index, command);
                                if index > 1 && !had_previous {
                                    Some(format!("server S{i} apply out of order {index}"))
                                } else {
                                    error
                                }
                            }
                        }
                    };
                    applied.last_applied[i] = index;
                    if (index + 1) % SNAPSHOT_INTERVAL == 0 {
                        let commands: Option<Vec<u64>> = (1..=index)
                            .map(|j| applied.logs[i].get(&j).copied())
                            .collect();
                        match commands {
                            Some(commands) => {
                                snapshot_to_take = Some((index, commands));
                                error
                            }
                            None => error.or_else(|| {
                                Some(format!(
                                    "server S{i} applied index {index} without all the indices \
                                     before it"
                                ))
                            }),
                        }
                    } else {
                        error
                    }
                }
            };
            if let Some(error) = &error {
                applied.record_error(i, error.clone());
            }
            error
        };
        if error.is_none()
            && let Some((index, commands)) = snapshot_to_take
        {
            let snapshot = TesterSnapshot {
                last_included_index: index,
                commands,
            };
            raft.snapshot(
                index,
                labrpc::codec::encode(&snapshot).expect("snapshots encode"),
            );
        }
    }
}

/// `ingestSnap`: replaces server `i`'s applied log by the snapshot's.
fn ingest_snapshot(
    applied: &mut Applied,
    i: usize,
    bytes: &[u8],
    expected_index: Option<u64>,
) -> Result<(), String> {
    let snapshot: TesterSnapshot = labrpc::codec::decode(bytes).map_err(|e| {
        format!(
            "server S{i}: snapshot decode error ({} bytes: {e}); a Snapshot ApplyMsg must carry \
             the bytes the service passed to snapshot()",
            bytes.len()
        )
    })?;
    if let Some(index) = expected_index
        && index != snapshot.last_included_index
    {
        return Err(format!(
            "server S{i} snapshot doesn't match its ApplyMsg: the message says index {index}, \
             the snapshot covers up to {}",
            snapshot.last_included_index
        ));
    }
    applied.logs[i] = snapshot
        .commands
        .iter()
        .enumerate()
        .map(|(k, &c)| (k as u64 + 1, c))
        .collect();
    applied.last_applied[i] = snapshot.last_included_index;
    Ok(())
}
