//! The controller's clerk: how the tester (Join, Leave, Move) and the key/value groups and
//! their clerks (Query) reach the controller. It is written, as in the course, except for
//! what the servers need to recognise a retried request.

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::{ClientEnd, Rpc};

use super::common::{ChangeReply, JoinArgs, LeaveArgs, MoveArgs, QueryArgs, Status};
use crate::{Config, Gid};

/// How long the clerk pauses after every server turned it away, before it tries them all
/// again (during an election there is no leader to find).
pub(super) const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A client of the shard controller. It sends one request at a time, retrying it across
/// the controller's servers until one carries it out.
pub struct CtrlerClerk {
    /// `servers[i]` reaches controller server `i`.
    servers: Vec<ClientEnd>,
    // Your data here: whatever the servers need to recognise a retried request (and,
    // if you like, which server led last time).
}

impl CtrlerClerk {
    /// A clerk that reaches controller server `i` through `servers[i]`.
    pub fn new(servers: Vec<ClientEnd>) -> CtrlerClerk {
        // Your code here.
        CtrlerClerk { servers }
    }

    /// Configuration `num`, or the latest if `num` is `None` or past the latest (the
    /// course's `Query(-1)`). Keeps trying until it succeeds.
    pub async fn query(&mut self, num: Option<u64>) -> Config {
        self.try_query(num, None)
            .await
            .expect("without a limit, tries until it succeeds")
    }

    /// [`CtrlerClerk::query`], giving up (`None`) after asking every server `rounds` times,
    /// or never if `rounds` is `None`. For a group's background task, which must not wait
    /// forever on an unreachable controller while it has other work.
    pub async fn try_query(&mut self, num: Option<u64>, rounds: Option<usize>) -> Option<Config> {
        let args = QueryArgs { num };
        // Your code here, if you added fields to `QueryArgs`.
        let reply = self
            .call(&args, |reply| reply.status == Status::Ok, rounds)
            .await;
        reply.map(|reply| reply.config)
    }

    /// Adds groups (gid → its servers' names) and rebalances. Keeps trying until it
    /// succeeds.
    pub async fn join(&mut self, groups: BTreeMap<Gid, Vec<String>>) {
        let args = JoinArgs { groups };
        // Your code here.
        self.call(&args, done, None).await;
    }

    /// Removes groups and gives their shards to the others. Keeps trying until it
    /// succeeds.
    pub async fn leave(&mut self, gids: &[Gid]) {
        let args = LeaveArgs {
            gids: gids.to_vec(),
        };
        // Your code here.
        self.call(&args, done, None).await;
    }

    /// Assigns `shard` to group `gid` (the course's `Move`; `move` is a Rust keyword).
    /// Keeps trying until it succeeds.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        let args = MoveArgs { shard, gid };
        // Your code here.
        self.call(&args, done, None).await;
    }

    /// Sends `args` to each server in turn until one gives a reply that `ok` accepts;
    /// after each round, pauses [`RETRY_PAUSE`]. Gives up after `rounds` rounds, or never
    /// if `None`.
    async fn call<R: Rpc>(
        &mut self,
        args: &R,
        ok: impl Fn(&R::Reply) -> bool,
        rounds: Option<usize>,
    ) -> Option<R::Reply> {
        let mut round = 0;
        loop {
            // Try each known server.
            for server in &self.servers {
                if let Ok(reply) = server.call(args).await
                    && ok(&reply)
                {
                    return Some(reply);
                }
            }
            round += 1;
            if rounds.is_some_and(|rounds| round >= rounds) {
                return None;
            }
            labrpc::sleep(RETRY_PAUSE).await;
        }
    }
}

/// Whether a Join, Leave or Move was carried out.
fn done(reply: &ChangeReply) -> bool {
    reply.status == Status::Ok
}
