//! A sharded key/value server: one replica of one group. Its handlers submit clients'
//! requests to the group's log; its background task, on the group's leader, follows the
//! controller's configurations one by one and moves shards in and out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::join_all;
use kvraft::Rsm;
use labrpc::{ClientEnd, Dialer, Service};
use raft::{Persister, Raft};

use super::ctrler_client::CtrlerClerk;
use super::kv_rpc::{
    DeleteShardsArgs, DeleteShardsReply, GetArgs, GetReply, PullShardsArgs, PullShardsReply,
    PutAppendArgs, PutAppendReply, Status,
};
use super::kv_store::{Machine, OpResult, ShardOp, ShardState};
use crate::{Config, Gid, Observed};

/// How long a handler waits for its request to be applied before telling the caller to
/// try another server.
const SUBMIT_TIMEOUT: Duration = Duration::from_millis(500);

/// How often the group's leader asks the controller for the next configuration, and
/// retries the steps of a migration in progress (the course suggests about 100 ms).
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// One server of a replica group. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct ShardKv {
    inner: Arc<Inner>,
}

struct Inner {
    rsm: Rsm<Observed<Machine>>,
    /// The state the rsm applies the log to, read by the handlers and the background task.
    machine: Machine,
    /// Ends to other groups' servers, by name.
    dialer: Dialer,
    dead: AtomicBool,
}

impl ShardKv {
    /// Starts server `me` of group `gid`, reached through `servers` (`servers[me]` is its
    /// own end), restoring what it saved in `persister`; it snapshots whenever its saved
    /// Raft state reaches `maxraftstate` bytes (never with `None`). It asks the controller
    /// (through `ctrlers`) for configurations, and reaches other groups' servers through
    /// `dialer`. Returns at once.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        gid: Gid,
        ctrlers: Vec<ClientEnd>,
        dialer: Dialer,
    ) -> ShardKv {
        let machine = Machine::new(gid);
        let rsm = Rsm::new(
            servers,
            me,
            persister,
            maxraftstate,
            Observed::new(machine.clone()),
        );
        let server = ShardKv {
            inner: Arc::new(Inner {
                rsm,
                machine,
                dialer,
                dead: AtomicBool::new(false),
            }),
        };
        labrpc::spawn(
            server
                .clone()
                .follow_configurations(CtrlerClerk::new(ctrlers)),
        );
        server
    }

    /// The server's RPC services: `"ShardKV"` and its Raft's.
    pub fn services(&self) -> Vec<Service> {
        let (get, put_append, pull, delete) =
            (self.clone(), self.clone(), self.clone(), self.clone());
        let kv = Service::new("ShardKV")
            .method(move |args: GetArgs| {
                let server = get.clone();
                async move { server.get(args).await }
            })
            .method(move |args: PutAppendArgs| {
                let server = put_append.clone();
                async move { server.put_append(args).await }
            })
            .method(move |args: PullShardsArgs| {
                let server = pull.clone();
                async move { server.pull_shards(args) }
            })
            .method(move |args: DeleteShardsArgs| {
                let server = delete.clone();
                async move { server.delete_shards(args).await }
            });
        vec![kv, self.inner.rsm.raft().service()]
    }

    /// This server's Raft.
    pub fn raft(&self) -> &Raft {
        self.inner.rsm.raft()
    }

    /// Stops the server.
    pub fn kill(&self) {
        self.inner.dead.store(true, Ordering::SeqCst);
        self.inner.rsm.kill();
    }

    async fn get(&self, args: GetArgs) -> GetReply {
        let result = self
            .submit_for(&args.key.clone(), ShardOp::Get { key: args.key })
            .await;
        GetReply {
            status: result.status,
            value: result.value,
        }
    }

    async fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        let op = ShardOp::Write {
            key: args.key.clone(),
            value: args.value,
            kind: args.kind,
            id: args.id,
        };
        let result = self.submit_for(&args.key, op).await;
        PutAppendReply {
            status: result.status,
        }
    }

    /// Submits a client's `op` on `key`, unless this server already knows its group does
    /// not serve the key's shard (the apply checks again: what the group serves may
    /// change before the operation commits).
    async fn submit_for(&self, key: &str, op: ShardOp) -> OpResult {
        if !self.inner.machine.read(|shards| shards.serves(key)) {
            return OpResult {
                status: Status::ErrWrongGroup,
                value: String::new(),
            };
        }
        self.submit(op).await
    }

    /// Submits `op` and waits (at most [`SUBMIT_TIMEOUT`]) for its result. Every failure
    /// reads as `ErrWrongLeader`: whatever happened, the caller should try elsewhere.
    async fn submit(&self, op: ShardOp) -> OpResult {
        match labrpc::timeout(SUBMIT_TIMEOUT, self.inner.rsm.submit(op)).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(labrpc::Elapsed) => OpResult {
                status: Status::ErrWrongLeader,
                value: String::new(),
            },
        }
    }

    /// A new owner pulls shards. Any server of this group that has applied configuration
    /// `num` may answer, leader or not: a copy offered in `num` is frozen (writes to it
    /// are refused from `num` on), so every server that reached `num` holds the same one.
    fn pull_shards(&self, args: PullShardsArgs) -> PullShardsReply {
        match self
            .inner
            .machine
            .read(|shards| shards.offered(args.num, &args.shards))
        {
            Some(shards) => PullShardsReply {
                status: Status::Ok,
                shards,
            },
            None => PullShardsReply {
                status: Status::ErrNotReady,
                shards: Vec::new(),
            },
        }
    }

    /// The new owner installed the shards: delete the copies, through the log.
    async fn delete_shards(&self, args: DeleteShardsArgs) -> DeleteShardsReply {
        let result = self
            .submit(ShardOp::Delete {
                num: args.num,
                shards: args.shards,
            })
            .await;
        DeleteShardsReply {
            status: result.status,
        }
    }

    /// The background task: while this server leads its group, every [`POLL_INTERVAL`]
    /// take the next step. If every shard is settled, that is asking the controller for
    /// the next configuration and submitting it; otherwise it is pulling the shards this
    /// group waits for and confirming deletions, group by group, all at once (a group that
    /// cannot be reached must not hold up shards from the others).
    ///
    /// First, though, a new leader commits an entry of its own term: Raft commits entries
    /// of earlier terms only through one (§5.4.2), and until they are applied this
    /// server's state may be behind its own log (after a restart, it is its snapshot's).
    /// Acting on that state would wait for steps it has already taken, and nothing else
    /// may come to commit them: clients are turned away by the stale state.
    async fn follow_configurations(self, mut ctrler: CtrlerClerk) {
        let mut caught_up_in = None;
        while !self.inner.dead.load(Ordering::SeqCst) {
            let (term, leader) = self.raft().state();
            if leader && caught_up_in != Some(term) {
                if self.submit(ShardOp::Noop).await.status == Status::Ok {
                    caught_up_in = Some(term);
                }
            } else if leader {
                let (settled, num, pulling, confirming, prev) = self.inner.machine.read(|s| {
                    (
                        s.settled(),
                        s.config.num,
                        s.by_previous_owner(ShardState::Pulling),
                        s.by_previous_owner(ShardState::Confirming),
                        s.prev.clone(),
                    )
                });
                if settled {
                    if let Some(next) = ctrler.try_query(Some(num + 1), Some(1)).await
                        && next.num == num + 1
                    {
                        self.submit(ShardOp::Reconfigure(next)).await;
                    }
                } else {
                    let pulls = pulling
                        .into_iter()
                        .map(|(gid, shards)| self.pull(&prev, gid, num, shards));
                    let confirms = confirming
                        .into_iter()
                        .map(|(gid, shards)| self.confirm(&prev, gid, num, shards));
                    futures::future::join(join_all(pulls), join_all(confirms)).await;
                }
            }
            labrpc::sleep(POLL_INTERVAL).await;
        }
    }

    /// Asks group `gid`'s servers (as `prev` names them) for `shards` of configuration
    /// `num`, and installs them through the log.
    async fn pull(&self, prev: &Config, gid: Gid, num: u64, shards: Vec<usize>) {
        let args = PullShardsArgs { num, shards };
        let ok = |reply: &PullShardsReply| reply.status == Status::Ok;
        if let Some(reply) = self.ask_group(prev, gid, &args, ok).await {
            self.submit(ShardOp::Install {
                num,
                shards: reply.shards,
            })
            .await;
        }
    }

    /// Tells group `gid` that this group has installed `shards` of configuration `num`;
    /// once it has deleted them, notes so through the log.
    async fn confirm(&self, prev: &Config, gid: Gid, num: u64, shards: Vec<usize>) {
        let args = DeleteShardsArgs {
            num,
            shards: shards.clone(),
        };
        let ok = |reply: &DeleteShardsReply| reply.status == Status::Ok;
        if self.ask_group(prev, gid, &args, ok).await.is_some() {
            self.submit(ShardOp::Confirmed { num, shards }).await;
        }
    }

    /// Sends `args` to each server of group `gid` in `config` once, until one gives a
    /// reply `done` accepts.
    async fn ask_group<R: labrpc::Rpc>(
        &self,
        config: &Config,
        gid: Gid,
        args: &R,
        done: impl Fn(&R::Reply) -> bool,
    ) -> Option<R::Reply> {
        let servers: Vec<ClientEnd> = config
            .groups
            .get(&gid)
            .map(|names| {
                names
                    .iter()
                    .map(|name| self.inner.dialer.end(name))
                    .collect()
            })
            .unwrap_or_default();
        let mut first = 0;
        super::request::call_until(&servers, &mut first, args, done, Some(1)).await
    }
}
