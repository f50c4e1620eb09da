//! The clerk: how a client reaches the key/value service.

use std::time::Duration;

use labrpc::{ClientEnd, Rpc};
use rand::RngExt;

use super::rpc::{GetArgs, PutAppendArgs, RequestId, Status, WriteKind};

/// How long a clerk pauses after every server turned it away, before it tries them all
/// again: during an election there is no leader to find, and asking in a tight loop
/// would only load the network.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A client of the key/value service. It sends one request at a time, retrying it across
/// servers until one answers, and remembers which server led last time.
pub struct Clerk {
    servers: Vec<ClientEnd>,
    /// The server that answered last: probably still the leader.
    leader: usize,
    /// This clerk's identity in the servers' duplicate table.
    client: u64,
    /// The last request's sequence number.
    seq: u64,
}

impl Clerk {
    /// A clerk that reaches server `i` through `servers[i]`.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        Clerk {
            servers,
            leader: 0,
            client: labrpc::rng().random(),
            seq: 0,
        }
    }

    /// The current value of `key`, or `""` if it has none. Keeps trying until it succeeds.
    pub async fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_owned(),
            id: self.next_id(),
        };
        let reply = self
            .call(&args, |reply| reply.status != Status::ErrWrongLeader)
            .await;
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
            id: self.next_id(),
        };
        self.call(&args, |reply| reply.status == Status::Ok).await;
    }

    fn next_id(&mut self) -> RequestId {
        self.seq += 1;
        RequestId {
            client: self.client,
            seq: self.seq,
        }
    }

    /// Sends `args` to the likely leader, then to each server in turn, until one gives a
    /// reply that `done` accepts; pauses after every full round.
    async fn call<R: Rpc>(&mut self, args: &R, done: impl Fn(&R::Reply) -> bool) -> R::Reply {
        loop {
            for _ in 0..self.servers.len() {
                if let Ok(reply) = self.servers[self.leader].call(args).await
                    && done(&reply)
                {
                    return reply;
                }
                self.leader = (self.leader + 1) % self.servers.len();
            }
            labrpc::sleep(RETRY_PAUSE).await;
        }
    }
}
