//! Your shard controller and sharded key/value service (6.824 / 6.5840 Lab 4). Start
//! reading here, then read `docs/lab-shardkv.md`.
//!
//! This skeleton compiles and runs, but serves nothing: every server handler answers
//! `ErrWrongLeader` at once, so the clerks (which are written, as in the course) try every
//! server, pause 100 ms and try again, and the tester reports that nothing got done. You
//! fill it in, in this order:
//!
//! 1. **4A, the shard controller** (`ctrler.rs`, tests `cargo test -p tests 4a`): its
//!    state machine is the list of configurations, numbered from 0 (configuration 0 has no
//!    groups and every shard in group 0). Join adds groups, Leave removes them, both
//!    rebalance; Move gives one shard to one group; Query returns configuration `num`, or
//!    the latest. Each change makes exactly one new configuration, even when the clerk
//!    retries it (duplicate detection, as in Lab 3). Rebalancing must be
//!    **deterministic**, since every replica computes it on its own, and **minimal**: move
//!    as few shards as possible, and end with every group holding `NSHARDS / groups` or
//!    one more.
//! 2. **4B, the shard groups** (`server.rs`): a group serves a key only if the
//!    configuration it has *applied* gives it the key's shard, and answers
//!    `ErrWrongGroup` otherwise. Its leader polls the controller about every 100 ms and
//!    puts each new configuration in the group's log, **one at a time, in order**. When a
//!    configuration gives the group a shard, the group gets the shard's data **and its
//!    duplicate table** from the previous owner with an RPC of yours (a server reaches
//!    another group's servers with `dialer.end(name)`), and puts them in its log too. While
//!    a shard moves, neither group may serve it; everything else it may keep serving.
//! 3. **The challenges**: delete the shards you no longer own once their new owner has
//!    them (the data must not pile up), and keep serving the shards a configuration change
//!    does not touch while other shards move.
//!
//! Only the public API (`ShardCtrler`, `CtrlerClerk`, `ShardKv`, `Clerk` and the methods
//! the tester calls) must stay as it is. Add fields, types, functions and files as you
//! like; the RPC messages (`common.rs`) are yours to extend.
//!
//! The rules of the earlier labs hold here too (see `raft/src/skeleton/mod.rs`):
//!
//! - no lock held across an `.await` (it does not compile anyway);
//! - time and randomness only from labrpc (`labrpc::sleep`, `labrpc::timeout`,
//!   `labrpc::rng()`), never from `std` or `rand` directly;
//! - never a busy wait: a loop that waits for something sleeps between its checks;
//! - in replicated state, `BTreeMap` and never `HashMap`: its iteration order differs from
//!   one server to the next, and so would your configurations and your snapshots.
//!
//! Both servers run on the `kvraft` crate's rsm layer ([`kvraft::Rsm`], with a
//! [`kvraft::StateMachine`] of yours), on your Raft: run Lab 3's tests over a few hundred
//! seeds before you start. If your course handed out its reference Raft, or its reference
//! rsm and Raft, with this lab, `docs/lab-shardkv.md` (section 1) says how to run on them;
//! your code reaches the rsm as `kvraft::Rsm` either way.

mod client;
mod common;
mod ctrler;
mod ctrler_client;
mod server;

pub use client::Clerk;
pub use ctrler::ShardCtrler;
pub use ctrler_client::CtrlerClerk;
pub use server::ShardKv;
