//! The sharded service's clerk: finds the group that serves a key's shard from the
//! controller's latest configuration, and asks it. It is written, as in the course,
//! except for what the servers need to recognise a retried request.

use labrpc::{ClientEnd, Dialer, Rpc};

use super::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status, WriteKind};
use super::ctrler_client::{CtrlerClerk, RETRY_PAUSE};
use crate::{Config, key2shard};

/// A client of the sharded key/value service. The tester makes several, each used by one
/// task at a time: a clerk has at most one request outstanding.
pub struct Clerk {
    /// Asks the controller for configurations.
    ctrler: CtrlerClerk,
    /// The latest configuration this clerk knows (configuration 0 at first: no groups).
    config: Config,
    /// Makes ends to the groups' servers, by the names the configurations give them (the
    /// course's `make_end`).
    dialer: Dialer,
    // You will have to modify this struct: whatever the servers need to recognise a
    // retried request.
}

impl Clerk {
    /// A clerk that reaches the controller through `ctrlers` and the groups' servers
    /// through `dialer`.
    pub fn new(ctrlers: Vec<ClientEnd>, dialer: Dialer) -> Clerk {
        // You'll have to add code here.
        Clerk {
            ctrler: CtrlerClerk::new(ctrlers),
            config: Config::default(),
            dialer,
        }
    }

    /// The current value of `key`, or `""` if it has none. Keeps trying in the face of all
    /// other errors.
    pub async fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_owned(),
        };
        // You'll have to add code here, if you added fields to `GetArgs`.
        let reply = self.call(key, &args, |reply: &GetReply| reply.status).await;
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
        };
        // You'll have to add code here.
        self.call(key, &args, |reply: &PutAppendReply| reply.status)
            .await;
    }

    /// Sends `args` to the servers of the group that serves `key`'s shard, in turn, until
    /// one carries it out; after each round (or at once on `ErrWrongGroup`), pauses and
    /// asks the controller for the latest configuration.
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
                // Try each server of the shard's group.
                for name in names {
                    let server = self.dialer.end(name);
                    if let Ok(reply) = server.call(args).await {
                        match status(&reply) {
                            Status::Ok | Status::ErrNoKey => return reply,
                            Status::ErrWrongGroup => break,
                            // Try the next server.
                            Status::ErrWrongLeader => {}
                        }
                    }
                }
            }
            labrpc::sleep(RETRY_PAUSE).await;
            // Ask the controller for the latest configuration.
            self.config = self.ctrler.query(None).await;
        }
    }
}
