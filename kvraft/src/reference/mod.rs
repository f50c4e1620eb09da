//! The reference implementation of the rsm layer and the key/value service, written to be
//! read.
//!
//! - [`rsm`]: the replicated state machine layer, generic over the service's
//!   [`StateMachine`](crate::StateMachine);
//! - [`store`]: the key/value store as a state machine, with its duplicate table;
//! - [`server`]: the RPC handlers, which submit requests to the rsm;
//! - [`client`]: the clerk, which retries across servers;
//! - [`rpc`]: the messages between them.

mod client;
mod rpc;
mod rsm;
mod server;
mod store;

pub use client::Clerk;
pub use rsm::Rsm;
pub use server::KvServer;
