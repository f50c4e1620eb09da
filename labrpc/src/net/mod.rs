//! The simulated RPC network, faithful to the course's Go `labrpc`.

mod dialer;
pub mod faults;
mod network;
mod service;

pub use dialer::Dialer;
pub use network::{ClientEnd, Network, RpcError};
pub use service::{Rpc, Server, Service};
