//! The key/value service's RPCs, between clerks and servers.

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

/// How a request ended (the course's `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Status {
    /// Done.
    Ok,
    /// A Get of a key that has no value.
    ErrNoKey,
    /// This server cannot serve the request (not the leader, or lost leadership before the
    /// request took effect, or it took too long): try another one.
    ErrWrongLeader,
}

/// Which clerk sent a request, and which of its requests it is: the servers apply each
/// clerk's writes at most once by remembering the last sequence number they applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestId {
    /// The clerk, chosen at random when it is made.
    pub(crate) client: u64,
    /// The clerk's count of requests so far, this one included. A clerk sends a request
    /// (and its retries) only after the previous one returned, so these only grow.
    pub(crate) seq: u64,
}

/// Get arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GetArgs {
    pub(crate) key: String,
    pub(crate) id: RequestId,
}

/// Get reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GetReply {
    pub(crate) status: Status,
    pub(crate) value: String,
}

impl Rpc for GetArgs {
    type Reply = GetReply;
    const METHOD: &'static str = "KV.Get";
}

/// Put or Append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum WriteKind {
    /// Replaces the key's value.
    Put,
    /// Appends to the key's value (to "" if it has none).
    Append,
}

/// PutAppend arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PutAppendArgs {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) kind: WriteKind,
    pub(crate) id: RequestId,
}

/// PutAppend reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PutAppendReply {
    pub(crate) status: Status,
}

impl Rpc for PutAppendArgs {
    type Reply = PutAppendReply;
    const METHOD: &'static str = "KV.PutAppend";
}
