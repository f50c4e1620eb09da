//! The sharded service's clerk: finds the group that serves a key's shard from the
//! controller's latest configuration, and asks it.

use std::collections::BTreeMap;

use labrpc::{ClientEnd, Dialer, Rpc};

use super::ctrler_client::CtrlerClerk;
use super::kv_rpc::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status, WriteKind};
use super::request::{RETRY_PAUSE, Requests};
use crate::{Config, Gid, key2shard};

/// A client of the sharded key/value service. It sends one request at a time, retrying it
/// until the group that serves the key's shard carries it out.
pub struct Clerk {
    ctrler: CtrlerClerk,
    /// The latest configuration this clerk knows.
    config: Config,
    dialer: Dialer,
    /// For each group, the server that answered last: probably its leader.
    leaders: BTreeMap<Gid, usize>,
    requests: Requests,
}

impl Clerk {
    /// A clerk that reaches the controller through `ctrlers` and the groups' servers
    /// through `dialer` (by the names the configurations give them).
    pub fn new(ctrlers: Vec<ClientEnd>, dialer: Dialer) -> Clerk {
        Clerk {
            ctrler: CtrlerClerk::new(ctrlers),
            config: Config::default(),
            dialer,
            leaders: BTreeMap::new(),
            requests: Requests::new(),
        }
    }

    /// The current value of `key`, or `""` if it has none. Keeps trying until it succeeds.
    pub async fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_owned(),
        };
        let reply: GetReply = self.call(key, &args, |reply: &GetReply| reply.status).await;
        reply.value
    }

    /// Sets `key` to `value`. Keeps trying until it succeeds.
    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, WriteKind::Put).await;
    }

    /// Appends `value` to `key`'s value (to `""` if it has none). Keeps trying until it
    /// succeeds.
    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, WriteKind::Append).await;
    }

    async fn put_append(&mut self, key: &str, value: &str, kind: WriteKind) {
        let args = PutAppendArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            kind,
            id: self.requests.next(),
        };
        let _: PutAppendReply = self
            .call(key, &args, |reply: &PutAppendReply| reply.status)
            .await;
    }

    /// Sends `args` to the servers of the group that serves `key`'s shard, in turn, until
    /// one carries it out; after each round (or at once if the group is the wrong one),
    /// pauses and asks the controller for the latest configuration.
    async fn call<R: Rpc>(
        &mut self,
        key: &str,
        args: &R,
        status: impl Fn(&R::Reply) -> Status,
    ) -> R::Reply {
        let shard = key2shard(key);
        loop {
            let gid = self.config.shards[shard];
            if let Some(names) = self.config.groups.get(&gid) {
                let leader = self.leaders.entry(gid).or_insert(0);
                for _ in 0..names.len() {
                    let end = self.dialer.end(&names[*leader % names.len()]);
                    if let Ok(reply) = end.call(args).await {
                        match status(&reply) {
                            Status::Ok | Status::ErrNoKey => return reply,
                            Status::ErrWrongGroup => break,
                            Status::ErrWrongLeader | Status::ErrNotReady => {}
                        }
                    }
                    *leader = (*leader + 1) % names.len();
                }
            }
            labrpc::sleep(RETRY_PAUSE).await;
            self.config = self.ctrler.query(None).await;
        }
    }
}
