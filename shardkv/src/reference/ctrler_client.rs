//! The controller's clerk: how the tester (Join, Leave, Move) and the key/value groups and
//! their clerks (Query) reach the controller.

use std::collections::BTreeMap;

use labrpc::ClientEnd;

use super::ctrler_rpc::{CtrlerStatus, JoinArgs, LeaveArgs, MoveArgs, QueryArgs};
use super::request::{Requests, call_until};
use crate::{Config, Gid};

/// A client of the shard controller. It sends one request at a time, retrying it across
/// the controller's servers until one answers.
pub struct CtrlerClerk {
    servers: Vec<ClientEnd>,
    /// The server that answered last: probably still the leader.
    leader: usize,
    requests: Requests,
}

impl CtrlerClerk {
    /// A clerk that reaches controller server `i` through `servers[i]`.
    pub fn new(servers: Vec<ClientEnd>) -> CtrlerClerk {
        CtrlerClerk {
            servers,
            leader: 0,
            requests: Requests::new(),
        }
    }

    /// Configuration `num`, or the latest if `num` is `None` or past the latest (the
    /// course's `Query(-1)`). Keeps trying until it succeeds.
    pub async fn query(&mut self, num: Option<u64>) -> Config {
        self.try_query(num, None)
            .await
            .expect("tries until it succeeds")
    }

    /// [`CtrlerClerk::query`], giving up after asking every server `rounds` times (for a
    /// server's background task, which must not wait forever on an unreachable
    /// controller while it has other work).
    pub async fn try_query(&mut self, num: Option<u64>, rounds: Option<usize>) -> Option<Config> {
        let ok = |reply: &super::ctrler_rpc::QueryReply| reply.status == CtrlerStatus::Ok;
        let args = QueryArgs { num };
        let reply = call_until(&self.servers, &mut self.leader, &args, ok, rounds).await;
        reply.map(|reply| reply.config)
    }

    /// Adds groups (gid → its servers' names) and rebalances. Keeps trying until it
    /// succeeds.
    pub async fn join(&mut self, groups: BTreeMap<Gid, Vec<String>>) {
        let args = JoinArgs {
            groups,
            id: self.requests.next(),
        };
        let ok = |reply: &super::ctrler_rpc::ChangeReply| reply.status == CtrlerStatus::Ok;
        call_until(&self.servers, &mut self.leader, &args, ok, None).await;
    }

    /// Removes groups and gives their shards to the others. Keeps trying until it
    /// succeeds.
    pub async fn leave(&mut self, gids: &[Gid]) {
        let args = LeaveArgs {
            gids: gids.to_vec(),
            id: self.requests.next(),
        };
        let ok = |reply: &super::ctrler_rpc::ChangeReply| reply.status == CtrlerStatus::Ok;
        call_until(&self.servers, &mut self.leader, &args, ok, None).await;
    }

    /// Assigns `shard` to group `gid` (the course's `Move`; `move` is a Rust keyword).
    /// Keeps trying until it succeeds.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        let args = MoveArgs {
            shard,
            gid,
            id: self.requests.next(),
        };
        let ok = |reply: &super::ctrler_rpc::ChangeReply| reply.status == CtrlerStatus::Ok;
        call_until(&self.servers, &mut self.leader, &args, ok, None).await;
    }
}
