//! The reference implementation of the shard controller and the sharded key/value
//! service, written to be read.
//!
//! - [`ctrler`]: the controller's configurations as a replicated state machine, and its
//!   handlers; [`balance`]: how shards are spread over groups;
//! - [`kv_store`]: a group's shards as a state machine, with the steps of a migration;
//! - [`kv_server`]: a group's handlers and the background task that follows the
//!   controller;
//! - [`ctrler_client`] and [`kv_client`]: the clerks; [`request`]: their retry loop;
//! - [`ctrler_rpc`] and [`kv_rpc`]: the messages.

mod balance;
mod ctrler;
mod ctrler_client;
mod ctrler_rpc;
mod kv_client;
mod kv_rpc;
mod kv_server;
mod kv_store;
mod request;

pub use ctrler::ShardCtrler;
pub use ctrler_client::CtrlerClerk;
pub use kv_client::Clerk;
pub use kv_server::ShardKv;
