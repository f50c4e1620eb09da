//! The Raft lab (6.824 / 6.5840 Lab 2: 2A election, 2B log, 2C persistence, 2D snapshots).
//!
// instructors: `grader handout` leaves out what is marked so (see grader/src/markers.rs):
// the students' tree has no reference.
//! This crate holds two implementations of one public API:
//!
//! - the **skeleton** (default): what students start from, in `src/skeleton/`;
//! - the **reference** (cargo feature `reference`): a complete implementation, in
//!   `src/reference/`, which proves the tests fair.
//!
//! The tests in the `tests` crate use whichever one is built:
//!
//! ```text
//! cargo test -p tests 2a                            # your code (the skeleton you filled in)
//! cargo test -p tests 2a --features raft-reference  # the reference
//! ```
// /instructors
// students: //! Your implementation is in `src/skeleton/`; the tests in the `tests` crate run it:
// students: //!
// students: //! ```text
// students: //! cargo test -p tests 2a
// students: //! ```
//!
//! # The API
//!
//! - [`Raft::new`]`(peers, me, persister, apply_tx)` creates a server and returns at once;
//!   its work runs in tasks it spawns (`labrpc::spawn`).
//! - [`Raft::start`]`(command)` asks the server to append a command to the log: `Some((index,
//!   term))` if it is the leader, `None` otherwise. It returns at once, without waiting for
//!   the command to commit.
//! - [`Raft::state`]`()` gives `(current_term, is_leader)`.
//! - [`Raft::snapshot`]`(index, snapshot)` (2D): the service has a snapshot covering
//!   every entry up to `index`; Raft may discard them.
//! - [`Raft::kill`]`()` stops the server.
//! - Part 2E (beyond the course, `docs/lab-extensions.md`): [`Raft::with_options`] starts a
//!   server with the [`Options`] of a production Raft (Pre-Vote, CheckQuorum, the leader's
//!   no-op), and [`Raft::transfer_leadership`]`(to)` hands leadership to another server.
//! - [`Raft::service`]`()` gives the RPC handlers to register on the server's node.
//!
//! Committed commands reach the service in order as [`ApplyMsg`]s on the apply channel.

// Lab code shares its process with labrpc, which writes the verdicts: `unsafe` would let it
// reach what the grader's channel keeps from it (see labrpc's `grading` module). `forbid`,
// unlike `deny`, cannot be lifted by an `allow` in a student's file.
#![forbid(unsafe_code)]

mod apply;
mod options;
mod persister;

// instructors: the reference, and the cargo feature that picks it.
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
pub use reference::Raft;
// /instructors

// Students add public methods and types of their own in `src/skeleton/`. They need not
// write doc comments for them, so `missing_docs` is off for the whole module (and every
// file under it); the public API the skeleton provides is documented all the same.
#[cfg(not(feature = "reference"))] // instructors
#[allow(missing_docs)]
mod skeleton;
#[cfg(not(feature = "reference"))] // instructors
pub use skeleton::Raft;

pub use apply::{ApplyMsg, ApplyReceiver, ApplySender, apply_channel};
pub use options::Options;
pub use persister::Persister;

/// Whether this build of the crate is the reference implementation.
pub const IS_REFERENCE: bool = cfg!(feature = "reference"); // instructors
// students: pub const IS_REFERENCE: bool = false;
