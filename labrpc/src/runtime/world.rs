//! The world: one simulation's executor, clock, random generator, nodes and trace.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::oneshot;
use futures::task::waker;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::events::{self, RecordingSettings, SharedRecording};
use super::fingerprint::{Divergence, Event, EventKind, Recorder, SharedRecorder, Trace};
use super::live::{LIVE, LiveToken};
use super::node::{Node, NodeInfo};
use super::sim::Sim;
use super::task::{
    BoxTask, JoinHandle, ROOT, ReadyQueue, Site, SiteKind, TaskRef, TaskSlot, TaskTable, TaskWaker,
};
use super::time::{Instant, Timers};
use super::watchdog::Monitor;
use timeline::Kind;

/// Numbers worlds, so that a handle used outside the run that made it is recognised.
static NEXT_WORLD_ID: AtomicU64 = AtomicU64::new(1);

/// One simulation. It lives on one thread, reached through [`super::context`].
pub(crate) struct World {
    /// Unique in the process; handles (nodes, timers, join handles, networks) carry it.
    pub(crate) id: u64,
    pub(crate) seed: u64,
    settings: Sim,
    pub(crate) clock: Cell<Instant>,
    pub(crate) rng: RefCell<Xoshiro256PlusPlus>,
    tasks: RefCell<TaskTable>,
    ready: Arc<ReadyQueue>,
    pub(crate) timers: RefCell<Timers>,
    /// Tasks that called `yield_now`, with the index of their node: woken once the ready
    /// queue is empty.
    pub(crate) yielded: RefCell<Vec<(u32, std::task::Waker)>>,
    pub(crate) nodes: RefCell<Vec<NodeInfo>>,
    pub(crate) current_node: Cell<Node>,
    trace: RefCell<Trace>,
    pub(crate) monitor: Arc<Monitor>,
    polls: Cell<u64>,
    /// The task being polled, for failure reports.
    /// (Its node's index and its site's number: set and cleared around every poll, so
    /// kept small.)
    running: Cell<Option<(u32, u32)>>,
    /// Spawn sites, numbered, so the watchdog thread can name the one running.
    sites: RefCell<SiteTable>,
    /// Swarm rates of the test's own faults, by call site (see `tester::fault_rate`).
    pub(crate) swarm_rates: RefCell<BTreeMap<(String, u32, u32), u64>>,
    /// Run when the world ends, after every task is gone: they break the reference
    /// cycles a run's objects may form (network → servers → handlers → ends → network).
    teardown: RefCell<Vec<Box<dyn FnOnce()>>>,
    /// Who waits for whom across nodes, for the stuck-node check at the end of a run (see
    /// [`World::stuck_nodes`]): each adds `(waiting node, node it waits for)` index pairs.
    /// A network adds its calls whose handlers run: the caller waits for the handler's
    /// node.
    waits: RefCell<Vec<WaitSource>>,
    /// When the test body returned (`None` while it runs): the tester is done, and past
    /// this point only the check for stuck nodes may run lab nodes on.
    test_ended: Cell<Option<Instant>>,
    /// What runs once a run has passed its checks (see [`at_end_of_run`]); `None` once
    /// taken.
    end_hooks: RefCell<Option<Vec<EndHook>>>,
    /// What the tester adds in front of a failure's message (see [`note_on_failure`]).
    failure_notes: RefCell<Vec<FailureNote>>,
    /// The run's events, for its timeline (see `events`).
    pub(crate) recording: SharedRecording,
    pub(crate) recording_settings: RecordingSettings,
    _live: LiveToken,
}

/// Spawn sites by number.
struct SiteTable {
    numbers: HashMap<(usize, u32, u32, usize), u32, BuildHasherDefault<SiteHasher>>,
    /// The numbers of recently used sites by the address of their `Location` and method
    /// (a run spawns from a few dozen sites, many thousands of times): a hit costs two
    /// compares instead of hashing four words.
    recent: [Option<(usize, usize, u32)>; RECENT_SITES],
}

/// Slots in [`SiteTable::recent`].
const RECENT_SITES: usize = 64;

impl Default for SiteTable {
    fn default() -> Self {
        SiteTable {
            numbers: HashMap::default(),
            recent: [None; RECENT_SITES],
        }
    }
}

/// A cheap hasher for spawn-site keys (looked up on every spawn). Only lookups use it;
/// nothing iterates the table, so its order cannot leak into a run.
#[derive(Default)]
struct SiteHasher(u64);

impl Hasher for SiteHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = super::fingerprint::mix(self.0, word);
    }
}

/// Adds `(waiting node, node it waits for)` index pairs: see [`World::stuck_nodes`].
pub(crate) type WaitSource = Box<dyn Fn(&mut Vec<(u32, u32)>)>;

/// What runs at the end of a run that passed: see [`at_end_of_run`].
type EndHook = Box<dyn FnOnce()>;
type FailureNote = Box<dyn Fn() -> Option<String>>;

/// What a finished run reports about itself. (Tester side.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    /// The seed the run used.
    pub seed: u64,
    /// The fingerprint of every event executed; equal for two runs of one seed.
    pub trace_hash: u64,
    /// How many events entered the trace.
    pub events: u64,
    /// How many times a task (or the test body) was polled.
    pub polls: u64,
    /// Virtual time when the test body finished.
    pub virtual_time: Duration,
}

impl World {
    pub(crate) fn new(
        settings: Sim,
        seed: u64,
        recorder: Option<SharedRecorder>,
        recording: SharedRecording,
    ) -> World {
        let monitor = Monitor::new(seed, &settings);
        monitor.add_node_name("tester");
        let mut recording_settings = RecordingSettings::from_env();
        if let Some(methods) = &settings.messages {
            recording_settings.messages = Some(methods.clone());
        }
        recording.add_node("tester");
        World {
            id: NEXT_WORLD_ID.fetch_add(1, Ordering::Relaxed),
            seed,
            settings,
            clock: Cell::new(Instant::START),
            rng: RefCell::new(Xoshiro256PlusPlus::seed_from_u64(seed)),
            tasks: RefCell::new(TaskTable::default()),
            ready: Arc::new(ReadyQueue::default()),
            timers: RefCell::new(Timers::default()),
            yielded: RefCell::new(Vec::new()),
            nodes: RefCell::new(vec![NodeInfo::new("tester".into())]),
            current_node: Cell::new(Node { world: 0, index: 0 }),
            trace: RefCell::new(Trace {
                recorder,
                ..Trace::default()
            }),
            monitor,
            polls: Cell::new(0),
            running: Cell::new(None),
            sites: RefCell::new(SiteTable::default()),
            swarm_rates: RefCell::new(BTreeMap::new()),
            teardown: RefCell::new(Vec::new()),
            waits: RefCell::new(Vec::new()),
            test_ended: Cell::new(None),
            end_hooks: RefCell::new(Some(Vec::new())),
            failure_notes: RefCell::new(Vec::new()),
            recording,
            recording_settings,
            _live: LiveToken::new(&LIVE.worlds),
        }
    }

    /// Sets up what needs the world's id; called once, right after `new`.
    pub(crate) fn init(&self) {
        self.current_node.set(self.tester_node());
    }

    // ----- identity and sides -----

    /// Whether networks of this run draw swarm fault plans.
    pub(crate) fn swarm(&self) -> bool {
        self.settings.swarm
    }

    /// This world's tester node.
    pub(crate) fn tester_node(&self) -> Node {
        Node {
            world: self.id,
            index: 0,
        }
    }

    /// Panics if `node` was made by another run.
    pub(crate) fn check_node(&self, node: Node) {
        self.check_handle(node.world, "a Node");
    }

    /// Panics if a handle made by world `made_in` is used in this one.
    #[track_caller]
    pub(crate) fn check_handle(&self, made_in: u64, what: &str) {
        if made_in != self.id {
            stale_handle(what);
        }
    }

    /// Panics unless the code running now is the tester's: `what` is a tester control.
    #[track_caller]
    pub(crate) fn require_tester(&self, what: &str, instead: &str) {
        self.require_tester_with(|| what.to_owned(), instead);
    }

    /// [`World::require_tester`], with `what` made only for the panic: the tester calls
    /// some controls (entering a server's node) on every check, and naming the node each
    /// time cost more than the call.
    #[track_caller]
    pub(crate) fn require_tester_with(&self, what: impl FnOnce() -> String, instead: &str) {
        let node = self.current_node.get();
        if node.index != 0 {
            self.not_the_tester(node, &what(), instead);
        }
    }

    #[cold]
    #[track_caller]
    fn not_the_tester(&self, node: Node, what: &str, instead: &str) -> ! {
        panic!(
            "labrpc: lab code on {name} called {what}, which only the tester may use.\n\
             {instead}\n\
             (Lab code may use what the labrpc crate root offers: spawn, sleep, now, rng, \
             timeout, the ClientEnds and Persister it was given; labrpc::tester is the \
             tester's.)",
            name = self.node_name(node),
        );
    }

    /// Runs `hook` when the world ends (see [`World::teardown`]).
    pub(crate) fn on_teardown(&self, hook: Box<dyn FnOnce()>) {
        self.teardown.borrow_mut().push(hook);
    }

    /// Adds a source of cross-node waits for the stuck-node check (see
    /// [`World::stuck_nodes`]).
    pub(crate) fn on_stuck_check(&self, source: WaitSource) {
        self.waits.borrow_mut().push(source);
    }

    /// The number of a spawn site, telling the watchdog about new ones.
    fn site_number(&self, site: Site) -> u32 {
        let location = site.location;
        let rpc = match site.kind {
            SiteKind::Task => 0,
            SiteKind::Handler(label) | SiteKind::Observer(label) => label.as_ptr() as usize,
        };
        let address = std::ptr::from_ref(location) as usize;
        let slot = ((address >> 3) ^ (rpc >> 3) ^ (address >> 11)) % RECENT_SITES;
        let mut sites = self.sites.borrow_mut();
        if let Some((a, r, number)) = sites.recent[slot]
            && (a, r) == (address, rpc)
        {
            return number;
        }
        // The same place may have more than one `Location` (one per copy of generic
        // code): the table is keyed by what the place is.
        let key = (
            location.file().as_ptr() as usize,
            location.line(),
            location.column(),
            rpc,
        );
        let next = sites.numbers.len() as u32;
        let number = *sites.numbers.entry(key).or_insert_with(|| {
            self.monitor.add_site(site);
            next
        });
        sites.recent[slot] = Some((address, rpc, number));
        number
    }

    // ----- nodes -----

    pub(crate) fn add_node(&self, name: String) -> Node {
        let mut nodes = self.nodes.borrow_mut();
        let node = Node {
            world: self.id,
            index: u32::try_from(nodes.len()).expect("labrpc: too many nodes"),
        };
        self.monitor.add_node_name(&name);
        self.recording.add_node(&name);
        nodes.push(NodeInfo::new(name));
        drop(nodes);
        self.note(node, Kind::Start);
        node
    }

    pub(crate) fn node_name(&self, node: Node) -> String {
        match self.nodes.try_borrow() {
            Ok(nodes) => nodes
                .get(node.index as usize)
                .map_or_else(|| format!("#{}", node.index), |info| info.name.clone()),
            Err(_) => format!("#{}", node.index),
        }
    }

    pub(crate) fn is_alive(&self, node: Node) -> bool {
        self.nodes.borrow()[node.index as usize].alive
    }

    pub(crate) fn kill_node(&self, node: Node) {
        {
            let mut nodes = self.nodes.borrow_mut();
            let info = &mut nodes[node.index as usize];
            if !info.alive {
                return;
            }
            info.alive = false;
        }
        // A node that kills itself during a poll keeps its observer until that poll is
        // over: `poll_task` calls it once more, then drops it.
        let killing_itself = self.running.get().is_some_and(|(n, _)| n == node.index);
        if !killing_itself {
            let observer = self.nodes.borrow_mut()[node.index as usize].observer.take();
            let previous = self.current_node.replace(node);
            drop(observer);
            self.current_node.set(previous);
        }
        self.record(EventKind::Kill, node, 0, None);
        self.note(node, Kind::Crash);
        tracing::debug!(node = %self.node_name(node), "node killed");
        let doomed = self
            .tasks
            .borrow_mut()
            .remove_where(|slot| slot.node == node);
        self.drop_as(node, doomed);
    }

    /// Drops task futures with `node` as the current node, so that anything their
    /// destructors spawn lands on that (dead) node and is discarded.
    fn drop_as(&self, node: Node, futures: Vec<BoxTask>) {
        let previous = self.current_node.replace(node);
        drop(futures);
        self.current_node.set(previous);
    }

    // ----- tasks -----

    pub(crate) fn spawn_on<F>(
        &self,
        node: Node,
        future: F,
        spawned_at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let task = self.spawn_detached(
            node,
            Box::pin(async move {
                let output = future.await;
                let _ = sender.send(output);
            }),
            Site::task(spawned_at),
        );
        JoinHandle::new(receiver, task, self.id)
    }

    /// Spawns a task whose output nobody awaits; `None` if the node is dead (the future is
    /// then dropped unrun).
    pub(crate) fn spawn_detached(
        &self,
        node: Node,
        future: BoxTask,
        spawned_at: Site,
    ) -> Option<TaskRef> {
        if !self.is_alive(node) {
            self.drop_as(node, vec![future]);
            return None;
        }
        let task = self.tasks.borrow_mut().reserve();
        let header = TaskWaker::new(task, self.ready.clone());
        let task_waker = waker(header.clone());
        // Queued before the slot is filled: nothing until the next poll looks at the
        // queue, and the waker then moves into the slot without a clone.
        task_waker.wake_by_ref();
        self.record(EventKind::Spawn, node, task.id, Some(spawned_at.location));
        let site = self.site_number(spawned_at);
        self.tasks.borrow_mut().insert(
            task,
            TaskSlot {
                id: task.id,
                node,
                future: Some(future),
                header,
                waker: Some(task_waker),
                spawned_at,
                site,
                _live: LiveToken::new(&LIVE.tasks),
            },
        );
        Some(task)
    }

    pub(crate) fn abort_task(&self, task: TaskRef) {
        let removed = self.tasks.borrow_mut().remove(task);
        if let Some(Some(future)) = removed {
            let node = self.current_node.get();
            self.drop_as(node, vec![future]);
        }
    }

    fn poll_task(&self, task: TaskRef) {
        let (mut future, task_waker, node, spawned_at, site) = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(slot) = tasks.get_mut(task) else {
                return; // finished or killed since it was woken
            };
            slot.header.dequeued();
            let Some(future) = slot.future.take() else {
                return;
            };
            // Taken out with the future and put back with it: cloning it would cost two
            // atomic operations a poll.
            let task_waker = slot
                .waker
                .take()
                .expect("a task that can be polled has its waker");
            (future, task_waker, slot.node, slot.spawned_at, slot.site)
        };
        self.record(EventKind::Poll, node, task.id, Some(spawned_at.location));
        self.current_node.set(node);
        self.running.set(Some((node.index, site)));
        {
            let mut nodes = self.nodes.borrow_mut();
            let info = &mut nodes[node.index as usize];
            info.idle_since = None;
            info.last_ran = Some(self.clock.get());
        }
        self.monitor.enter_poll(node.index, site);
        let result = future.as_mut().poll(&mut Context::from_waker(&task_waker));
        self.monitor.exit_poll();
        self.running.set(None);
        match result {
            Poll::Ready(()) => {
                self.tasks.borrow_mut().remove(task);
                drop(future);
            }
            Poll::Pending => {
                let mut tasks = self.tasks.borrow_mut();
                match tasks.get_mut(task) {
                    Some(slot) => {
                        slot.future = Some(future);
                        slot.waker = Some(task_waker);
                    }
                    None => {
                        // The task's node was killed (or the task aborted) during the poll.
                        drop(tasks);
                        self.drop_as(node, vec![future]);
                    }
                }
            }
        }
        self.observe(node);
        self.current_node.set(self.tester_node());
    }

    /// Installs `node`'s observer (see [`Node::observe`]).
    pub(crate) fn set_observer(
        &self,
        node: Node,
        observer: Box<dyn FnMut(super::node::Observation)>,
        site: Site,
    ) {
        let number = self.site_number(site);
        let old = self.nodes.borrow_mut()[node.index as usize]
            .observer
            .replace((observer, number));
        drop(old);
    }

    /// Calls `node`'s observer, if it has one, as `node`; drops it if the node is dead.
    /// Once the test is over, observers (the tester's) no longer run.
    fn observe(&self, node: Node) {
        if self.test_ended.get().is_some() {
            return;
        }
        let ((mut observer, number), observation) = {
            let mut nodes = self.nodes.borrow_mut();
            let info = &mut nodes[node.index as usize];
            let Some(taken) = info.observer.take() else {
                return;
            };
            let observation = super::node::Observation {
                messages_sent: info.messages_sent,
                alive: info.alive,
            };
            (taken, observation)
        };
        self.current_node.set(node);
        self.running.set(Some((node.index, number)));
        self.monitor.enter_poll(node.index, number);
        observer(observation);
        self.monitor.exit_poll();
        self.running.set(None);
        let mut nodes = self.nodes.borrow_mut();
        let info = &mut nodes[node.index as usize];
        if info.alive && info.observer.is_none() {
            info.observer = Some((observer, number));
        } else {
            drop(nodes);
            drop(observer);
        }
    }

    /// Counts a message sent by the current node.
    pub(crate) fn note_sent(&self) {
        let node = self.current_node.get();
        self.nodes.borrow_mut()[node.index as usize].messages_sent += 1;
    }

    // ----- the trace -----

    #[inline]
    pub(crate) fn record(
        &self,
        kind: EventKind,
        node: Node,
        detail: u64,
        location: Option<&'static Location<'static>>,
    ) {
        let event = Event {
            kind,
            node: node.index,
            detail,
            at: self.clock.get(),
            location,
        };
        let mut trace = self.trace.borrow_mut();
        let index = trace.events;
        if let Some((got, wanted)) = trace.record(event) {
            drop(trace);
            self.diverged(index, got, wanted);
        }
    }

    /// Notes where a run first went apart from the recording it is compared against.
    #[cold]
    #[inline(never)]
    fn diverged(&self, index: u64, got: Event, wanted: Option<Event>) {
        let divergence = Divergence {
            event_index: index,
            first: wanted.map_or_else(
                || "nothing (the first run had already finished)".into(),
                |e| self.describe(&e),
            ),
            second: self.describe(&got),
        };
        let trace = self.trace.borrow();
        if let Some(recorder) = &trace.recorder
            && let Recorder::Compare { divergence: d, .. } = &mut *recorder.lock()
        {
            *d = Some(divergence);
        }
    }

    fn describe(&self, event: &Event) -> String {
        let node = self.node_name(Node {
            world: self.id,
            index: event.node,
        });
        let at = event.at;
        let location = event
            .location
            .map(|l| format!(" (spawned at {l})"))
            .unwrap_or_default();
        match event.kind {
            EventKind::Spawn => format!("at {at}, {node} spawned task #{}{location}", event.detail),
            EventKind::Poll => format!("at {at}, {node} ran task #{}{location}", event.detail),
            EventKind::TimerFire => format!(
                "at {at}, timer #{} fired{}",
                event.detail,
                event
                    .location
                    .map(|l| format!(" (a sleep made at {l})"))
                    .unwrap_or_default()
            ),
            EventKind::Kill => format!("at {at}, node {node} was killed"),
            EventKind::Message => format!(
                "at {at}, {node} sent a message (digest {:016x})",
                event.detail
            ),
        }
    }

    // ----- the executor -----

    /// Runs `root` (on the tester node) until it completes, then drops every task left.
    pub(crate) fn run<F: Future>(&self, root: F) -> (F::Output, RunReport) {
        let mut root = pin!(root);
        let root_header = TaskWaker::new(ROOT, self.ready.clone());
        let root_waker = waker(root_header.clone());
        root_waker.wake_by_ref();
        let mut polls_since_time_moved: u64 = 0;
        let output = loop {
            let next = self.ready.pop(&mut self.rng.borrow_mut());
            let Some(task) = next else {
                let yielded = std::mem::take(&mut *self.yielded.borrow_mut());
                if !yielded.is_empty() {
                    yielded.into_iter().for_each(|(_, waker)| waker.wake());
                    continue;
                }
                self.advance_clock();
                polls_since_time_moved = 0;
                continue;
            };
            self.polls.set(self.polls.get() + 1);
            polls_since_time_moved += 1;
            if polls_since_time_moved > self.settings.livelock_polls {
                self.fail_livelock(task);
            }
            if task == ROOT {
                root_header.dequeued();
                self.record(EventKind::Poll, self.tester_node(), 0, None);
                self.monitor.enter_poll(0, u32::MAX);
                let result = root.as_mut().poll(&mut Context::from_waker(&root_waker));
                self.monitor.exit_poll();
                if let Poll::Ready(output) = result {
                    break output;
                }
            } else {
                self.poll_task(task);
            }
        };
        let report = RunReport {
            seed: self.seed,
            trace_hash: self.trace.borrow().hash,
            events: self.trace.borrow().events,
            polls: self.polls.get(),
            virtual_time: self.clock.get().since_start(),
        };
        self.test_ended.set(Some(self.clock.get()));
        self.check_stuck_at_end();
        self.run_end_hooks();
        self.warn_of_task_leaks();
        self.tear_down();
        (output, report)
    }

    /// Moves the clock to the next timer and fires every timer due then.
    fn advance_clock(&self) {
        let next = self.timers.borrow_mut().next_deadline();
        let Some(deadline) = next else {
            self.fail_deadlock();
        };
        self.check_stuck_nodes(deadline);
        if let Some(limit) = self.settings.time_limit
            && deadline.since_start() > limit
        {
            self.fail_time_limit(limit, deadline);
        }
        self.fire_timers(deadline);
    }

    /// Moves the clock to `deadline` and fires every timer due then.
    fn fire_timers(&self, deadline: Instant) {
        self.clock.set(deadline);
        self.recording
            .set_end(events::nanos(deadline.since_start()));
        // One at a time: waking only queues a task (no code runs until the next poll), so
        // no timer can be set or cancelled meanwhile.
        loop {
            let due = self.timers.borrow_mut().pop_due(deadline);
            let Some((seq, timer)) = due else {
                break;
            };
            self.record(
                EventKind::TimerFire,
                self.tester_node(),
                seq,
                Some(timer.set_at),
            );
            timer.waker.wake();
        }
    }

    /// Warns, at the end of a run that passed, of any node that still has so many live
    /// tasks that they look leaked (for example a task spawned per RPC that never ends).
    fn warn_of_task_leaks(&self) {
        const LEAK_WARNING: usize = 1000;
        // Sites are named only for a node with that many tasks: this runs after every run,
        // and naming every live task's site cost more than some whole runs.
        let leaky: Vec<u32> = {
            let tasks = self.tasks.borrow();
            (0..self.nodes.borrow().len() as u32)
                .filter(|&index| tasks.count_for(index as usize) as usize >= LEAK_WARNING)
                .collect()
        };
        if leaky.is_empty() {
            return;
        }
        let mut by_node: BTreeMap<Node, BTreeMap<String, usize>> = BTreeMap::new();
        for slot in self
            .tasks
            .borrow()
            .iter()
            .filter(|slot| leaky.contains(&slot.node.index))
        {
            *by_node
                .entry(slot.node)
                .or_default()
                .entry(slot.spawned_at.to_string())
                .or_default() += 1;
        }
        for (node, sites) in by_node {
            let count: usize = sites.values().sum();
            if count < LEAK_WARNING {
                continue;
            }
            let (site, n) = sites
                .iter()
                .max_by_key(|(_, n)| **n)
                .expect("a node with tasks has a site");
            super::sim::warn(format_args!(
                "{} had {count} live tasks when the test ended ({n} {site}): a task leak? \
                 Tasks that wait forever still cost memory and time.",
                self.node_name(node)
            ));
        }
    }

    /// Drops every remaining task, with every node dead so that nothing new starts.
    fn tear_down(&self) {
        for info in self.nodes.borrow_mut().iter_mut() {
            info.alive = false;
        }
        loop {
            let doomed = self.tasks.borrow_mut().remove_where(|_| true);
            if doomed.is_empty() {
                break;
            }
            drop(doomed);
        }
        let hooks = std::mem::take(&mut *self.teardown.borrow_mut());
        hooks.into_iter().for_each(|hook| hook());
        // Whatever a hook dropped may have spawned or set timers; none of it will run.
        drop(self.tasks.borrow_mut().remove_where(|_| true));
        self.yielded.borrow_mut().clear();
    }

    /// Fails the run if a node has been stuck for longer than the settings allow: it has
    /// live tasks, none of them has run, and none has a timer set. Such a node can only
    /// be woken by a message or another node, and when that takes seconds of virtual
    /// time it is almost always an async deadlock (a task waiting for a lock or channel
    /// that another waiting task holds). A Raft server always has a timer armed, so the
    /// tester's own sleeps cannot hide this, as they hide a deadlock from
    /// [`World::fail_deadlock`].
    fn check_stuck_nodes(&self, next: Instant) {
        let Some(limit) = self.settings.stuck_node_after else {
            return;
        };
        let now = self.clock.get();
        let stuck = {
            let tasks = self.tasks.borrow();
            let timers = self.timers.borrow();
            let mut nodes = self.nodes.borrow_mut();
            let mut stuck = None;
            for (index, info) in nodes.iter_mut().enumerate().skip(1) {
                if !info.alive || tasks.count_for(index) == 0 || timers.count_for(index) > 0 {
                    info.idle_since = None;
                    continue;
                }
                let since = *info.idle_since.get_or_insert(now);
                if stuck.is_none() && next - since > limit {
                    stuck = Some((index, since));
                }
            }
            stuck
        };
        if let Some((index, since)) = stuck {
            self.fail_stuck_node(index, since, next);
        }
    }

    /// The nodes that are stuck now, by index, in order.
    ///
    /// A node is *stuck* when it is alive, is not the tester's node, has at least one
    /// task, and can never run again by itself: nothing already on its way can wake any
    /// of its tasks. Precisely, the nodes that *can run* are the smallest set such that a
    /// live node can run if
    ///
    /// - one of its tasks is ready to run (woken and waiting for its turn, or yielding);
    /// - one of its tasks has a timer set: a sleep or a timeout of its own (an election
    ///   timeout, a heartbeat), or, if `wire` is true, a message's time on the wire (a
    ///   request's or a reply's delay, a call on a dead end that fails after a while; see
    ///   [`Sleep::on_the_wire`](super::Sleep)), since a timer always fires;
    /// - one of its tasks waits for the reply of an RPC whose handler runs on a node that
    ///   can run, since that reply may still come (a lost request or reply, a handler's
    ///   node killed, an end disabled or a server deleted have already woken the caller,
    ///   which is then ready);
    /// - it is the tester's node, and the test body has not returned yet.
    ///
    /// Everything else a task can wait for (a lock, a channel, a notification) only
    /// another task can give. Lab code on another node reaches this one only by RPC (nodes
    /// share no memory), and every task of this node that could give it waits too. So the
    /// tasks of a stuck node wait for one another, or for nothing at all: an async
    /// deadlock (a lock taken twice, a channel whose sender is kept but never used). Only
    /// the tester's own code could still wake it, by calling into its server; once the
    /// test is over it no longer will.
    ///
    /// A node with no task is idle, not stuck, and a dead node is neither. Nodes stuck
    /// with `wire` false but not with `wire` true are *doubtful*: only messages on their
    /// way can still wake them (see [`World::check_stuck_at_end`]).
    fn stuck_nodes(&self, wire: bool) -> Vec<u32> {
        let mut waits = Vec::new();
        for source in self.waits.borrow().iter() {
            source(&mut waits);
        }
        let nodes = self.nodes.borrow();
        let tasks = self.tasks.borrow();
        let timers = self.timers.borrow();
        let own_timers = (!wire).then(|| timers.own_timers(nodes.len()));
        let tester_runs = self.test_ended.get().is_none();
        let mut can_run: Vec<bool> = nodes
            .iter()
            .enumerate()
            .map(|(index, info)| {
                let timer = match &own_timers {
                    Some(own) => own[index],
                    None => timers.count_for(index) > 0,
                };
                info.alive && (timer || (index == 0 && tester_runs))
            })
            .collect();
        let mut mark = |index: usize| {
            if nodes.get(index).is_some_and(|info| info.alive) {
                can_run[index] = true;
            }
        };
        for task in self.ready.queued() {
            if task == ROOT {
                mark(0);
            } else if let Some(node) = tasks.node_of(task) {
                mark(node.index as usize);
            }
        }
        for &(node, _) in self.yielded.borrow().iter() {
            mark(node as usize);
        }
        loop {
            let mut changed = false;
            for &(waiting, on) in &waits {
                let (waiting, on) = (waiting as usize, on as usize);
                if waiting < can_run.len()
                    && on < can_run.len()
                    && can_run[on]
                    && !can_run[waiting]
                    && nodes[waiting].alive
                {
                    can_run[waiting] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        (1..nodes.len())
            .filter(|&index| nodes[index].alive && tasks.count_for(index) > 0 && !can_run[index])
            .map(|index| index as u32)
            .collect()
    }

    /// Once the test body has returned: fails the run if a live node is stuck (see
    /// [`World::stuck_nodes`]). A test that ends before the 5 s of
    /// [`World::check_stuck_nodes`] have passed would otherwise pass with every server
    /// frozen.
    ///
    /// A node whose only timers are messages on the wire is doubtful: a frozen server's
    /// last calls to an unreachable peer may take seconds to fail, and what its tasks do
    /// when they do is unknown. Then, and only then, the lab nodes run on past the end of
    /// the test (the tester's tasks and observers no longer run) until every message on
    /// its way when the test ended has arrived: a doubtful node that is stuck by then
    /// fails the run; one that sets a timer of its own, or that has a message on its way
    /// still, is not stuck. A run
    /// without a doubtful node (a healthy server always has a timer of its own) runs
    /// nothing more. Either way the run's report was taken before: the check changes
    /// nothing in a run that passes it.
    fn check_stuck_at_end(&self) {
        if self.settings.stuck_node_after.is_none() {
            return;
        }
        let mut doubtful = self.stuck_nodes(false);
        if doubtful.is_empty() {
            return;
        }
        let stuck = self.stuck_nodes(true);
        if !stuck.is_empty() {
            self.fail_stuck_at_end(&stuck);
        }
        let Some(until) = self.timers.borrow().last_wire_deadline() else {
            return;
        };
        let mut polls_since_time_moved: u64 = 0;
        loop {
            let next = self.ready.pop(&mut self.rng.borrow_mut());
            if let Some(task) = next {
                let node = self.tasks.borrow().node_of(task);
                // The tester is done: its tasks (and its observers) no longer run.
                if task == ROOT || node.is_none_or(|node| node.index == 0) {
                    continue;
                }
                self.polls.set(self.polls.get() + 1);
                polls_since_time_moved += 1;
                if polls_since_time_moved > self.settings.livelock_polls {
                    self.fail_livelock(task);
                }
                self.poll_task(task);
                continue;
            }
            let yielded = std::mem::take(&mut *self.yielded.borrow_mut());
            let mut woke = false;
            for (node, waker) in yielded {
                if node != 0 {
                    waker.wake();
                    woke = true;
                }
            }
            if woke {
                continue;
            }
            let stuck = self.stuck_nodes(true);
            if stuck.iter().any(|node| doubtful.contains(node)) {
                self.fail_stuck_at_end(&stuck);
            }
            let still = self.stuck_nodes(false);
            doubtful.retain(|node| still.contains(node));
            let next = self.timers.borrow_mut().next_deadline();
            match next {
                Some(deadline) if !doubtful.is_empty() && deadline <= until => {
                    self.fire_timers(deadline);
                    polls_since_time_moved = 0;
                }
                _ => return,
            }
        }
    }

    // ----- the end of a test -----

    /// Runs `hook` at the end of a run that passed (see [`at_end_of_run`]).
    /// Adds `note` to the notes a failure's message starts with (see [`note_on_failure`]).
    fn add_failure_note(&self, note: FailureNote) {
        self.failure_notes.borrow_mut().push(note);
    }

    /// The notes of the tester's [`note_on_failure`] hooks that have something to say,
    /// each on a line of its own; empty if none has.
    pub(crate) fn failure_notes(&self) -> String {
        let hooks = std::mem::take(&mut *self.failure_notes.borrow_mut());
        let mut text = String::new();
        for hook in &hooks {
            if let Some(note) = hook() {
                text.push_str(&note);
                text.push('\n');
            }
        }
        // Hooks added while these ran (by a hook) go after them.
        let mut notes = self.failure_notes.borrow_mut();
        let added = std::mem::replace(&mut *notes, hooks);
        notes.extend(added);
        text
    }

    fn at_end(&self, hook: EndHook) {
        let mut hooks = self.end_hooks.borrow_mut();
        match hooks.as_mut() {
            Some(hooks) => hooks.push(hook),
            None => {
                // Too late: the run is ending now.
                drop(hooks);
                hook();
            }
        }
    }

    /// Runs the hooks of [`at_end_of_run`], in the order they were given, as the tester.
    fn run_end_hooks(&self) {
        let hooks = self.end_hooks.borrow_mut().take().unwrap_or_default();
        self.current_node.set(self.tester_node());
        hooks.into_iter().for_each(|hook| hook());
    }

    // ----- failures -----

    /// Pending tasks grouped by node: how many, and the places that spawned most of them.
    pub(crate) fn pending_tasks(&self) -> String {
        const TOP_SITES: usize = 5;
        let Ok(tasks) = self.tasks.try_borrow() else {
            return "  (not available)\n".into();
        };
        let mut by_node: BTreeMap<Node, BTreeMap<String, usize>> = BTreeMap::new();
        for slot in tasks.iter() {
            *by_node
                .entry(slot.node)
                .or_default()
                .entry(slot.spawned_at.to_string())
                .or_default() += 1;
        }
        let mut text = match self.test_ended.get() {
            None => String::from("  tester: the test body\n"),
            Some(_) => String::new(),
        };
        for (node, places) in by_node {
            let count: usize = places.values().sum();
            let dead = if self.is_alive(node) { "" } else { " (dead)" };
            let _ = writeln!(
                text,
                "  {}{dead}: {count} task{}",
                self.node_name(node),
                if count == 1 { "" } else { "s" }
            );
            let mut places: Vec<(String, usize)> = places.into_iter().collect();
            places.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            for (place, n) in places.iter().take(TOP_SITES) {
                let _ = writeln!(text, "      {n} {place}");
            }
            if places.len() > TOP_SITES {
                let rest: usize = places[TOP_SITES..].iter().map(|p| p.1).sum();
                let _ = writeln!(
                    text,
                    "      {rest} more, from {} other places",
                    places.len() - TOP_SITES
                );
            }
        }
        text
    }

    /// What the world looked like when a run failed: the task that was running, if any,
    /// and every pending task. Appended to every failure report.
    pub(crate) fn failure_context(&self) -> String {
        let running = match self.running.get() {
            Some((index, number)) => {
                let node = self.node_name(Node {
                    world: self.id,
                    index,
                });
                match self.monitor.site(number) {
                    Some(site) => format!("running: {}\n", site.task_on(&node)),
                    None => format!("running: a task of {node}\n"),
                }
            }
            None => String::new(),
        };
        format!(
            "labrpc: at {now} (virtual), {running}pending tasks by node:\n{tasks}",
            now = self.clock.get(),
            tasks = self.pending_tasks()
        )
    }

    /// A node's live tasks: how many, and a line for each place that spawned some (how
    /// many, and where), in the order of the places.
    fn tasks_of(&self, node: Node) -> (usize, String) {
        let mut tasks = BTreeMap::<String, usize>::new();
        for slot in self.tasks.borrow().iter().filter(|s| s.node == node) {
            *tasks.entry(slot.spawned_at.to_string()).or_default() += 1;
        }
        let list: String = tasks
            .iter()
            .map(|(place, n)| format!("      {n} {place}\n"))
            .collect();
        (tasks.values().sum(), list)
    }

    fn fail_stuck_node(&self, index: usize, since: Instant, next: Instant) -> ! {
        let notes = self.failure_notes();
        let node = Node {
            world: self.id,
            index: index as u32,
        };
        let name = self.node_name(node);
        let (count, list) = self.tasks_of(node);
        panic!(
            "{notes}labrpc: {name} is stuck: every task waits and none has a timer. None of its \
             {count} tasks has run since {since}, and none can run before {next} (the next \
             timer of the whole world, now {now}): nothing it waits for is coming.\n\
             This is almost always an async deadlock: a task waits for a lock, a channel or \
             a signal that only another waiting task would provide (for example an async \
             mutex held across an .await on something that needs the same mutex). Or the \
             node's timers are not in the simulation at all: a ticker on an OS thread \
             (std::thread::spawn, std::thread::sleep) instead of a task that awaits \
             labrpc::sleep. A healthy server always has a timer armed (an election timeout, \
             a heartbeat). {name}'s tasks:\n{list}",
            now = self.clock.get(),
        )
    }

    /// Fails a run that ended with the nodes `stuck` (indices; the first is named first).
    fn fail_stuck_at_end(&self, stuck: &[u32]) -> ! {
        let notes = self.failure_notes();
        let node = |index: u32| Node {
            world: self.id,
            index,
        };
        let names: Vec<String> = stuck.iter().map(|&i| self.node_name(node(i))).collect();
        let name = &names[0];
        let (count, _) = self.tasks_of(node(stuck[0]));
        let all_of_them = match count {
            1 => "its only task waits".to_string(),
            n => format!("all its {n} tasks wait"),
        };
        let others = match &names[1..] {
            [] => String::new(),
            [other] => format!(" {other} is stuck too."),
            others => format!(" {} are stuck too.", list_of_names(others)),
        };
        let mut report = String::new();
        for &index in stuck {
            let (count, list) = self.tasks_of(node(index));
            let last_ran = match self.nodes.borrow()[index as usize].last_ran {
                Some(at) => format!("none has run since {at}"),
                None => "none has ever run".to_string(),
            };
            let last_timer = match self.timers.borrow().own_set_at(index as usize) {
                Some(at) => format!(", and its last timer of its own was set at {at}"),
                None => ", and it never set a timer of its own".to_string(),
            };
            let _ = write!(
                report,
                "  {}: {count} task{}, {last_ran}{last_timer}:\n{list}",
                self.node_name(node(index)),
                if count == 1 { "" } else { "s" },
            );
        }
        panic!(
            "{notes}labrpc: {name} is stuck: {all_of_them} for something that can never happen (no \
             timer, no message on its way) — a deadlock, e.g. a lock taken twice or a channel \
             nobody sends on.{others}\n\
             The test's checks passed, but a node that can never run again fails the run: it \
             would have made no progress, however long the test had gone on. A node is stuck \
             when it is alive and has tasks, and none of them can run again by itself: none \
             is ready to run, none has a timer set (a sleep, a timeout), and none waits for \
             the reply of an RPC that may still come. What they wait for (a lock, a channel, \
             a signal) only one of the node's own waiting tasks could give.\n\
             The usual causes: an async mutex (futures::lock::Mutex) locked again by a task \
             that already holds it, or held across an .await on something that needs it; a \
             channel whose sender is kept but never used; timers outside the simulation (a \
             ticker on an OS thread, std::thread::sleep) instead of labrpc::sleep. A healthy \
             server always has a timer armed (an election timeout, a heartbeat): the last \
             time it set one says about when it froze.\n\
             {when}:\n{report}",
            when = match self.test_ended.get() {
                Some(end) if end < self.clock.get() => format!(
                    "The test ended at {end}, when only messages on their way (calls to \
                     servers that could not answer, which take a while to fail) could still \
                     wake it; the servers ran on until those had arrived. Stuck at {now}",
                    now = self.clock.get()
                ),
                _ => format!("Stuck when the test ended (at {})", self.clock.get()),
            },
        )
    }

    fn fail_deadlock(&self) -> ! {
        let notes = self.failure_notes();
        panic!(
            "{notes}labrpc: deadlock at {now}: the test is still waiting, but no task can run and no \
             timer is set, so nothing will ever happen again.\n\
             Something is waiting for a message, a channel or a lock that nobody will \
             provide. Pending tasks:\n{tasks}",
            now = self.clock.get(),
            tasks = self.pending_tasks(),
        )
    }

    fn fail_time_limit(&self, limit: Duration, next_timer: Instant) -> ! {
        let notes = self.failure_notes();
        panic!(
            "{notes}labrpc: time limit: the test did not finish within {limit:?} of virtual time \
             (now {now}; the next timer is due at {next_timer}). \
             Pending tasks ({timers} set):\n{tasks}",
            now = self.clock.get(),
            timers = match self.timers.borrow().len() {
                1 => "1 timer".to_string(),
                n => format!("{n} timers"),
            },
            tasks = self.pending_tasks(),
        )
    }

    fn fail_livelock(&self, task: TaskRef) -> ! {
        let notes = self.failure_notes();
        let (who, whose) = if task == ROOT {
            ("the test body".to_string(), String::new())
        } else {
            self.tasks
                .borrow_mut()
                .get_mut(task)
                .map(|slot| {
                    let who = slot.spawned_at.task_on(&self.node_name(slot.node));
                    (who, reference_note(slot.spawned_at.location.file()))
                })
                .unwrap_or_else(|| ("a finished task".into(), String::new()))
        };
        panic!(
            "{notes}labrpc: livelock at {now}: virtual time has not moved for {polls} task polls. \
             Tasks keep waking each other (or themselves, with yield_now) without ever \
             sleeping or waiting, so time cannot advance. The last one woken was {who}.\n\
             {whose}A loop that waits for something must sleep (labrpc::sleep(..).await) \
             between checks. Pending tasks:\n{tasks}",
            now = self.clock.get(),
            polls = self.settings.livelock_polls,
            tasks = self.pending_tasks(),
        )
    }
}

/// What a livelock report adds when the last task woken is a reference implementation's
/// (a path under `raft/src/reference/` or `kvraft/src/reference/`): the reference must
/// never livelock, so either the code on the other side of it keeps waking it, or the
/// framework has a bug to report. Empty for any other file.
fn reference_note(file: &str) -> String {
    let file = file.replace('\\', "/");
    // "kvraft/..." contains "raft/...": test it first.
    let Some((_, what)) = [
        (
            "shardkv/src/reference/",
            "shard controller or sharded KV service",
        ),
        ("kvraft/src/reference_rsm.rs", "rsm"),
        ("kvraft/src/reference/", "KV service"),
        ("raft/src/reference/", "Raft"),
    ]
    .into_iter()
    .find(|(place, _)| file.contains(place)) else {
        return String::new();
    };
    format!(
        "That task is the reference {what}'s ({file}), which passes every test on \
         every seed on its own: if your code runs beside it, look at what of yours it keeps \
         answering or waking; if you run only reference code, this is a bug in the \
         framework, please report it with the replay command below.\n"
    )
}

/// Runs `hook` at the end of a run that passed: once the test body has returned and the
/// run has passed the checks made then (no node stuck: see
/// [`Sim::stuck_node_after`](super::Sim::stuck_node_after)), before the world drops
/// what is left. A run that fails does not run it. (Tester side.)
///
/// This is where a harness's cleanup goes (the course's `cleanup`, calling every
/// server's `kill()`): the checks then see the servers as the test left them, whereas a
/// `kill()` made before them may legitimately leave a server's node with tasks that
/// nothing will wake (a task the tester gave it, waiting on a channel of the server). A
/// hook given once the run is ending (from a destructor that runs as the world drops its
/// tasks) runs at once.
pub fn at_end_of_run(hook: impl FnOnce() + 'static) {
    super::context::with_world(|w| {
        w.require_tester(
            "labrpc::tester::at_end_of_run",
            "The end of a run is the tester's.",
        );
        w.at_end(Box::new(hook));
    });
}

/// Makes every failure of the run start with what `note` says, if it says something
/// when the failure happens: a failure of labrpc's own (time limit, deadlock, livelock, a
/// stuck node) and every failure the tester reports with [`failure_notes`] in front. For
/// what a harness knows explains most failures at once, such as "no server was ever
/// leader". (Tester side.)
pub fn note_on_failure(note: impl Fn() -> Option<String> + 'static) {
    super::context::with_world(|w| {
        w.require_tester(
            "labrpc::tester::note_on_failure",
            "Failure reports are the tester's.",
        );
        w.add_failure_note(Box::new(note));
    });
}

/// What the [`note_on_failure`] hooks say now, a line each (empty if nothing), for the
/// tester to put in front of a failure's message. Empty outside a simulation. (Tester
/// side.)
pub fn failure_notes() -> String {
    if !super::context::in_simulation() {
        return String::new();
    }
    super::context::with_world(|w| w.failure_notes())
}

/// `A, B and C`.
fn list_of_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Reports a handle used outside the run that made it.
#[track_caller]
fn stale_handle(what: &str) -> ! {
    panic!(
        "labrpc: {what} from another simulation run was used in this one. Handles (nodes, \
         join handles, sleeps, networks and their ends) belong to the run that made them: \
         do not keep them in a `static`, a thread-local or anything else that outlives \
         the run, or carry them from one seed to the next."
    )
}

impl World {
    /// Starts an RPC handler on the server's node (nothing, if the node is dead).
    #[track_caller]
    pub(crate) fn spawn_handler(node: Node, handler: BoxTask, method: &'static str) {
        let site = Site {
            location: Location::caller(),
            kind: SiteKind::Handler(method),
        };
        super::context::with_world(|w| w.spawn_detached(node, handler, site));
    }

    /// Starts a task that carries a request on from a caller that went away, from a
    /// destructor: nothing happens if the world is gone or busy (the run is ending).
    #[track_caller]
    pub(crate) fn spawn_carrier(node: Node, carrier: BoxTask) {
        let site = Site::task(Location::caller());
        let _ = super::context::try_with_world(|w| w.spawn_detached(node, carrier, site));
    }

    /// Folds a message (request or reply) into the trace of the current world.
    pub(crate) fn record_message(method: &str, bytes: &[u8]) {
        super::context::with_world(|w| w.record_message_here(method, bytes));
    }

    /// [`World::record_message`], in this world.
    pub(crate) fn record_message_here(&self, method: &str, bytes: &[u8]) {
        let detail = super::fingerprint::mix(
            super::fingerprint::digest(method.as_bytes()),
            super::fingerprint::digest(bytes),
        );
        self.record(EventKind::Message, self.current_node.get(), detail, None);
    }
}

#[cfg(test)]
mod reference_note_tests {
    use super::reference_note;

    #[test]
    fn names_the_reference_it_was() {
        let raft = reference_note("raft/src/reference/peer.rs");
        assert!(
            raft.contains("reference Raft's (raft/src/reference/peer.rs)"),
            "{raft}"
        );
        let rsm = reference_note("/home/x/kvraft/src/reference_rsm.rs");
        assert!(rsm.contains("reference rsm's"), "{rsm}");
        let kv = reference_note("/home/x/kvraft/src/reference/server.rs");
        assert!(kv.contains("reference KV service's"), "{kv}");
        let shard = reference_note("shardkv/src/reference/kv_server.rs");
        assert!(
            shard.contains("reference shard controller or sharded KV"),
            "{shard}"
        );
        assert!(reference_note("raft/src/skeleton/mod.rs").is_empty());
        assert!(reference_note("raft\\src\\reference\\peer.rs").contains("reference Raft's"));
    }
}
