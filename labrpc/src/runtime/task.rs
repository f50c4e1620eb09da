//! Tasks: spawning, the ready queue, wakers and join handles.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use futures::task::ArcWake;
use parking_lot::Mutex;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::context::with_world;
use super::live::LiveToken;
use super::node::Node;

/// Where a task came from, for failure reports: the place that spawned it, and for an
/// RPC handler the method it serves (its spawn site, inside labrpc, says nothing useful).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Site {
    pub(crate) location: &'static Location<'static>,
    pub(crate) kind: SiteKind,
}

/// What runs from a site.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum SiteKind {
    /// A task spawned there.
    Task,
    /// The handler of an RPC method.
    Handler(&'static str),
    /// A tester's observer of a node (see `Node::observe`), described by its label.
    Observer(&'static str),
}

impl Site {
    /// A task spawned at `location`.
    pub(crate) fn task(location: &'static Location<'static>) -> Site {
        Site {
            location,
            kind: SiteKind::Task,
        }
    }

    /// Names a task from this site running on `node`.
    pub(crate) fn task_on(self, node: &str) -> String {
        match self.kind {
            SiteKind::Handler(method) => format!("the {method} handler on {node}"),
            SiteKind::Observer(label) => {
                format!("{label} on {node} (installed at {})", self.location)
            }
            SiteKind::Task => format!("a task of {node} spawned at {}", self.location),
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SiteKind::Handler(method) => write!(f, "{method} handler"),
            SiteKind::Observer(label) => write!(f, "{label} (installed at {})", self.location),
            SiteKind::Task => write!(f, "spawned at {}", self.location),
        }
    }
}

/// A spawned task's future, boxed and type-erased.
pub(crate) type BoxTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Identifies a task: its slot in the table, and a unique id so that a stale reference to a
/// reused slot is recognised.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TaskRef {
    pub(crate) slot: u32,
    pub(crate) id: u64,
}

/// The root future (the test body) is not in the table; it has this reference.
pub(crate) const ROOT: TaskRef = TaskRef {
    slot: u32::MAX,
    id: 0,
};

/// Tasks that have been woken and wait for their turn.
///
/// It sits behind a mutex only because `Waker` must be `Send + Sync`; a simulation runs on
/// one thread, so the lock is never contended.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    entries: Mutex<Vec<TaskRef>>,
}

impl ReadyQueue {
    fn push(&self, task: TaskRef) {
        self.entries.lock().push(task);
    }

    /// The tasks queued now (some may have finished or died since they were woken).
    pub(crate) fn queued(&self) -> Vec<TaskRef> {
        self.entries.lock().clone()
    }

    /// Takes a ready task chosen by the seeded generator, so that each seed explores its
    /// own interleaving of the tasks that are ready at the same instant.
    pub(crate) fn pop(&self, rng: &mut Xoshiro256PlusPlus) -> Option<TaskRef> {
        let mut entries = self.entries.lock();
        match entries.len() {
            0 => None,
            1 => entries.pop(),
            n => Some(entries.swap_remove(rng.random_range(0..n))),
        }
    }
}

/// The waker of one task: waking pushes the task onto the ready queue once.
pub(crate) struct TaskWaker {
    task: TaskRef,
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl TaskWaker {
    pub(crate) fn new(task: TaskRef, queue: Arc<ReadyQueue>) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            task,
            queued: AtomicBool::new(false),
            queue,
        })
    }

    /// Called when the task is taken off the queue, so a wake during its poll queues it
    /// again.
    pub(crate) fn dequeued(&self) {
        self.queued.store(false, Ordering::Relaxed);
    }
}

impl ArcWake for TaskWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if !arc_self.queued.swap(true, Ordering::AcqRel) {
            arc_self.queue.push(arc_self.task);
        }
    }
}

/// One live task.
pub(crate) struct TaskSlot {
    pub(crate) id: u64,
    pub(crate) node: Node,
    /// `None` while the task is being polled.
    pub(crate) future: Option<BoxTask>,
    pub(crate) header: Arc<TaskWaker>,
    /// `None` while the task is being polled, as `future`.
    pub(crate) waker: Option<Waker>,
    pub(crate) spawned_at: Site,
    /// `spawned_at`'s number in the world's table of spawn sites.
    pub(crate) site: u32,
    pub(crate) _live: LiveToken,
}

/// Every live task, by slot.
#[derive(Default)]
pub(crate) struct TaskTable {
    slots: Vec<Option<TaskSlot>>,
    free: Vec<u32>,
    next_id: u64,
    /// Live tasks per node index, for the stuck-node checks.
    per_node: Vec<u32>,
}

impl TaskTable {
    /// Reserves a slot and an id for a new task.
    pub(crate) fn reserve(&mut self) -> TaskRef {
        self.next_id += 1;
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).expect("labrpc: too many tasks")
            }
        };
        TaskRef {
            slot,
            id: self.next_id,
        }
    }

    pub(crate) fn insert(&mut self, task: TaskRef, slot: TaskSlot) {
        let node = slot.node.index as usize;
        if self.per_node.len() <= node {
            self.per_node.resize(node + 1, 0);
        }
        self.per_node[node] += 1;
        self.slots[task.slot as usize] = Some(slot);
    }

    /// Number of live tasks of the node with this index.
    pub(crate) fn count_for(&self, node: usize) -> u32 {
        self.per_node.get(node).copied().unwrap_or(0)
    }

    /// The node of a live task.
    pub(crate) fn node_of(&self, task: TaskRef) -> Option<Node> {
        self.slots
            .get(task.slot as usize)?
            .as_ref()
            .filter(|slot| slot.id == task.id)
            .map(|slot| slot.node)
    }

    pub(crate) fn get_mut(&mut self, task: TaskRef) -> Option<&mut TaskSlot> {
        self.slots
            .get_mut(task.slot as usize)?
            .as_mut()
            .filter(|slot| slot.id == task.id)
    }

    /// Removes a task and returns its future (none if it is being polled right now).
    pub(crate) fn remove(&mut self, task: TaskRef) -> Option<Option<BoxTask>> {
        self.get_mut(task)?;
        let slot = self.slots[task.slot as usize].take()?;
        self.free.push(task.slot);
        self.per_node[slot.node.index as usize] -= 1;
        Some(slot.future)
    }

    /// Removes every task for which `doomed` is true, in slot order.
    pub(crate) fn remove_where(&mut self, doomed: impl Fn(&TaskSlot) -> bool) -> Vec<BoxTask> {
        let mut futures = Vec::new();
        for (index, entry) in self.slots.iter_mut().enumerate() {
            if entry.as_ref().is_some_and(&doomed) {
                let slot = entry.take().expect("checked above");
                self.free.push(index as u32);
                self.per_node[slot.node.index as usize] -= 1;
                futures.extend(slot.future);
            }
        }
        futures
    }

    /// Live tasks, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskSlot> {
        self.slots.iter().flatten()
    }
}

/// Spawns a task on the current node. (Lab code and tester.)
///
/// The task runs concurrently with its spawner, interleaved by the simulation's scheduler.
/// It belongs to the node whose code spawned it: when that node is killed, the task is
/// dropped mid-flight, exactly like a thread of a crashed machine.
///
/// Futures must be `Send + 'static`. That is what turns "holding a `Mutex` guard across an
/// `.await`" into a compile error (`future cannot be sent between threads safely ... the
/// trait Send is not implemented for MutexGuard`): release the lock before awaiting, by
/// ending the guard's scope in a block (`let x = { let s = m.lock(); s.x };`). A
/// `drop(guard)` before the `.await` is not enough for the compiler.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let spawned_at = Location::caller();
    with_world(|w| w.spawn_on(w.current_node.get(), future, spawned_at))
}

/// A handle to a spawned task: await it for the task's output, or abort it.
///
/// **Dropping the handle detaches the task: it keeps running** (as with tokio's and
/// std's join handles); only [`JoinHandle::abort`], or the death of the task's node,
/// stops it. A handle belongs to the run that made it; using it in another panics.
pub struct JoinHandle<T> {
    output: oneshot::Receiver<T>,
    task: Option<TaskRef>,
    /// The world it was made in.
    world: u64,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(output: oneshot::Receiver<T>, task: Option<TaskRef>, world: u64) -> Self {
        JoinHandle {
            output,
            task,
            world,
        }
    }

    /// Stops the task: its future is dropped at once (or, if the task is aborting itself,
    /// as soon as its current poll returns). Awaiting the handle then gives
    /// [`JoinError::Cancelled`].
    pub fn abort(&self) {
        with_world(|w| {
            w.check_handle(self.world, "a JoinHandle");
            if let Some(task) = self.task {
                w.abort_task(task);
            }
        });
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.task)
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        with_world(|w| w.check_handle(self.world, "a JoinHandle"));
        Pin::new(&mut self.output)
            .poll(cx)
            .map(|result| result.map_err(|_| JoinError::Cancelled))
    }
}

/// Why a task gave no output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JoinError {
    /// The task was aborted, or its node was killed, before it finished.
    Cancelled,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task was cancelled (aborted, or its node was killed)")
    }
}

impl std::error::Error for JoinError {}
