//! The shard controller (4A): the sequence of configurations as a replicated state
//! machine, and the RPC handlers that submit clerks' requests to it.

use kvraft::{Rsm, StateMachine};
use labrpc::{ClientEnd, Service};
use raft::{Persister, Raft};
use serde::{Deserialize, Serialize};

use super::common::{ChangeReply, JoinArgs, LeaveArgs, MoveArgs, QueryArgs, QueryReply, Status};
use crate::Config;

/// An operation in the controller's log: what a server submits to the rsm for a clerk's
/// request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Op {
    // Your definitions here: Join, Leave, Move and Query, with what applying each needs
    // (and what duplicate detection needs).
}

/// The replicated state: every configuration so far (and, for duplicate detection,
/// whatever else every server must agree on).
#[derive(Serialize, Deserialize)]
pub struct Configs {
    /// `configs[n]` is configuration `n`. Never empty: configuration 0 has no groups and
    /// every shard in group 0.
    configs: Vec<Config>,
    // Your definitions here.
}

impl Default for Configs {
    fn default() -> Self {
        Configs {
            configs: vec![Config::default()],
        }
    }
}

impl StateMachine for Configs {
    type Op = Op;
    /// What a request gets back (the configuration asked for, for a Query); change it as
    /// you like.
    type Output = Option<Config>;

    fn apply(&mut self, op: Op) -> Option<Config> {
        // Your code here: a Join, Leave or Move copies the latest configuration, changes
        // the copy and pushes it, numbered one more; a Query returns a configuration.
        //
        // Rebalancing (after Join and Leave) runs on every server on its own, so it must
        // give the same result everywhere: go through groups in the order of a `BTreeMap`
        // (or a sorted `Vec`), never of a `HashMap`, and break ties by gid. Move as few
        // shards as possible. Make the next configuration from a `clone()` of the latest:
        // the earlier ones stay as they were (a Query of an old number returns it as it
        // was).
        match op {}
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self).expect("the configurations encode")
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
    // Your data here.
}

impl ShardCtrler {
    /// Starts controller server `me` of the controllers reached through `servers`
    /// (`servers[me]` is its own end), restoring what it saved in `persister` before a
    /// crash. The controller keeps every configuration, so it never snapshots. Must return
    /// at once.
    pub fn new(servers: Vec<ClientEnd>, me: usize, persister: Persister) -> ShardCtrler {
        // Your code here, if desired.
        ShardCtrler {
            rsm: Rsm::new(servers, me, persister, None, Configs::default()),
        }
    }

    /// The server's RPC services: the controller's `"ShardCtrler"` and its Raft's. The
    /// tester adds them to the server's node.
    pub fn services(&self) -> Vec<Service> {
        let (join, leave, moves, query) = (self.clone(), self.clone(), self.clone(), self.clone());
        let ctrler = Service::new("ShardCtrler")
            .method(move |args: JoinArgs| {
                let server = join.clone();
                async move { server.join(args).await }
            })
            .method(move |args: LeaveArgs| {
                let server = leave.clone();
                async move { server.leave(args).await }
            })
            .method(move |args: MoveArgs| {
                let server = moves.clone();
                async move { server.move_shard(args).await }
            })
            .method(move |args: QueryArgs| {
                let server = query.clone();
                async move { server.query(args).await }
            });
        vec![ctrler, self.rsm.raft().service()]
    }

    /// This server's Raft (the tester asks it who leads).
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the server. The tester calls it when it crashes the server, and on every
    /// server still running when a test ends.
    pub fn kill(&self) {
        self.rsm.kill();
        // Your code here, if desired.
    }

    async fn join(&self, _args: JoinArgs) -> ChangeReply {
        // Your code here (4A): submit the request to the rsm (`self.rsm.submit(op)`) and
        // reply with its result. Don't wait forever: a leader cut off from the majority
        // never learns it lost its term, and its clerks should try another server
        // (`labrpc::timeout`).
        ChangeReply {
            status: Status::ErrWrongLeader,
        }
    }

    async fn leave(&self, _args: LeaveArgs) -> ChangeReply {
        // Your code here (4A).
        ChangeReply {
            status: Status::ErrWrongLeader,
        }
    }

    async fn move_shard(&self, _args: MoveArgs) -> ChangeReply {
        // Your code here (4A).
        ChangeReply {
            status: Status::ErrWrongLeader,
        }
    }

    async fn query(&self, _args: QueryArgs) -> QueryReply {
        // Your code here (4A): through the log too, so that a Query sees every change
        // committed before it.
        QueryReply {
            status: Status::ErrWrongLeader,
            config: Config::default(),
        }
    }
}
