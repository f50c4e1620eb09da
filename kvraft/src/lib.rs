//! The key/value lab (6.824 / 6.5840 Lab 3): a replicated state machine layer over Raft
//! (`rsm`), and a linearizable key/value service built on it (3A: without snapshots, 3B:
//! with them).
//!
// instructors: `grader handout` leaves out what is marked so (see grader/src/markers.rs):
// the students' tree has no reference.
//! This crate holds two implementations of one public API:
//!
//! - the **skeleton** (default): what students start from, in `src/skeleton/`;
//! - the **reference** (cargo feature `reference`): a complete implementation, in
//!   `src/reference/` (the KV service) and `src/reference_rsm.rs` (the rsm layer, which the
//!   feature `rsm-reference` exports alone, under the skeleton's KV service: Lab 4 on the
//!   reference rsm).
//!
//! Which Raft runs underneath is chosen apart, by the `raft` crate's own feature, so all
//! four combinations build: a student stuck on Lab 2 can do Lab 3 on the reference Raft.
//!
//! ```text
//! cargo test -p tests 3a                                 # your KV on your Raft
//! cargo test -p tests 3a --features raft-reference       # your KV on the reference Raft
//! cargo test -p tests 3a --features kvraft-reference     # the reference KV on your Raft
//! cargo test -p tests 3a --features reference            # the reference of both
//! ```
// /instructors
// students: //! Your implementation is in `src/skeleton/`; the tests in the `tests` crate run it:
// students: //!
// students: //! ```text
// students: //! cargo test -p tests rsm
// students: //! cargo test -p tests 3a
// students: //! ```
//!
//! # The API
//!
//! - [`Rsm::new`]`(servers, me, persister, maxraftstate, machine)` starts a server's Raft
//!   and its replicated [`StateMachine`]; [`Rsm::submit`]`(op)` returns the operation's
//!   result once it is applied, or a [`SubmitError`].
//! - [`KvServer::new`]`(servers, me, persister, maxraftstate)` starts a key/value server;
//!   [`KvServer::services`] gives its RPC handlers (its own and its Raft's);
//!   [`KvServer::kill`] stops it.
//! - [`Watched`]`::new(store)` wraps the store `KvServer::new` hands the rsm: it lets the
//!   tester compare the states of servers that applied the same operations.
//! - [`Clerk::new`]`(servers)` makes a client; [`Clerk::get`], [`Clerk::put`] and
//!   [`Clerk::append`] keep trying until they succeed.

// Lab code shares its process with labrpc, which writes the verdicts: `unsafe` would let it
// reach what the grader's channel keeps from it (see labrpc's `grading` module). `forbid`,
// unlike `deny`, cannot be lifted by an `allow` in a student's file.
#![forbid(unsafe_code)]

mod digest;
mod state_machine;
pub mod watched;

// instructors: the reference KV service, and the cargo feature that picks it (which brings
// the reference rsm too).
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
pub use reference::{Clerk, KvServer};
// /instructors
// rsm-reference: in the instructors' tree and a handout made with `--rsm-reference` only.
// The reference rsm alone, which a handout for Lab 4 may have (`grader handout
// --rsm-reference`): the sharded KV service runs on it with the `rsm-reference` feature.
#[cfg(feature = "rsm-reference")]
mod reference_rsm;
#[cfg(feature = "rsm-reference")]
pub use reference_rsm::Rsm;
// /rsm-reference

// Students add public methods and types of their own in `src/skeleton/`; `missing_docs`
// is off there, as in the raft crate.
#[cfg(not(feature = "reference"))] // instructors
#[cfg_attr(feature = "rsm-reference", allow(dead_code, unused_imports))] // rsm-reference
#[allow(missing_docs)]
mod skeleton;
#[cfg(not(feature = "rsm-reference"))] // rsm-reference
pub use skeleton::Rsm;
#[cfg(not(feature = "reference"))] // instructors
pub use skeleton::{Clerk, KvServer};

pub use raft::Persister;
pub use state_machine::{StateMachine, SubmitError};
pub use watched::Watched;

/// Whether this build of the crate is the reference implementation.
pub const IS_REFERENCE: bool = cfg!(feature = "reference"); // instructors
// students: pub const IS_REFERENCE: bool = false;

// rsm-reference: the students' tree has the second definition alone.
/// Whether [`Rsm`] is the reference rsm (built with the reference implementation, or with
/// the reference rsm alone under the student's KV service, for Lab 4).
#[cfg(feature = "rsm-reference")]
pub const IS_RSM_REFERENCE: bool = true;
// /rsm-reference
/// Whether [`Rsm`] is the reference rsm: not in this build, which has the student's.
#[cfg(not(feature = "rsm-reference"))] // rsm-reference
pub const IS_RSM_REFERENCE: bool = false;
