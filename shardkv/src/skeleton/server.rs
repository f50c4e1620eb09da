//! A sharded key/value server (4B): one replica of one group. Its handlers submit
//! clients' requests to the group's log; a background task of yours, on the group's
//! leader, follows the controller's configurations and moves shards in and out.

use std::collections::BTreeMap;

use kvraft::{Rsm, StateMachine};
use labrpc::{ClientEnd, Dialer, Service};
use raft::{Persister, Raft};
use serde::{Deserialize, Serialize};

use super::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status};
use crate::{Config, Gid, GroupState, NSHARDS, Observed};

/// An operation in a group's log: a client's request, or a step of the group's own
/// (moving to the next configuration, installing a shard it received, ...).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Op {
    // Your definitions here.
}

/// The group's replicated state: everything every server of the group must agree on.
#[derive(Serialize, Deserialize)]
pub struct Store {
    /// This server's group.
    gid: Gid,
    /// The configuration the group has applied: it serves the shards this gives it (once
    /// their data is here). Configuration 0 at first, which gives it none.
    config: Config,
    /// Each shard's key/value pairs, by shard: shards move between groups whole.
    shards: BTreeMap<usize, BTreeMap<String, String>>,
    // Your definitions here: the duplicate table (per shard: it moves with the shard), and
    // where each shard stands in a migration.
}

impl Store {
    /// The state of a new server of group `gid`.
    fn new(gid: Gid) -> Store {
        Store {
            gid,
            config: Config::default(),
            shards: BTreeMap::new(),
        }
    }
}

/// What the tester reads of your state machine, after every operation it applies (see
/// `shardkv::Observed`): its shard monitor checks that no two groups serve a shard at once,
/// and that a clerk's operation succeeded only while some group said it served the shard.
impl GroupState for Store {
    fn applied_config(&self) -> (u64, [Gid; NSHARDS]) {
        (self.config.num, self.config.shards)
    }

    fn serves(&self, shard: usize) -> bool {
        // Your code here, once shards move: true exactly when applying a client's
        // operation on `shard` would carry it out (the configuration gives it to this
        // group, and its data has arrived).
        self.config.shards[shard] == self.gid
    }
}

impl StateMachine for Store {
    type Op = Op;
    /// What a request gets back; change it as you like.
    type Output = (Status, String);

    fn apply(&mut self, op: Op) -> (Status, String) {
        // Your code here. Check the shard again here, not only in the handler: the group
        // may apply a new configuration between the two.
        match op {}
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self).expect("the store encodes")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        *self = labrpc::codec::decode(snapshot)
            .unwrap_or_else(|e| panic!("shardkv: a snapshot is not a store: {e}"));
    }
}

/// One server of a replica group. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct ShardKv {
    rsm: Rsm<Observed<Store>>,
    /// The controller's servers: make a `CtrlerClerk::new(ctrlers)` for your background
    /// task (the course's `kv.mck = shardctrler.MakeClerk(kv.ctrlers)`).
    #[expect(
        dead_code,
        reason = "ask the controller for configurations; then delete this attribute"
    )]
    ctrlers: Vec<ClientEnd>,
    /// Makes ends to other groups' servers, by the names the configurations give them
    /// (`dialer.end(name)`, the course's `make_end`).
    #[expect(
        dead_code,
        reason = "reach other groups' servers to move shards; then delete this attribute"
    )]
    dialer: Dialer,
    // Your data here.
}

impl ShardKv {
    /// Starts server `me` of group `gid`, reached through `servers` (`servers[me]` is its
    /// own end), restoring what it saved in `persister` before a crash. With
    /// `maxraftstate = Some(n)` it must snapshot whenever its saved Raft state reaches `n`
    /// bytes; with `None` it never does. It asks the controller (through `ctrlers`) for
    /// configurations, and reaches other groups' servers through `dialer`. Must return at
    /// once: start long-running work with `labrpc::spawn`.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        gid: Gid,
        ctrlers: Vec<ClientEnd>,
        dialer: Dialer,
    ) -> ShardKv {
        // Your initialization code here: the background task that, on the leader, asks
        // the controller for the next configuration about every 100 ms and moves shards.
        ShardKv {
            // `Observed` passes everything through to the store; it lets the tester follow
            // which configuration your group applied and which shards it serves.
            rsm: Rsm::new(
                servers,
                me,
                persister,
                maxraftstate,
                Observed::new(Store::new(gid)),
            ),
            ctrlers,
            dialer,
        }
    }

    /// The server's RPC services: `"ShardKV"` and its Raft's. The tester adds them to the
    /// server's node. Add the methods your groups call on each other to move shards.
    pub fn services(&self) -> Vec<Service> {
        let (get, put_append) = (self.clone(), self.clone());
        let kv = Service::new("ShardKV")
            .method(move |args: GetArgs| {
                let server = get.clone();
                async move { server.get(args).await }
            })
            .method(move |args: PutAppendArgs| {
                let server = put_append.clone();
                async move { server.put_append(args).await }
            });
        vec![kv, self.rsm.raft().service()]
    }

    /// This server's Raft (the tester asks it who leads).
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the server. The tester calls it when it crashes the server, and on every
    /// server still running when a test ends.
    pub fn kill(&self) {
        self.rsm.kill();
        // Your code here, if desired: stop your background task.
    }

    async fn get(&self, _args: GetArgs) -> GetReply {
        // Your code here (4B): answer `ErrWrongGroup` if the configuration your group
        // applied does not give it the key's shard (or its data has not arrived yet);
        // otherwise submit the request to the rsm, with a timeout, and reply with its
        // result.
        GetReply {
            status: Status::ErrWrongLeader,
            value: String::new(),
        }
    }

    async fn put_append(&self, _args: PutAppendArgs) -> PutAppendReply {
        // Your code here (4B).
        PutAppendReply {
            status: Status::ErrWrongLeader,
        }
    }
}
