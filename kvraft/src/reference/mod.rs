//! The reference implementation of the key/value service, written to be read. It runs on
//! the reference rsm layer, which is a module of its own (`reference_rsm.rs`) so that a
//! Lab 4 handout can have the rsm without this service.
//!
//! - [`store`]: the key/value store as a state machine, with its duplicate table;
//! - [`server`]: the RPC handlers, which submit requests to the rsm;
//! - [`client`]: the clerk, which retries across servers;
//! - [`rpc`]: the messages between them.

mod client;
mod rpc;
mod server;
mod store;

pub use client::Clerk;
pub use server::KvServer;
