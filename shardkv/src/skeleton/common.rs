//! The messages between clerks and servers: the controller's (Join, Leave, Move, Query)
//! and the key/value groups' (Get, PutAppend). Add fields (for duplicate detection, say),
//! and the messages your groups send each other to move shards.

use std::collections::BTreeMap;

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

use crate::{Config, Gid};

/// How a request ended (the course's `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Done.
    Ok,
    /// A Get of a key that has no value.
    ErrNoKey,
    /// This group does not serve the key's shard (now): the clerk should ask the controller
    /// for the latest configuration and try again.
    ErrWrongGroup,
    /// This server cannot serve the request (not the leader, or it lost leadership, or
    /// took too long): the clerk should try another server.
    ErrWrongLeader,
}

// The shard controller.

/// Join: new groups, by gid, with their servers' names.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinArgs {
    pub groups: BTreeMap<Gid, Vec<String>>,
    // You'll have to add definitions here.
}

/// Leave: groups that go away.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LeaveArgs {
    pub gids: Vec<Gid>,
    // You'll have to add definitions here.
}

/// Move: one shard to one group.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MoveArgs {
    pub shard: usize,
    pub gid: Gid,
    // You'll have to add definitions here.
}

/// The reply to Join, Leave and Move.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangeReply {
    pub status: Status,
}

/// Query: configuration `num`, or the latest if `None` or past the latest (the course's
/// `Query(-1)`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryArgs {
    pub num: Option<u64>,
    // You'll have to add definitions here, if you need any.
}

/// The reply to Query.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryReply {
    pub status: Status,
    pub config: Config,
}

impl Rpc for JoinArgs {
    type Reply = ChangeReply;
    const METHOD: &'static str = "ShardCtrler.Join";
}

impl Rpc for LeaveArgs {
    type Reply = ChangeReply;
    const METHOD: &'static str = "ShardCtrler.Leave";
}

impl Rpc for MoveArgs {
    type Reply = ChangeReply;
    const METHOD: &'static str = "ShardCtrler.Move";
}

impl Rpc for QueryArgs {
    type Reply = QueryReply;
    const METHOD: &'static str = "ShardCtrler.Query";
}

// The key/value groups.

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
    const METHOD: &'static str = "ShardKV.Get";
}

/// Put or Append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteKind {
    /// Replaces the key's value.
    Put,
    /// Appends to the key's value (to `""` if it has none).
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
    const METHOD: &'static str = "ShardKV.PutAppend";
}
