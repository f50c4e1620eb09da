//! Placeholder skeleton (to be replaced by the student handout).

use labrpc::{Client, Service};

use crate::{ApplySender, Persister};

/// One Raft server.
#[derive(Clone)]
pub struct Raft {}

impl Raft {
    /// Creates a server.
    pub fn new(
        _peers: Vec<Client>,
        _me: usize,
        _persister: Persister,
        _apply_tx: ApplySender,
    ) -> Raft {
        Raft {}
    }
    /// Starts agreement on a command.
    pub fn start(&self, _command: Vec<u8>) -> Option<(u64, u64)> {
        None
    }
    /// Term and leadership.
    pub fn state(&self) -> (u64, bool) {
        (0, false)
    }
    /// Compacts the log.
    pub fn snapshot(&self, _index: u64, _snapshot: Vec<u8>) {}
    /// Stops the server.
    pub fn kill(&self) {}
    /// The RPC service.
    pub fn service(&self) -> Service {
        Service::new("Raft")
    }
}
