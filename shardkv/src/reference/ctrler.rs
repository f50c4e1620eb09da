//! The shard controller: the sequence of configurations as a replicated state machine,
//! and the RPC handlers that submit clerks' requests to it.

use std::collections::BTreeMap;
use std::time::Duration;

use kvraft::{Rsm, StateMachine};
use labrpc::{ClientEnd, Service};
use raft::{Persister, Raft};
use serde::{Deserialize, Serialize};

use super::balance::rebalance;
use super::ctrler_rpc::{
    ChangeReply, CtrlerStatus, JoinArgs, LeaveArgs, MoveArgs, QueryArgs, QueryReply,
};
use super::request::RequestId;
use crate::{Config, Gid, NSHARDS};

/// How long a handler waits for its request to be applied before telling the clerk to try
/// another server (a leader cut off from the majority never learns it lost its term).
const SUBMIT_TIMEOUT: Duration = Duration::from_millis(500);

/// An operation in the controller's log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum CtrlerOp {
    /// A change (Join, Leave or Move) from a clerk's request `id`.
    Change { change: Change, id: RequestId },
    /// A query: read through the log, so that it sees every change committed before it.
    Query { num: Option<u64> },
}

/// What a change does to the latest configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Change {
    /// New groups join; shards are rebalanced.
    Join(BTreeMap<Gid, Vec<String>>),
    /// Groups leave; their shards go to the others.
    Leave(Vec<Gid>),
    /// One shard goes to one group, without rebalancing.
    Move { shard: usize, gid: Gid },
}

/// The replicated state: every configuration so far, and each clerk's last change.
#[derive(Serialize, Deserialize)]
pub(crate) struct Configs {
    /// `configs[n]` is configuration `n`.
    /// Invariant: never empty; `configs[0]` has no groups and every shard in group 0.
    configs: Vec<Config>,
    /// For each clerk, the `seq` of the last change applied (see `kvraft`'s duplicate
    /// table: a retried Join must not make two configurations).
    last_change: BTreeMap<u64, u64>,
}

impl Default for Configs {
    fn default() -> Self {
        Configs {
            configs: vec![Config::default()],
            last_change: BTreeMap::new(),
        }
    }
}

impl Configs {
    fn latest(&self) -> &Config {
        self.configs
            .last()
            .expect("configuration 0 is always there")
    }

    /// Makes the next configuration from the latest by `change`.
    fn change(&mut self, change: Change) {
        let mut next = self.latest().clone();
        next.num += 1;
        match change {
            Change::Join(groups) => {
                next.groups.extend(groups);
                rebalance(&mut next.shards, &next.groups);
            }
            Change::Leave(gids) => {
                for gid in gids {
                    next.groups.remove(&gid);
                }
                rebalance(&mut next.shards, &next.groups);
            }
            Change::Move { shard, gid } => {
                if shard < NSHARDS {
                    next.shards[shard] = gid;
                }
            }
        }
        labrpc::annotate("config", format_args!("{next}"));
        self.configs.push(next);
    }
}

impl StateMachine for Configs {
    type Op = CtrlerOp;
    type Output = Option<Config>;

    fn apply(&mut self, op: CtrlerOp) -> Option<Config> {
        match op {
            CtrlerOp::Change { change, id } => {
                let last = self.last_change.entry(id.client).or_insert(0);
                if id.seq > *last {
                    *last = id.seq;
                    self.change(change);
                }
                None
            }
            CtrlerOp::Query { num } => {
                let config = match num {
                    Some(n) if n < self.configs.len() as u64 => &self.configs[n as usize],
                    _ => self.latest(),
                };
                Some(config.clone())
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self).expect("shardctrler: the configurations encode")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        *self = labrpc::codec::decode(snapshot)
            .unwrap_or_else(|e| panic!("shardctrler: a snapshot is not configurations: {e}"));
    }
}

/// One shard controller server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct ShardCtrler {
    rsm: Rsm<Configs>,
}

impl ShardCtrler {
    /// Starts controller server `me` of the controllers reached through `servers`
    /// (`servers[me]` is its own end), restoring what it saved in `persister`. The
    /// controller keeps every configuration, so it never snapshots. Returns at once.
    pub fn new(servers: Vec<ClientEnd>, me: usize, persister: Persister) -> ShardCtrler {
        ShardCtrler {
            rsm: Rsm::new(servers, me, persister, None, Configs::default()),
        }
    }

    /// The server's RPC services: the controller's `"ShardCtrler"` and its Raft's.
    pub fn services(&self) -> Vec<Service> {
        let (join, leave, moves, query) = (self.clone(), self.clone(), self.clone(), self.clone());
        let ctrler = Service::new("ShardCtrler")
            .method(move |args: JoinArgs| {
                let server = join.clone();
                async move { server.change(Change::Join(args.groups), args.id).await }
            })
            .method(move |args: LeaveArgs| {
                let server = leave.clone();
                async move { server.change(Change::Leave(args.gids), args.id).await }
            })
            .method(move |args: MoveArgs| {
                let server = moves.clone();
                let change = Change::Move {
                    shard: args.shard,
                    gid: args.gid,
                };
                async move { server.change(change, args.id).await }
            })
            .method(move |args: QueryArgs| {
                let server = query.clone();
                async move { server.query(args.num).await }
            });
        vec![ctrler, self.rsm.raft().service()]
    }

    /// This server's Raft.
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the server.
    pub fn kill(&self) {
        self.rsm.kill();
    }

    async fn change(&self, change: Change, id: RequestId) -> ChangeReply {
        let status = match self.submit(CtrlerOp::Change { change, id }).await {
            Some(_) => CtrlerStatus::Ok,
            None => CtrlerStatus::WrongLeader,
        };
        ChangeReply { status }
    }

    async fn query(&self, num: Option<u64>) -> QueryReply {
        match self.submit(CtrlerOp::Query { num }).await {
            Some(Some(config)) => QueryReply {
                status: CtrlerStatus::Ok,
                config,
            },
            _ => QueryReply {
                status: CtrlerStatus::WrongLeader,
                config: Config::default(),
            },
        }
    }

    /// Submits `op` and waits (at most [`SUBMIT_TIMEOUT`]) for its result; `None` if it
    /// failed, for whatever reason: the clerk should try elsewhere.
    async fn submit(&self, op: CtrlerOp) -> Option<Option<Config>> {
        match labrpc::timeout(SUBMIT_TIMEOUT, self.rsm.submit(op)).await {
            Ok(Ok(result)) => Some(result),
            Ok(Err(_)) | Err(labrpc::Elapsed) => None,
        }
    }
}
