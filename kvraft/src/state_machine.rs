//! The contract between the replicated-state-machine layer ([`Rsm`](crate::Rsm)) and the
//! service it replicates.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A deterministic state machine that the rsm layer replicates on every server: the
/// key/value store in this lab, a counter in the rsm tests.
///
/// Every server applies the same operations in the same order, so every server's state
/// machine goes through the same states. `apply` must therefore depend on nothing but the
/// state and the operation: no clock, no randomness, no I/O.
pub trait StateMachine: Send + 'static {
    /// An operation, as clients submit it. It travels through Raft's log, encoded.
    type Op: Serialize + DeserializeOwned + Send + 'static;
    /// What applying an operation returns to the client that submitted it.
    type Output: Send + 'static;

    /// Applies `op` (committed at the next log index) and returns its result.
    fn apply(&mut self, op: Self::Op) -> Self::Output;

    /// Encodes the whole state, for a snapshot.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the whole state by one that [`snapshot`](StateMachine::snapshot) encoded.
    fn restore(&mut self, snapshot: &[u8]);
}

/// Why [`Rsm::submit`](crate::Rsm::submit) could not return an operation's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// This server is not the leader: Raft refused the operation. Try another server.
    WrongLeader,
    /// This server was the leader when it took the operation, but lost leadership before
    /// the operation was applied: another entry was committed at its index, or the term
    /// changed. The operation may or may not be applied later; a client that retries
    /// elsewhere must make sure it does not take effect twice.
    LostLeadership,
    /// The server was killed before the operation was applied.
    Shutdown,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubmitError::WrongLeader => "not the leader",
            SubmitError::LostLeadership => "lost leadership before the operation was applied",
            SubmitError::Shutdown => "the server was killed",
        })
    }
}

impl std::error::Error for SubmitError {}
