//! labrpc: a deterministic simulated world and a lossy RPC network for the Raft labs.

pub mod codec;
pub mod log;
pub mod net;
pub mod runtime;

pub use net::{Client, Network, Rpc, RpcError, Server, Service};
pub use runtime::*;
