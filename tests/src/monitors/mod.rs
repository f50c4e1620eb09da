//! The invariant monitors: checks that watch the cluster all the time, in every test, not
//! only at the moments a test's own checks look.
//!
//! They see only what a student's Raft exposes: `state()` (its term, and whether it
//! believes it leads), what it applies, and how many messages its node has sent. They
//! run on every event that could change what they watch:
//!
//! - **after every poll of a server's tasks** (a labrpc node observer): a server's term
//!   and role change only while its code runs, so no change goes unseen;
//! - **on every apply** (the appliers call them), commands and snapshots alike;
//! - **when a server restarts**;
//! - in Labs 3 and 4, **every 32 operations a server applies, and after every restore**
//!   (the store monitor): servers that applied the same operations hold the same state,
//!   compared through the digests [`kvraft::Watched`] reports;
//! - in Lab 4, **whenever a group server's configuration or served shards change** (the
//!   shard monitor): no two groups serve a shard at once, a group serves only shards its
//!   applied configuration gives it, and every group applied the same configurations.
//!
//! They fail a test only when Raft is really wrong, so the course-parity tests keep their
//! meaning: a run that breaks none of these rules can still fail a parity test, never the
//! other way round because of them. A violation fails the run at once, at the exact
//! virtual time, with the invariant's name, the servers and terms involved.
//!
//! What they cannot see: the entries a server acknowledged (students encode their own
//! messages). A server that loses acknowledged entries in a crash shows up later, as a
//! committed entry that changes, which the apply monitor catches.

mod apply;
mod membership;
mod shards;
mod state;
mod store;

use std::sync::Arc;

use labrpc::tester::Node;
use parking_lot::Mutex;
use raft::Raft;

pub(crate) use self::apply::ApplyMonitor;
pub(crate) use self::membership::MembershipMonitor;
pub(crate) use self::shards::ShardMonitor;
pub(crate) use self::state::StateMonitor;
pub(crate) use self::store::StoreMonitor;

/// The prefix of every monitor's failure message.
const VIOLATED: &str = "invariant violated";

/// Puts server `i`'s new incarnation (its `raft`, on `node`) under the state monitor:
/// samples its state now, and after every poll of its tasks. A violation fails the run
/// at once.
pub(crate) fn watch(
    states: &Arc<Mutex<StateMonitor>>,
    i: usize,
    incarnation: u64,
    node: Node,
    raft: &Raft,
) {
    watch_with(states, i, incarnation, node, raft, || None);
}

/// [`watch`], and after every poll also `also`: another monitor's violation, found while
/// the server's code ran (the store monitor hears from the server's state machine), fails
/// the run at the same virtual time, outside the server's code.
pub(crate) fn watch_with(
    states: &Arc<Mutex<StateMonitor>>,
    i: usize,
    incarnation: u64,
    node: Node,
    raft: &Raft,
    also: impl Fn() -> Option<String> + 'static,
) {
    states.lock().restarted(i, incarnation);
    let states = states.clone();
    let sample = move |raft: &Raft, messages_sent: u64| {
        let state = raft.state();
        let checked = states
            .lock()
            .sample(i, incarnation, state, messages_sent, labrpc::now())
            .err()
            .or_else(&also);
        if let Some(violation) = checked {
            tracing::info!(target: "tester", "FAILED: {violation}");
            panic!("{violation}");
        }
    };
    node.enter(|| sample(raft, 0));
    let raft = raft.clone();
    node.observe(
        "the invariant monitor's call of Raft::state()",
        move |poll| sample(&raft, poll.messages_sent),
    );
}

#[cfg(test)]
mod tests {
    use labrpc::Instant;

    /// The virtual instant `ms` milliseconds after the start.
    pub(super) fn at(ms: u64) -> Instant {
        Instant::START + std::time::Duration::from_millis(ms)
    }
}
