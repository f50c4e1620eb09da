//! The messages between clerks and servers. They are yours to design: add fields (for
//! duplicate detection, say) and types as you need.

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

/// How a request ended (the course's `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Done.
    Ok,
    /// A Get of a key that has no value.
    ErrNoKey,
    /// This server cannot serve the request: the clerk should try another one.
    ErrWrongLeader,
}

/// Get arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    // You'll have to add definitions here.
}

/// Get reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetReply {
    pub status: Status,
    pub value: String,
}

impl Rpc for GetArgs {
    type Reply = GetReply;
    const METHOD: &'static str = "KV.Get";
}

/// Put or Append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteKind {
    Put,
    Append,
}

/// PutAppend arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub kind: WriteKind,
    // You'll have to add definitions here.
}

/// PutAppend reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub status: Status,
}

impl Rpc for PutAppendArgs {
    type Reply = PutAppendReply;
    const METHOD: &'static str = "KV.PutAppend";
}
