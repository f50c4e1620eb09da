//! The tester's side of the world: what only test code may use.
//!
//! Lab code (a student's Raft or KV server) sees the *guest* API at the crate root: it
//! spawns tasks on its own node, sleeps, reads the virtual clock, draws random numbers,
//! calls peers through [`ClientEnd`](crate::ClientEnd)s and registers
//! [`Service`](crate::Service)s. Everything here changes the world itself (starting and
//! crashing nodes, building and partitioning the network, running simulations), so it
//! belongs to the tester alone.
//!
//! The split is enforced when the code runs: a tester control called from a task of a lab
//! node panics at once, saying what the lab code did and what to use instead. (A guest
//! cannot, for example, spawn a task on the tester's node and so survive its own crash.)

pub use crate::net::faults::{CrashAfterReply, ReplyCrash, StaleDuplicates};
pub use crate::net::{Network, Server};
pub use crate::runtime::{
    Divergence, EventLog, LiveObjects, MAX_EVENTS, Node, Observation, RunReport, SharedRecording,
    Sim, at_end_of_run, failure_notes, fault_rate, fresh_seed, live_objects, note_on_failure,
    record, say, timeline_path, warn,
};
/// The events a run records, and the pages and columns drawn from them.
pub use timeline;
