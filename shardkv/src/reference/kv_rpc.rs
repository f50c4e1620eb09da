//! The sharded key/value service's RPCs: clerks to groups, and groups to groups.

use std::collections::BTreeMap;

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

use super::request::RequestId;

/// How a request ended (the course's `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Status {
    /// Done.
    Ok,
    /// A Get of a key that has no value.
    ErrNoKey,
    /// This group does not serve the key's shard now (it is not the shard's group in the
    /// configuration it applied, or the shard's data has not arrived yet): ask the
    /// controller for the latest configuration and try again.
    ErrWrongGroup,
    /// This server cannot serve the request (not the leader, lost leadership, too slow):
    /// try another server of the group.
    ErrWrongLeader,
    /// (Between groups.) This group has not reached the asked configuration yet: ask
    /// again later.
    ErrNotReady,
}

/// Get arguments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GetArgs {
    pub(crate) key: String,
}

/// Get reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GetReply {
    pub(crate) status: Status,
    pub(crate) value: String,
}

impl Rpc for GetArgs {
    type Reply = GetReply;
    const METHOD: &'static str = "ShardKV.Get";
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
    const METHOD: &'static str = "ShardKV.PutAppend";
}

/// One shard's state as it moves between groups: its data, and its duplicate table (each
/// clerk's last write applied to it), which must move with it: a clerk whose write was
/// applied by the old group, and who retries it at the new one, must not see it applied
/// twice.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ShardData {
    pub(crate) data: BTreeMap<String, String>,
    pub(crate) last_write: BTreeMap<u64, u64>,
}

/// A new owner asks the previous owner for `shards` as they were when configuration `num`
/// took them from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PullShardsArgs {
    pub(crate) num: u64,
    pub(crate) shards: Vec<usize>,
}

/// The shards asked for, if the previous owner has reached configuration `num`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PullShardsReply {
    pub(crate) status: Status,
    pub(crate) shards: Vec<(usize, ShardData)>,
}

impl Rpc for PullShardsArgs {
    type Reply = PullShardsReply;
    const METHOD: &'static str = "ShardKV.PullShards";
}

/// The new owner has installed `shards` of configuration `num`: the previous owner may
/// delete its copy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeleteShardsArgs {
    pub(crate) num: u64,
    pub(crate) shards: Vec<usize>,
}

/// `Ok` once the previous owner has deleted them (or had already).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeleteShardsReply {
    pub(crate) status: Status,
}

impl Rpc for DeleteShardsArgs {
    type Reply = DeleteShardsReply;
    const METHOD: &'static str = "ShardKV.DeleteShards";
}
