//! The sharded key/value lab (6.824 / 6.5840 Lab 4): a shard controller that assigns
//! shards to replica groups (4A), and key/value groups that serve their shards and move
//! them between each other as the configuration changes (4B). Both are replicated state
//! machines on the `kvraft` crate's rsm layer and Raft.
//!
// instructors: `grader handout` leaves out what is marked so (see grader/src/markers.rs):
// the students' tree has no reference.
//! This crate holds two implementations of one public API:
//!
//! - the **skeleton** (default): what students start from, in `src/skeleton/`;
//! - the **reference** (cargo feature `reference`): a complete implementation, in
//!   `src/reference/`.
//!
//! Which rsm and Raft run underneath are chosen apart, by the `kvraft` and `raft` crates'
//! own features, so a student stuck on Lab 2 or 3 can do Lab 4 on the reference of either:
//!
//! ```text
//! cargo test -p tests 4b                                  # your Lab 4 on your rsm and Raft
//! cargo test -p tests 4b --features raft-reference,kvraft-reference  # on the reference ones
//! cargo test -p tests 4b --features reference             # the reference of everything
//! ```
// /instructors
// students: //! Your implementation is in `src/skeleton/`; the tests in the `tests` crate run it:
// students: //!
// students: //! ```text
// students: //! cargo test -p tests 4a
// students: //! cargo test -p tests 4b
// students: //! ```
//!
//! # The API
//!
//! - [`ShardCtrler::new`]`(servers, me, persister)` starts a controller server;
//!   [`CtrlerClerk`] calls it: [`join`](CtrlerClerk::join),
//!   [`leave`](CtrlerClerk::leave), [`move_shard`](CtrlerClerk::move_shard) and
//!   [`query`](CtrlerClerk::query), which returns a [`Config`].
//! - [`ShardKv::new`]`(servers, me, persister, maxraftstate, gid, ctrlers, dialer)`
//!   starts a server of group `gid`; [`Clerk::new`]`(ctrlers, dialer)` makes a client,
//!   with [`Clerk::get`], [`Clerk::put`] and [`Clerk::append`].
//! - Both servers have `services()` (their RPC handlers and their Raft's) and `kill()`.
//! - Keys fall in [`NSHARDS`] shards by [`key2shard`].
//! - [`Observed`]`::new(store)` wraps the state machine `ShardKv::new` hands the rsm: it
//!   tells the tester which configuration each group applied and which shards it serves
//!   (through [`GroupState`], which the state machine implements).

// Lab code shares its process with labrpc, which writes the verdicts: `unsafe` would let it
// reach what the grader's channel keeps from it (see labrpc's `grading` module). `forbid`,
// unlike `deny`, cannot be lifted by an `allow` in a student's file.
#![forbid(unsafe_code)]

mod common;
pub mod observed;

// instructors: the reference, and the cargo feature that picks it.
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
pub use reference::{Clerk, CtrlerClerk, ShardCtrler, ShardKv};
// /instructors

// Students add public methods and types of their own in `src/skeleton/`; `missing_docs`
// is off there, as in the raft and kvraft crates.
#[cfg(not(feature = "reference"))] // instructors
#[allow(missing_docs)]
mod skeleton;
#[cfg(not(feature = "reference"))] // instructors
pub use skeleton::{Clerk, CtrlerClerk, ShardCtrler, ShardKv};

pub use common::{Config, Gid, NSHARDS, key2shard};
pub use labrpc::Dialer;
pub use observed::{GroupState, Observed};
pub use raft::Persister;

/// Whether this build of the crate is the reference implementation.
pub const IS_REFERENCE: bool = cfg!(feature = "reference"); // instructors
// students: pub const IS_REFERENCE: bool = false;
