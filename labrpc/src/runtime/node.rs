//! Nodes: the simulated machines that own tasks and can crash.

use std::fmt;
use std::future::Future;
use std::panic::Location;

use super::context::{try_with_world, with_world};
use super::task::{JoinHandle, Site, SiteKind};

/// A simulated machine. (Tester side, except [`Node::current`], [`Node::name`] and
/// [`Node::is_alive`], which anyone may call.)
///
/// Every task belongs to a node: the one whose code spawned it, or the one named in
/// [`Node::spawn`]. Killing a node drops all its tasks at once, running their destructors,
/// the way a crash stops every thread of a process; RPCs its handlers were serving fail.
/// A killed node stays dead; a restarted server is a fresh node (it may reuse the name).
///
/// The test body itself runs on the *tester* node, [`Node::tester`], which cannot be
/// killed. Only code on the tester node may create, kill, enter or spawn on other nodes;
/// lab code that tries panics with an explanation.
///
/// A node belongs to the run that made it: using it in another run (kept in a `static`,
/// or carried from one seed to the next) panics instead of touching whatever node has the
/// same number there.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// The world that made it.
    pub(crate) world: u64,
    /// Its index among that world's nodes; 0 is the tester.
    pub(crate) index: u32,
}

/// A tester's observer of a node: the closure, and the number of the site that installed
/// it (the watchdog's table has the site).
pub(crate) type Observer = (Box<dyn FnMut(Observation)>, u32);

/// What an observer ([`Node::observe`]) is told about the poll that just ended.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Observation {
    /// Messages the node has sent so far, this poll's included (see
    /// [`Node::messages_sent`]).
    pub messages_sent: u64,
    /// Whether the node is still alive (it may have killed itself during the poll).
    pub alive: bool,
}

/// What the world knows about a node.
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) alive: bool,
    /// Since when (virtual time) the node has had tasks, no timer, and nothing run; see
    /// the stuck-node check in the world.
    pub(crate) idle_since: Option<super::Instant>,
    /// When one of its tasks last ran, for the report of a stuck node.
    pub(crate) last_ran: Option<super::Instant>,
    /// The tester's observer ([`Node::observe`]), called after every poll of the node's
    /// tasks, with the number of the site that installed it (for failure reports).
    pub(crate) observer: Option<Observer>,
    /// Messages the node has sent: requests it made and replies its handlers gave.
    pub(crate) messages_sent: u64,
}

impl NodeInfo {
    pub(crate) fn new(name: String) -> NodeInfo {
        NodeInfo {
            name,
            alive: true,
            idle_since: None,
            last_ran: None,
            observer: None,
            messages_sent: 0,
        }
    }
}

impl Node {
    /// The node the test body runs on.
    pub fn tester() -> Node {
        with_world(|w| w.tester_node())
    }

    /// Creates a live node with a name used in logs and failure reports (e.g. `"S2"`).
    /// (Tester side.)
    pub fn new(name: impl Into<String>) -> Node {
        let name = name.into();
        with_world(|w| {
            w.require_tester_with(
                || format!("Node::new({name:?})"),
                "Lab code runs on the node the tester started it on; to run work \
                 concurrently, spawn a task there with labrpc::spawn.",
            );
            w.add_node(name)
        })
    }

    /// The node whose code is running now.
    pub fn current() -> Node {
        with_world(|w| w.current_node.get())
    }

    /// The node's name.
    pub fn name(self) -> String {
        with_world(|w| {
            w.check_node(self);
            w.node_name(self)
        })
    }

    /// Whether the node has not been killed.
    pub fn is_alive(self) -> bool {
        with_world(|w| {
            w.check_node(self);
            w.is_alive(self)
        })
    }

    /// Spawns a task owned by this node. On a dead node the future is dropped unrun and
    /// the handle reports [`JoinError::Cancelled`](crate::JoinError::Cancelled).
    /// (Tester side, unless `self` is the current node.)
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawned_at = Location::caller();
        with_world(|w| {
            w.check_node(self);
            if self != w.current_node.get() {
                w.require_tester_with(
                    || format!("Node::spawn on {}", w.node_name(self)),
                    "A task may only start tasks on its own node: use labrpc::spawn. (A task \
                     on another node would survive this node's crash.)",
                );
            }
            w.spawn_on(self, future, spawned_at)
        })
    }

    /// Runs `f` as this node: tasks spawned inside `f` belong to it. This is how the
    /// tester starts a server (`node.enter(|| Raft::new(...))`) and calls into one.
    /// (Tester side.)
    pub fn enter<R>(self, f: impl FnOnce() -> R) -> R {
        struct Restore(Node);
        impl Drop for Restore {
            fn drop(&mut self) {
                try_with_world(|w| w.current_node.set(self.0));
            }
        }
        let previous = with_world(|w| {
            w.check_node(self);
            if self != w.current_node.get() {
                w.require_tester_with(
                    || format!("Node::enter({})", w.node_name(self)),
                    "Lab code runs on its own node only.",
                );
            }
            w.current_node.replace(self)
        });
        let _restore = Restore(previous);
        f()
    }

    /// Installs `observer`, to be called after every poll of one of this node's tasks,
    /// as this node (so that it may call into the node's code, say `Raft::state`), until
    /// the node dies. This is how the tester watches a server all the time: a server's
    /// state changes only while one of its tasks runs, so nothing it exposes can change
    /// unseen. Replaces any observer installed before. (Tester side.)
    ///
    /// The observer runs outside the task's poll, so no lock of lab code is held then.
    /// A panic in it fails the run, with the observer named as what was running. If a
    /// task's poll kills its own node (a crash right after a reply), the observer still
    /// runs once after that poll, and is then dropped.
    ///
    /// `label` says what the observer does, for failure reports (a watchdog report about
    /// an observer that never returns names it, e.g. "the invariant monitor's call of
    /// Raft::state()").
    #[track_caller]
    pub fn observe(self, label: &'static str, observer: impl FnMut(Observation) + 'static) {
        let site = Site {
            location: Location::caller(),
            kind: SiteKind::Observer(label),
        };
        with_world(|w| {
            w.check_node(self);
            w.require_tester_with(
                || format!("Node::observe({})", w.node_name(self)),
                "Observers are the tester's.",
            );
            w.set_observer(self, Box::new(observer), site);
        });
    }

    /// How many messages the node has sent so far: requests its tasks made, and replies
    /// its handlers gave (delivered or not). (Tester side.)
    pub fn messages_sent(self) -> u64 {
        with_world(|w| {
            w.check_node(self);
            w.require_tester("Node::messages_sent", "Traffic counts are the tester's.");
            w.nodes.borrow()[self.index as usize].messages_sent
        })
    }

    /// Crashes the node: every task it owns is dropped now, in a fixed order, and no task
    /// can be spawned on it again. (Tester side.)
    ///
    /// # Panics
    ///
    /// On the tester node, and when lab code calls it on a node other than its own.
    pub fn kill(self) {
        with_world(|w| {
            w.check_node(self);
            assert!(
                self != w.tester_node(),
                "labrpc: the tester node cannot be killed"
            );
            if self != w.current_node.get() {
                w.require_tester_with(
                    || format!("Node::kill({})", w.node_name(self)),
                    "Crashes are the tester's to cause. (A node may crash itself; it may \
                     not crash another.)",
                );
            }
            w.kill_node(self);
        });
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = try_with_world(|w| (w.id == self.world).then(|| w.node_name(*self))).flatten();
        match name {
            Some(name) => write!(f, "Node({}: {name})", self.index),
            None => write!(f, "Node({} of run #{})", self.index, self.world),
        }
    }
}
