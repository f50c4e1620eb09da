//! Nodes: the simulated machines that own tasks and can crash.

use std::fmt;
use std::future::Future;
use std::panic::Location;

use super::context::{try_with_world, with_world};
use super::task::JoinHandle;

/// A simulated machine.
///
/// Every task belongs to a node: the one whose code spawned it, or the one named in
/// [`Node::spawn`]. Killing a node drops all its tasks at once, running their destructors,
/// the way a crash stops every thread of a process; RPCs its handlers were serving fail.
/// A killed node stays dead; a restarted server is a fresh node (it may reuse the name).
///
/// The test body itself runs on the *tester* node, [`Node::tester`], which cannot be
/// killed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node(pub(crate) u32);

/// What the world knows about a node.
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) alive: bool,
}

impl Node {
    /// The node the test body runs on.
    pub const fn tester() -> Node {
        Node(0)
    }

    /// Creates a live node with a name used in logs and failure reports (e.g. `"S2"`).
    pub fn new(name: impl Into<String>) -> Node {
        let name = name.into();
        with_world(|w| w.add_node(name))
    }

    /// The node whose code is running now.
    pub fn current() -> Node {
        with_world(|w| w.current_node.get())
    }

    /// The node's name.
    pub fn name(self) -> String {
        with_world(|w| w.node_name(self))
    }

    /// Whether the node has not been killed.
    pub fn is_alive(self) -> bool {
        with_world(|w| w.nodes.borrow()[self.0 as usize].alive)
    }

    /// Spawns a task owned by this node. On a dead node the future is dropped unrun and
    /// the handle reports [`JoinError::Cancelled`](crate::JoinError::Cancelled).
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawned_at = Location::caller();
        with_world(|w| w.spawn_on(self, future, spawned_at))
    }

    /// Runs `f` as this node: tasks spawned inside `f` belong to it. This is how the
    /// tester starts a server: `node.enter(|| Raft::new(...))`.
    pub fn enter<R>(self, f: impl FnOnce() -> R) -> R {
        struct Restore(Node);
        impl Drop for Restore {
            fn drop(&mut self) {
                try_with_world(|w| w.current_node.set(self.0));
            }
        }
        let previous = with_world(|w| w.current_node.replace(self));
        let _restore = Restore(previous);
        f()
    }

    /// Crashes the node: every task it owns is dropped now, in a fixed order, and no task
    /// can be spawned on it again.
    ///
    /// # Panics
    ///
    /// On the tester node.
    pub fn kill(self) {
        assert!(
            self != Node::tester(),
            "labrpc: the tester node cannot be killed"
        );
        with_world(|w| w.kill_node(self));
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match try_with_world(|w| w.node_name(*self)) {
            Some(name) => write!(f, "Node({}: {name})", self.0),
            None => write!(f, "Node({})", self.0),
        }
    }
}
