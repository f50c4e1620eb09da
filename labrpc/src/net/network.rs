//! The network: ends, servers, the fault model and the counters.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use parking_lot::Mutex;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::faults::{self, CrashAfterReply, ReplyCrash, StaleDuplicates};
use super::service::{Rpc, Server, ServerCore};
use crate::codec::{self, CodecError};
use crate::runtime::context::with_world;
use crate::runtime::live::{LIVE, LiveToken};
use crate::runtime::{self, Node, sleep};

/// Mixed into the seed for a swarm plan's own generator.
const SWARM_SALT: u64 = 0x5357_4152_4d21_0001;

/// What a lab node that touches the network's controls is told.
const NETWORK_IS_THE_TESTERS: &str = "The network's controls (ends, servers, partitions, \
     reliability, counters) belong to the tester. Lab code talks to its peers only through \
     the ClientEnds it was given, and serves them through the Service it returns.";

/// Why a call failed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RpcError {
    /// No reply: the request or the reply was lost, the end was disabled or unconnected,
    /// or the server was deleted, crashed or cut off before it answered. As on a real
    /// network, the caller cannot tell which (the course's `Call` just returns false).
    Failed,
    /// The argument or the reply did not round-trip through the codec.
    Codec(CodecError),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Failed => f.write_str("RPC failed: no reply"),
            RpcError::Codec(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RpcError {}

impl From<CodecError> for RpcError {
    fn from(e: CodecError) -> Self {
        RpcError::Codec(e)
    }
}

/// The simulated network: a switchboard of client ends and named servers. (Tester side:
/// every method panics when lab code calls it.)
///
/// Cloning gives another handle to the same network. Its faults follow the course's Go
/// `labrpc` exactly (see [`crate::net::faults`]):
///
/// - **reliable** (default on): off, every request is delayed 0–26 ms, and requests and
///   replies are each lost with probability 10%; a lost request's handler never runs, a
///   lost reply's handler did run;
/// - **long_delays** (default off): a call on a dead end (disabled, unconnected, or no
///   server) fails after 0–7 s instead of 0–0.1 s;
/// - **long_reordering** (default off): two replies in three are held back 200–2199 ms;
/// - **latency** (default zero, as in Go): a fixed time every request and every reply
///   spends on the wire, on top of the rest. Not part of the course's model: the KV tests
///   set it (see [`Network::set_latency`]).
///
/// A call also fails if, while its handler runs, its end is disabled or its server is
/// deleted or replaced: a client never gets OK from a server the tester already
/// considers dead. Once the handler has returned, its reply is on the wire: what happens
/// to the end or the server afterwards does not recall it.
///
/// Two more faults, stronger than the course's model and off unless the tester sets them,
/// strike at the worst moments (see `docs/fault-model.md`, "Faults at the worst moments"):
///
/// - **crash after reply** ([`Network::set_crash_after_reply`]): a server crashes in the
///   instant after a handler gives its reply, which still reaches its caller;
/// - **stale duplicates** ([`Network::set_stale_duplicates`]): a request that reached its
///   server is delivered to it again, later, and the copy's reply goes nowhere.
///
/// While they are off, they draw no random number and change nothing in a run.
#[derive(Clone)]
pub struct Network {
    state: Arc<Mutex<NetState>>,
    /// The world it was made in.
    world: u64,
}

struct NetState {
    unreliable: bool,
    long_delays: bool,
    long_reordering: bool,
    /// Time on the wire for each request and each reply.
    latency: Duration,
    ends: Vec<EndState>,
    end_ids: HashMap<String, usize>,
    /// Server names, each given a slot the first time an end connects to it or a server
    /// is added under it: every call looks its server up, by slot, not by hashing a name.
    server_slots: HashMap<String, usize>,
    /// The server under each name, by slot (`None`: no server of that name now).
    servers: Vec<Option<Arc<ServerCore>>>,
    /// The name of each slot.
    slot_names: Vec<String>,
    total_rpcs: u64,
    total_bytes: u64,
    /// Calls whose handlers run, by call number. Looked up on every call; visited in
    /// number order (see [`NetState::cancel_where`]) only when the tester cuts an end or a
    /// server, so a hash map (with a hash as cheap as the numbers are plain) rather than
    /// an ordered one.
    in_flight: HashMap<u64, InFlight, BuildHasherDefault<CallHasher>>,
    next_call: u64,
    /// The numbers faults are drawn with: the course's, or a swarm plan's.
    plan: faults::FaultPlan,
    /// Crash a server right after a reply (beyond the course's model; off by default).
    crash_after_reply: Option<CrashAfterReply>,
    /// Deliver requests again, later (beyond the course's model; off by default).
    stale_duplicates: Option<StaleDuplicates>,
    /// Where the crashes `crash_after_reply` causes are reported ...
    reply_crash_events: mpsc::UnboundedSender<ReplyCrash>,
    /// ... and the other side, until the tester takes it. Made with the network, so that
    /// crashes from before the tester takes it wait for it there.
    reply_crash_receiver: Option<mpsc::UnboundedReceiver<ReplyCrash>>,
    _live: LiveToken,
}

struct EndState {
    name: Arc<str>,
    /// The slot of the server name it is connected to.
    server: Option<usize>,
    enabled: bool,
}

/// Hashes call numbers (see [`NetState::in_flight`]): nothing iterates that map in its
/// own order, so the hash need only spread consecutive numbers.
#[derive(Default)]
struct CallHasher(u64);

impl Hasher for CallHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A call whose handler is running: it fails at once if its end or server goes away.
struct InFlight {
    end: usize,
    server: Arc<ServerCore>,
    /// The index of the caller's node, which waits for the handler's node: a node
    /// waiting for a reply is not stuck while the handler's node can run (see the
    /// stuck-node check in the world).
    caller: u32,
    cancel: oneshot::Sender<()>,
}

/// Where a new request goes.
enum Route {
    /// The end is dead; the call fails after the dead-end delay.
    Dead { long_delays: bool },
    Live {
        server: Arc<ServerCore>,
        unreliable: bool,
        long_reordering: bool,
    },
}

impl NetState {
    fn route(&self, end: usize) -> Route {
        let state = &self.ends[end];
        let server = state
            .server
            .filter(|_| state.enabled)
            .and_then(|slot| self.servers.get(slot)?.as_ref());
        match server {
            Some(server) => Route::Live {
                server: server.clone(),
                unreliable: self.unreliable,
                long_reordering: self.long_reordering,
            },
            None => Route::Dead {
                long_delays: self.long_delays,
            },
        }
    }

    fn end_id(&self, end: &str) -> usize {
        *self
            .end_ids
            .get(end)
            .unwrap_or_else(|| panic!("labrpc: there is no end named {end:?}"))
    }

    /// The slot of the server name `name`, given one if it has none yet.
    fn slot(&mut self, name: &str) -> usize {
        if let Some(&slot) = self.server_slots.get(name) {
            return slot;
        }
        let slot = self.servers.len();
        self.servers.push(None);
        self.slot_names.push(name.to_owned());
        self.server_slots.insert(name.to_owned(), slot);
        slot
    }

    /// The server now under `name`, if any.
    fn server_named(&self, name: &str) -> Option<&Arc<ServerCore>> {
        let &slot = self.server_slots.get(name)?;
        self.servers[slot].as_ref()
    }

    /// Fails every in-flight call that matches, in the order the calls were made (each
    /// failure wakes its caller: the order is part of the run).
    fn cancel_where(&mut self, doomed: impl Fn(&InFlight) -> bool) {
        let mut ids: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, call)| doomed(call))
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(call) = self.in_flight.remove(&id) {
                let _ = call.cancel.send(());
            }
        }
    }
}

impl Network {
    /// A reliable network with no ends and no servers. (Tester side.)
    ///
    /// It belongs to the run it is made in: when that run ends, its servers are dropped
    /// (which frees the cycle servers → handlers → ends → network), and using it in
    /// another run panics.
    // No `Default`: a network must be made inside a simulation, by the tester.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Network {
        let (reply_crash_events, reply_crash_receiver) = mpsc::unbounded();
        let state = Arc::new(Mutex::new(NetState {
            unreliable: false,
            long_delays: false,
            long_reordering: false,
            latency: Duration::ZERO,
            ends: Vec::new(),
            end_ids: HashMap::new(),
            server_slots: HashMap::new(),
            servers: Vec::new(),
            slot_names: Vec::new(),
            total_rpcs: 0,
            total_bytes: 0,
            in_flight: HashMap::default(),
            next_call: 0,
            plan: faults::FaultPlan::COURSE,
            crash_after_reply: None,
            stale_duplicates: None,
            reply_crash_events,
            reply_crash_receiver: Some(reply_crash_receiver),
            _live: LiveToken::new(&LIVE.networks),
        }));
        let weak = Arc::downgrade(&state);
        let waits = weak.clone();
        let world = with_world(|w| {
            w.require_tester("Network::new", NETWORK_IS_THE_TESTERS);
            if w.swarm() {
                // A generator of its own, so that the run's main stream of random numbers
                // is the same as without swarm.
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(w.seed ^ SWARM_SALT);
                let plan = faults::FaultPlan::swarm(&mut rng);
                state.lock().plan = plan;
                crate::runtime::say(format_args!("labrpc swarm: fault plan: {plan}"));
            }
            w.on_stuck_check(Box::new(move |pairs| {
                if let Some(state) = waits.upgrade() {
                    let state = state.lock();
                    pairs.extend(
                        state
                            .in_flight
                            .values()
                            .map(|call| (call.caller, call.server.node.index)),
                    );
                }
            }));
            w.on_teardown(Box::new(move || {
                if let Some(state) = weak.upgrade() {
                    let (servers, in_flight) = {
                        let mut state = state.lock();
                        (
                            // Emptied slot by slot: the slots stay, so a name still
                            // finds its (empty) slot.
                            state
                                .servers
                                .iter_mut()
                                .filter_map(Option::take)
                                .collect::<Vec<_>>(),
                            std::mem::take(&mut state.in_flight),
                        )
                    };
                    drop((servers, in_flight));
                }
            }));
            w.id
        });
        Network { state, world }
    }

    /// The run this network belongs to.
    pub(super) fn world(&self) -> u64 {
        self.world
    }

    /// Checks that the tester calls `what` on a network of this run.
    #[track_caller]
    pub(super) fn tester_only(&self, what: &str) {
        with_world(|w| {
            w.check_handle(self.world, "a Network");
            w.require_tester(what, NETWORK_IS_THE_TESTERS);
        });
    }

    /// Turns the unreliable fault model off (`true`, the default) or on (`false`).
    pub fn set_reliable(&self, reliable: bool) {
        self.tester_only("Network::set_reliable");
        self.state.lock().unreliable = !reliable;
        runtime::record(timeline::Kind::Net {
            setting: "reliable".into(),
            on: reliable,
        });
    }

    /// Dead ends fail after up to 7 s (`true`) or 0.1 s (`false`, the default).
    pub fn set_long_delays(&self, on: bool) {
        self.tester_only("Network::set_long_delays");
        self.state.lock().long_delays = on;
        runtime::record(timeline::Kind::Net {
            setting: "long delays".into(),
            on,
        });
    }

    /// Holds two replies in three back for 200–2199 ms (`true`) or not (the default).
    pub fn set_long_reordering(&self, on: bool) {
        self.tester_only("Network::set_long_reordering");
        self.state.lock().long_reordering = on;
        runtime::record(timeline::Kind::Net {
            setting: "long reordering".into(),
            on,
        });
    }

    /// Makes every request and every reply spend `latency` on the wire (default zero).
    ///
    /// The course's network delivers at once in reliable mode; in Go, the real time that
    /// code takes to run still makes every operation cost something. In virtual time
    /// nothing does: a client looping on requests to a service that answers at once would
    /// make unboundedly many calls without the clock moving. The KV tests, whose clients
    /// run for a fixed time, set a small latency so that an operation takes time, as it
    /// does in Go (see `docs/fault-model.md`).
    pub fn set_latency(&self, latency: Duration) {
        self.tester_only("Network::set_latency");
        self.state.lock().latency = latency;
    }

    /// Crashes servers right after they reply, as `rule` says; `None` (the default) never
    /// does. Beyond the course's model: see [`CrashAfterReply`] for what happens, and
    /// [`Network::reply_crashes`] for learning of each crash.
    ///
    /// The rule in force when a handler returns decides. While no rule is set, or for a
    /// reply the rule does not cover, nothing is drawn.
    ///
    /// # Panics
    ///
    /// If `per_mille` is above 1000.
    #[track_caller]
    pub fn set_crash_after_reply(&self, rule: Option<CrashAfterReply>) {
        self.tester_only("Network::set_crash_after_reply");
        if let Some(rule) = &rule {
            rule.check();
        }
        self.state.lock().crash_after_reply = rule;
    }

    /// The crashes [`Network::set_crash_after_reply`] causes, in the order they happen,
    /// each sent right after its server's node was killed. Crashes from before this call
    /// wait in the channel. The tester typically deletes the crashed server and restarts
    /// it, as after any crash.
    ///
    /// # Panics
    ///
    /// The second time it is called on a network: there is one receiver, and it was
    /// already taken.
    #[track_caller]
    pub fn reply_crashes(&self) -> mpsc::UnboundedReceiver<ReplyCrash> {
        self.tester_only("Network::reply_crashes");
        let taken = self.state.lock().reply_crash_receiver.take();
        taken.unwrap_or_else(|| {
            panic!(
                "labrpc: Network::reply_crashes was already called on this network; there \
                 is one receiver of crash events per network: keep the one you took"
            )
        })
    }

    /// Delivers requests again, later, as `plan` says; `None` (the default) never does.
    /// Beyond the course's model: see [`StaleDuplicates`] for what happens.
    ///
    /// The plan in force when a request reaches its server decides whether it is copied;
    /// a copy already on its way arrives whatever the plan is by then. While no plan is
    /// set, or for a request the plan does not cover, nothing is drawn.
    ///
    /// # Panics
    ///
    /// If `per_mille` is above 1000 or `delay_ms` is empty.
    #[track_caller]
    pub fn set_stale_duplicates(&self, plan: Option<StaleDuplicates>) {
        self.tester_only("Network::set_stale_duplicates");
        if let Some(plan) = &plan {
            plan.check();
        }
        self.state.lock().stale_duplicates = plan;
    }

    /// Creates a client end. It starts unconnected and disabled.
    ///
    /// # Panics
    ///
    /// If an end of that name exists.
    pub fn make_end(&self, name: impl Into<String>) -> ClientEnd {
        self.tester_only("Network::make_end");
        self.new_end(name.into())
    }

    /// [`Network::make_end`] for the tester and for a [`Dialer`](super::Dialer) the tester
    /// handed out.
    pub(super) fn new_end(&self, name: String) -> ClientEnd {
        let mut state = self.state.lock();
        assert!(
            !state.end_ids.contains_key(&name),
            "labrpc: an end named {name:?} already exists; make a fresh end (new name) for \
             every restarted server"
        );
        let id = state.ends.len();
        let shared_name: Arc<str> = name.as_str().into();
        state.ends.push(EndState {
            name: shared_name.clone(),
            server: None,
            enabled: false,
        });
        state.end_ids.insert(name, id);
        ClientEnd {
            net: self.clone(),
            end: id,
            name: shared_name,
        }
    }

    /// Connects an end to a server name (the server need not exist yet).
    ///
    /// # Panics
    ///
    /// If the end is already connected: an end connects once.
    pub fn connect(&self, end: &str, server: impl Into<String>) {
        self.tester_only("Network::connect");
        self.connect_end(end, server.into());
    }

    /// [`Network::connect`] for the tester and for a [`Dialer`](super::Dialer).
    pub(super) fn connect_end(&self, end: &str, server: String) {
        let mut state = self.state.lock();
        let id = state.end_id(end);
        if let Some(existing) = state.ends[id].server {
            panic!(
                "labrpc: end {end:?} is already connected (to {:?}); an end connects once",
                state.slot_names[existing]
            )
        }
        let slot = state.slot(&server);
        state.ends[id].server = Some(slot);
    }

    /// Enables or disables an end. Ends are one-way: disabling `A->B` alone cuts only A's
    /// calls to B. Disabling an end fails the calls now being served through it.
    pub fn enable(&self, end: &str, enabled: bool) {
        self.tester_only("Network::enable");
        self.enable_end(end, enabled);
    }

    /// [`Network::enable`] for the tester and for a [`Dialer`](super::Dialer).
    pub(super) fn enable_end(&self, end: &str, enabled: bool) {
        let mut state = self.state.lock();
        let id = state.end_id(end);
        state.ends[id].enabled = enabled;
        if !enabled {
            state.cancel_where(|call| call.end == id);
        }
    }

    /// Whether an end is enabled.
    pub fn is_enabled(&self, end: &str) -> bool {
        self.tester_only("Network::is_enabled");
        let state = self.state.lock();
        state.ends[state.end_id(end)].enabled
    }

    /// Adds a server under `name`, replacing (and in effect deleting) any server of that
    /// name.
    pub fn add_server(&self, name: impl Into<String>, server: Server) {
        self.tester_only("Network::add_server");
        let name = name.into();
        let core = Arc::new(ServerCore::new(name.clone(), server));
        let mut state = self.state.lock();
        let slot = state.slot(&name);
        let old = state.servers[slot].replace(core);
        if let Some(old) = &old {
            state.cancel_where(|call| Arc::ptr_eq(&call.server, old));
        }
        // The old server (and whatever its handlers hold) is dropped after the lock.
        drop(state);
        drop(old);
    }

    /// Deletes a server: calls to it fail, including those it is serving now.
    pub fn delete_server(&self, name: &str) {
        self.tester_only("Network::delete_server");
        let mut state = self.state.lock();
        let old = state
            .server_slots
            .get(name)
            .copied()
            .and_then(|slot| state.servers[slot].take());
        if let Some(old) = &old {
            state.cancel_where(|call| Arc::ptr_eq(&call.server, old));
        }
        drop(state);
        drop(old);
    }

    /// Requests that reached a handler of the server now named `server` (0 if none),
    /// including stale duplicates ([`Network::set_stale_duplicates`]) that did.
    pub fn rpc_count(&self, server: &str) -> u64 {
        self.tester_only("Network::rpc_count");
        self.state
            .lock()
            .server_named(server)
            .map_or(0, |s| s.count.load(Ordering::Relaxed))
    }

    /// Every request sent, including lost ones and ones on dead ends.
    pub fn total_rpcs(&self) -> u64 {
        self.tester_only("Network::total_rpcs");
        self.state.lock().total_rpcs
    }

    /// Bytes of every request sent, plus bytes of every reply delivered.
    pub fn total_bytes(&self) -> u64 {
        self.tester_only("Network::total_bytes");
        self.state.lock().total_bytes
    }

    /// Carries one encoded request through the fault model.
    ///
    /// Once this future is first polled, the request is the network's: it reaches the
    /// server (or is lost) whatever happens to the caller afterwards, as in the course,
    /// where a request handed to the network is delivered even if its sender crashes.
    /// In unreliable mode the request's delay is spent in a carrier task on the server's
    /// node, not in the caller, so dropping the call (or killing the caller's node)
    /// does not recall it.
    async fn deliver(
        &self,
        end: usize,
        method: &'static str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        // One visit to the world for everything the call needs of it up front.
        let (sent, now) = with_world(|w| {
            w.check_handle(self.world, "a ClientEnd");
            w.note_sent();
            w.record_message_here(method, &request);
            let sent = w
                .recording_settings
                .records_messages(method)
                .then(|| (w.current_node.get(), w.clock.get()));
            (sent, w.clock.get())
        });
        let (route, call, plan, latency) = {
            let mut state = self.state.lock();
            state.total_rpcs += 1;
            state.total_bytes += request.len() as u64;
            let call = state.next_call;
            state.next_call += 1;
            (state.route(end), call, state.plan, state.latency)
        };
        // Named only in trace logs, which evaluate it only when they are on.
        let end_name = || self.state.lock().ends[end].name.clone();
        let (server, unreliable, long_reordering) = match route {
            Route::Dead { long_delays } => {
                runtime::wire_sleep_until(now + plan.dead_end_delay(long_delays), self.world).await;
                tracing::trace!(end = %end_name(), method, "failed: dead end");
                return Err(RpcError::Failed);
            }
            Route::Live {
                server,
                unreliable,
                long_reordering,
            } => (server, unreliable, long_reordering),
        };
        let server_node = server.node;
        let _registered = Unregister { net: self, call };
        let arrival = Arrival {
            net: self.clone(),
            end,
            call,
            server,
            method,
            request,
            copy: false,
            sent,
        };
        let waiting = if unreliable || !latency.is_zero() {
            // The request's delay: spent here, by the caller, but a caller that goes
            // away meanwhile hands the request on to a carrier task (see `InTransit`).
            let (lost, delay) = if unreliable {
                (plan.lost(), plan.request_delay())
            } else {
                (false, Duration::ZERO)
            };
            let mut transit = InTransit {
                arrival: Some(arrival),
                deadline: now + delay + latency,
                lost,
            };
            runtime::wire_sleep_until(transit.deadline, self.world).await;
            let arrival = transit.arrival.take().expect("still in transit");
            if lost {
                // The caller fails now, after the request's delay, as in Go.
                tracing::trace!(end = %end_name(), method, "failed: request lost");
                return Err(RpcError::Failed);
            }
            arrival.arrive(true)
        } else {
            arrival.arrive(true)
        };
        let Some((reply, cancelled)) = waiting else {
            tracing::trace!(end = %end_name(), method, "failed: end or server gone on arrival");
            return Err(RpcError::Failed);
        };
        let reply = match select(reply, cancelled).await {
            Either::Left((Ok(reply), _)) => Some(reply),
            // The server's node died before the handler replied, or before it started.
            Either::Left((Err(_), _)) => None,
            // The end or server went away. A reply already given is on the wire and
            // stays there: a server that crashed right after replying, and was deleted
            // before this caller ran again, has still answered.
            Either::Right((_, mut reply)) => reply.try_recv().ok().flatten(),
        };
        // The caller wakes when the reply is given: that is when it left the server. (Taken
        // here, after the match, so that what the match leaves of the select is dropped
        // where it always was: the run does not change.)
        let replied_at = runtime::now();
        let Some(reply) = reply else {
            tracing::trace!(end = %end_name(), method, "failed: no reply");
            return Err(RpcError::Failed);
        };
        let reply = reply.map_err(RpcError::Codec)?;
        if unreliable && plan.lost() {
            tracing::trace!(end = %end_name(), method, "failed: reply lost");
            return Err(RpcError::Failed);
        }
        if !latency.is_zero() {
            sleep(latency).on_the_wire().await;
        }
        if long_reordering && let Some(delay) = plan.reorder_delay() {
            sleep(delay).on_the_wire().await;
        }
        self.state.lock().total_bytes += reply.len() as u64;
        runtime::World::record_message(method, &reply);
        if let Some((caller, _)) = sent {
            with_world(|w| {
                let from = w.node_name(server_node);
                w.note_message(caller, from, w.node_name(caller), method, replied_at, true);
            });
        }
        Ok(reply)
    }
}

/// A request spending its unreliable-network delay on the wire.
///
/// The caller's future holds it while it sleeps. If that future is dropped first (the
/// caller gave up on the call, or its node crashed), the request is not recalled: a
/// carrier task on the server's node takes it the rest of the way, so it arrives at the
/// same virtual time it would have. Handing over only then keeps the common case free of
/// an extra task.
struct InTransit {
    arrival: Option<Arrival>,
    deadline: runtime::Instant,
    lost: bool,
}

impl Drop for InTransit {
    fn drop(&mut self) {
        let Some(arrival) = self.arrival.take() else {
            return;
        };
        if self.lost {
            return;
        }
        let deadline = self.deadline;
        let node = arrival.server.node;
        runtime::World::spawn_carrier(
            node,
            Box::pin(async move {
                runtime::sleep_until(deadline).on_the_wire().await;
                arrival.arrive(false);
            }),
        );
    }
}

/// A request on its way to a server: everything needed to start its handler when it
/// arrives.
struct Arrival {
    net: Network,
    end: usize,
    call: u64,
    server: Arc<ServerCore>,
    method: &'static str,
    request: Vec<u8>,
    /// A stale duplicate ([`StaleDuplicates`]): nobody waits for it, it is dropped if its
    /// end or server went away, and it is not copied again.
    copy: bool,
    /// The sender's node and when it sent the request, if the run records this message.
    sent: Option<(runtime::Node, runtime::Instant)>,
}

/// What a caller waits on once its request has arrived: the handler's reply, and the
/// signal that fails the call at once if its end or server goes away meanwhile.
type Waiting = (
    oneshot::Receiver<Result<Vec<u8>, CodecError>>,
    oneshot::Receiver<()>,
);

impl Arrival {
    /// The request reaches the server: its handler starts on the server's node.
    ///
    /// If the end has been disabled, or the server deleted or replaced, since the request
    /// was sent, the handler still runs (as in Go: a request already on the wire is
    /// delivered, and its effects stand) but the caller hears nothing back: `None`.
    /// Otherwise, if a caller is `waiting`, the call is registered as in flight, so that
    /// such a change while the handler runs fails it at once, and the caller gets what to
    /// wait on. (A request carried on for a caller that went away is served all the same.)
    ///
    /// A stale duplicate is the exception: the network made it, not a caller, so if its
    /// end or server is gone it simply vanishes. An original may be copied here, by the
    /// tester's [`StaleDuplicates`] plan.
    fn arrive(self, waiting: bool) -> Option<Waiting> {
        let Arrival {
            net,
            end,
            call,
            server,
            method,
            request,
            copy,
            sent,
        } = self;
        // A waiting caller's node: this runs in its poll.
        let caller = with_world(|w| w.current_node.get().index);
        let (channels, copy_delay) = {
            let mut state = net.state.lock();
            let still_there = match state.route(end) {
                Route::Live { server: now, .. } => Arc::ptr_eq(&now, &server),
                Route::Dead { .. } => false,
            };
            if copy && !still_there {
                tracing::trace!(method, "stale duplicate dropped: end or server gone");
                return None;
            }
            let channels = (still_there && waiting).then(|| {
                let (cancel, cancelled) = oneshot::channel();
                state.in_flight.insert(
                    call,
                    InFlight {
                        end,
                        server: server.clone(),
                        caller,
                        cancel,
                    },
                );
                let (reply_sender, reply) = oneshot::channel();
                (reply_sender, (reply, cancelled))
            });
            // Drawn only for a request whose handler really starts: on a dead node it
            // does not, and a copy is never copied again.
            let copy_delay = match &state.stale_duplicates {
                Some(plan)
                    if !copy
                        && plan.applies(method)
                        && server.node.is_alive()
                        && faults::chance(plan.per_mille) =>
                {
                    Some(plan.delay())
                }
                _ => None,
            };
            (channels, copy_delay)
        };
        if let Some(delay) = copy_delay {
            net.send_copy(end, &server, method, &request, delay, sent);
        }
        if let Some((sender, at)) = sent {
            with_world(|w| {
                let to = w.node_name(server.node);
                w.note_message(server.node, w.node_name(sender), to, method, at, false);
            });
        }
        let handler = server.dispatch(method, request);
        let (reply_sender, waiting) = channels.unzip();
        let node = server.node;
        runtime::World::spawn_handler(
            node,
            Box::pin(async move {
                let reply = handler.await;
                with_world(|w| w.note_sent());
                if let Some(sender) = reply_sender {
                    let _ = sender.send(reply);
                }
                net.crash_after_reply(&server, method);
            }),
            method,
        );
        waiting
    }
}

impl Network {
    /// Delivers a copy of `request` through `end` to `server`, `delay` from now: a stale
    /// duplicate. A carrier task on the server's node takes it there, so that the
    /// server's crash loses it, as it loses everything on its way into that machine.
    fn send_copy(
        &self,
        end: usize,
        server: &Arc<ServerCore>,
        method: &'static str,
        request: &[u8],
        delay: Duration,
        sent: Option<(runtime::Node, runtime::Instant)>,
    ) {
        tracing::trace!(server = %server.name, method, ?delay, "stale duplicate on its way");
        let copy = Arrival {
            net: self.clone(),
            end,
            // Nobody waits for a copy, so it is never in flight under this number.
            call: u64::MAX,
            server: server.clone(),
            method,
            request: request.to_vec(),
            copy: true,
            sent,
        };
        let at = runtime::now() + delay;
        runtime::World::spawn_carrier(
            server.node,
            Box::pin(async move {
                runtime::sleep_until(at).on_the_wire().await;
                copy.arrive(false);
            }),
        );
    }

    /// Applies the tester's [`CrashAfterReply`] rule to a handler of `server` that has
    /// just given its reply to `method`: on a hit, the server's node dies now, in the
    /// poll that gave the reply, so that nothing else it would do runs.
    fn crash_after_reply(&self, server: &ServerCore, method: &'static str) {
        let (per_mille, events) = {
            let state = self.state.lock();
            match &state.crash_after_reply {
                Some(rule) if rule.applies(&server.name, method) => {
                    (rule.per_mille, state.reply_crash_events.clone())
                }
                _ => return,
            }
        };
        // The tester node cannot crash; nothing is drawn for a server on it.
        if server.node == Node::tester() || !faults::chance(per_mille) {
            return;
        }
        tracing::debug!(server = %server.name, method, "crash right after a reply");
        // Without the network's lock: the tasks the crash drops may take it.
        server.node.kill();
        let _ = events.unbounded_send(ReplyCrash {
            server: server.name.clone(),
            method,
            at: runtime::now(),
        });
    }
}

/// Forgets an in-flight call when it ends (or its caller gives up on it).
struct Unregister<'a> {
    net: &'a Network,
    call: u64,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.net.state.lock().in_flight.remove(&self.call);
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Network")
            .field("ends", &state.ends.len())
            .field("servers", &state.servers.iter().flatten().count())
            .field("total_rpcs", &state.total_rpcs)
            .finish()
    }
}

/// A client end: one caller's line to one server (Go's `ClientEnd`). (Lab code and
/// tester: the tester makes ends and hands them to servers, which call through them.)
///
/// Cheap to clone; clones are the same end.
#[derive(Clone)]
pub struct ClientEnd {
    net: Network,
    end: usize,
    name: Arc<str>,
}

impl ClientEnd {
    /// The end's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends an RPC and waits for its reply, or for the network to give up on it.
    ///
    /// The argument is encoded at once; the returned future owns everything it needs,
    /// so it can be spawned. Many calls may be in flight on one end, and their replies
    /// may come back in any order.
    pub fn call<R: Rpc>(
        &self,
        args: &R,
    ) -> impl Future<Output = Result<R::Reply, RpcError>> + Send + 'static + use<R> {
        let request = codec::encode(args).map_err(|e| e.in_method(R::METHOD));
        let net = self.net.clone();
        let end = self.end;
        async move {
            let reply = net.deliver(end, R::METHOD, request?).await?;
            Ok(codec::decode(&reply).map_err(|e| e.in_method(R::METHOD))?)
        }
    }
}

impl fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientEnd").field(&self.name).finish()
    }
}
