//! The shard controller's RPCs, between its clerks and its servers.

use std::collections::BTreeMap;

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

use super::request::RequestId;
use crate::{Config, Gid};

/// How a controller request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CtrlerStatus {
    /// Done.
    Ok,
    /// This server cannot serve the request (not the leader, lost leadership, too slow):
    /// try another one.
    WrongLeader,
}

/// Join: new groups, by gid, with their servers' names.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct JoinArgs {
    pub(crate) groups: BTreeMap<Gid, Vec<String>>,
    pub(crate) id: RequestId,
}

/// Leave: groups that go away.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LeaveArgs {
    pub(crate) gids: Vec<Gid>,
    pub(crate) id: RequestId,
}

/// Move: one shard to one group.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MoveArgs {
    pub(crate) shard: usize,
    pub(crate) gid: Gid,
    pub(crate) id: RequestId,
}

/// The reply to Join, Leave and Move.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ChangeReply {
    pub(crate) status: CtrlerStatus,
}

/// Query: configuration `num`, or the latest if `None` or past the latest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct QueryArgs {
    pub(crate) num: Option<u64>,
}

/// The reply to Query.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct QueryReply {
    pub(crate) status: CtrlerStatus,
    pub(crate) config: Config,
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
