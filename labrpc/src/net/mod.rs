//! The simulated RPC network, faithful to the course's Go `labrpc`.

pub mod faults;
mod network;
mod service;

pub use network::{ClientEnd, Network, RpcError};
pub use service::{Rpc, Server, Service};
