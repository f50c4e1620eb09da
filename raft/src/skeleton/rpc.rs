//! The Raft RPCs: their argument and reply types, their handlers, and how to send them.
//!
//! An RPC is two serde types and an `impl labrpc::Rpc` that ties them together and names
//! the method. Arguments and replies travel encoded (serde + postcard), so servers never
//! share memory, and the network counts the bytes (test `rpc_bytes_2b` checks them): every
//! field type needs `Serialize` and `Deserialize`, which `#[derive]` gives you for plain
//! structs, enums, integers, `Option`, `Vec` and `Vec<u8>` commands.

use labrpc::{Rpc, RpcError};
use serde::{Deserialize, Serialize};

use super::Raft;

/// RequestVote arguments: a candidate asks for a vote (Figure 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct RequestVoteArgs {
    // Your data here (2A, 2B).
    // Figure 2 lists the fields: the candidate's term, its id, and the index and term of
    // its last log entry. Write them in Rust style, e.g. `pub(super) term: u64` and
    // `pub(super) candidate_id: usize` (`pub(super)` lets code in mod.rs use them).
}

/// RequestVote reply (Figure 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct RequestVoteReply {
    // Your data here (2A).
}

/// What makes RequestVote an RPC: its reply type and its method name, which must be
/// `"<service>.<method>"` with the service name `Raft::service` registers (`"Raft"`).
impl Rpc for RequestVoteArgs {
    type Reply = RequestVoteReply;
    const METHOD: &'static str = "Raft.RequestVote";
}

// Your code here (2A, 2B): AppendEntries.
// Define `AppendEntriesArgs` and `AppendEntriesReply` with the fields of Figure 2, the
// same way as above, with
//
//     impl Rpc for AppendEntriesArgs {
//         type Reply = AppendEntriesReply;
//         const METHOD: &'static str = "Raft.AppendEntries";
//     }
//
// write its handler next to `request_vote` below, and register it in `Raft::service`.
// In 2D, do the same for InstallSnapshot (Figure 13; send the whole snapshot in one RPC,
// no `offset` or chunks).

impl Raft {
    /// The RequestVote handler: runs on this server, in a task of its own, for every
    /// request that arrives.
    ///
    /// Figure 2 ("RequestVote RPC, Receiver implementation", and "Rules for Servers, All
    /// Servers") says what to do. Persist whatever you changed before you return the
    /// reply (2C): returning it is what sends it.
    pub(super) fn request_vote(&self, _args: RequestVoteArgs) -> RequestVoteReply {
        // Your code here (2A, 2B).
        RequestVoteReply {}
    }

    /// Example: sends a RequestVote to server `server`, in a task of its own, and deals
    /// with the reply when (if) it comes.
    ///
    /// Use it (or something like it) for every peer when an election starts. Each RPC
    /// gets its own task so that they are all in flight together: a call to a crashed or
    /// cut-off server can take up to 7 s (virtual) to fail, and an election that asked
    /// its peers one after the other would never finish in time.
    ///
    /// What `call` promises, like the course's `Call`:
    ///
    /// - `Ok(reply)` means the server ran the handler and its reply got back.
    /// - `Err(RpcError::Failed)` means no reply: the request was lost, or the reply was, or
    ///   the server is down or cut off. The caller can't tell which. The handler may have
    ///   run. Don't retry in a loop: the next election or heartbeat will try again.
    /// - `Err(RpcError::Codec(e))` means the types do not round-trip through the codec:
    ///   a bug in your types; its message says which.
    ///
    /// A reply can arrive long after it was sent, after this server moved on to another
    /// term or role; check the state again before you use it.
    #[expect(
        dead_code,
        reason = "an example: call it when you start an election (2A); then delete this attribute"
    )]
    pub(super) fn send_request_vote(&self, server: usize, args: RequestVoteArgs) {
        // `call` encodes the arguments now, and returns a future that owns everything it
        // needs (it is `'static`), so it can move into the task. Nothing is sent before
        // the task first polls it.
        let call = self.peers[server].call(&args);
        let rf = self.clone();
        labrpc::spawn(async move {
            // No lock is held here: this await can take seconds.
            match call.await {
                Ok(reply) => rf.handle_request_vote_reply(server, &args, reply),
                // No reply. Nothing to do: the election may still be won without it.
                Err(RpcError::Failed) => {}
                // A bug, not bad luck: say so loudly.
                Err(e @ RpcError::Codec(_)) => panic!("{e}"),
            }
        });
    }

    /// What a candidate does with a vote: lock the state, make sure the reply still
    /// matters (this server is still a candidate, in the term it asked in: compare with
    /// the term in `args`), then count it.
    fn handle_request_vote_reply(
        &self,
        _server: usize,
        _args: &RequestVoteArgs,
        _reply: RequestVoteReply,
    ) {
        // Your code here (2A).
    }
}
