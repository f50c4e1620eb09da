//! Your replicated state machine and key/value service (6.824 / 6.5840 Lab 3). Start
//! reading here, then read `docs/lab-kvraft.md`.
//!
//! This skeleton compiles and runs, but replicates nothing: [`Rsm::submit`] always says
//! "not the leader", and the [`Clerk`] returns at once without asking any server. So every
//! test fails within a second or two, with a message saying what it expected. You fill it
//! in, in this order:
//!
//! 1. **The rsm layer** (`rsm.rs`, tests `cargo test -p tests rsm`): [`Rsm::submit`] hands
//!    an operation to Raft and waits until Raft commits and the reader applies it, then
//!    returns its result; the reader task applies every committed operation to the
//!    [`StateMachine`](crate::StateMachine) in order.
//! 2. **3A, the key/value service** (`server.rs`, `client.rs`, `common.rs`): the server's
//!    state machine (the store) and its RPC handlers, which submit to the rsm; the clerk,
//!    which finds the leader and retries; duplicate detection, so a retried Put or Append
//!    takes effect once.
//! 3. **3B, snapshots**: the rsm snapshots the state machine when Raft's saved state nears
//!    `maxraftstate`, and installs the snapshots Raft hands up.
//!
//! Only the public API (`Rsm`, `KvServer`, `Clerk` and the methods the tester calls) must
//! stay as it is. Add fields, types, functions and files as you like. The RPC messages
//! between clerks and servers are yours to design (`common.rs`).
//!
//! The rules of the Raft lab hold here too (see `raft/src/skeleton/mod.rs`): no lock held
//! across an `.await`, time and randomness only from labrpc, never a busy wait.

mod client;
mod common;
mod rsm;
mod server;

pub use client::Clerk;
pub use rsm::Rsm;
pub use server::KvServer;
