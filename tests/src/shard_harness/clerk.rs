//! The clerks as the tests use them: the controller's, listed while its calls run, and
//! the 4B ones, also counted and recorded in the history if the clerk records.

use std::collections::BTreeMap;

use labrpc::Instant;
use shardkv::{Clerk, Config, CtrlerClerk, Gid};

use super::waiting::Waiting;

use super::groups::ShardConfig;
use super::{NETWORK_LATENCY, fail};
use crate::kv_harness::history::{KvCall, nanos};

/// A controller clerk, as the tests use it.
pub struct TestCtrlerClerk {
    clerk: CtrlerClerk,
    waiting: Waiting,
}

impl TestCtrlerClerk {
    pub(super) fn new(clerk: CtrlerClerk, waiting: Waiting) -> TestCtrlerClerk {
        TestCtrlerClerk { clerk, waiting }
    }

    /// `Query(num)`, `Query(-1)` for `None`.
    pub async fn query(&mut self, num: Option<u64>) -> Config {
        let what = match num {
            Some(num) => format!("the tester's Query({num}) to the controller"),
            None => "the tester's Query(-1) to the controller".to_owned(),
        };
        self.waiting.on(what, self.clerk.query(num)).await
    }

    /// `Join(groups)`.
    pub async fn join(&mut self, groups: BTreeMap<Gid, Vec<String>>) {
        let what = format!(
            "the tester's Join({:?}) to the controller",
            groups.keys().collect::<Vec<_>>()
        );
        self.waiting.on(what, self.clerk.join(groups)).await;
    }

    /// `Leave(gids)`.
    pub async fn leave(&mut self, gids: &[Gid]) {
        let what = format!("the tester's Leave({gids:?}) to the controller");
        self.waiting.on(what, self.clerk.leave(gids)).await;
    }

    /// `Move(shard, gid)`.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        let what = format!("the tester's Move({shard}, {gid}) to the controller");
        self.waiting
            .on(what, self.clerk.move_shard(shard, gid))
            .await;
    }
}

/// A clerk of the sharded service, as the tests use it.
pub struct TestClerk {
    clerk: Clerk,
    config: ShardConfig,
    /// Its name in the timeline when it does not record (`ck7`).
    row: String,
    record_as: Option<usize>,
}

impl TestClerk {
    pub(super) fn new(
        clerk: Clerk,
        config: ShardConfig,
        row: String,
        record_as: Option<usize>,
    ) -> TestClerk {
        TestClerk {
            clerk,
            config,
            row,
            record_as,
        }
    }

    /// `Get`, recorded.
    pub async fn get(&mut self, key: &str) -> String {
        let call = labrpc::now();
        let what = format!("clerk {}'s Get({key:?})", self.row);
        let value = self
            .config
            .ctrlers()
            .waiting()
            .on(what, self.clerk.get(key))
            .await;
        self.done(KvCall::get(key, &value), call);
        value
    }

    /// `Put`, recorded.
    pub async fn put(&mut self, key: &str, value: &str) {
        let call = labrpc::now();
        let what = format!("clerk {}'s Put({key:?}, ..)", self.row);
        let put = self.clerk.put(key, value);
        self.config.ctrlers().waiting().on(what, put).await;
        self.done(KvCall::put(key, value), call);
    }

    /// `Append`, recorded.
    pub async fn append(&mut self, key: &str, value: &str) {
        let call = labrpc::now();
        let what = format!("clerk {}'s Append({key:?}, ..)", self.row);
        let append = self.clerk.append(key, value);
        self.config.ctrlers().waiting().on(what, append).await;
        self.done(KvCall::append(key, value), call);
    }

    /// `check(t, ck, key, value)`: a Get that must return `value`.
    pub async fn check(&mut self, key: &str, value: &str) {
        let got = self.get(key).await;
        if got != value {
            fail!("Get({key:?}): expected:\n{value:?}\nreceived:\n{got:?}");
        }
    }

    fn done(&self, call: KvCall, called_at: Instant) {
        if labrpc::now() == called_at {
            fail!(
                "the Clerk's {} returned at once, without asking any server (every request \
                 and reply takes {NETWORK_LATENCY:?} on the wire in these tests): the Clerk must \
                 send the request to the group that serves the key and return only once it \
                 has carried it out",
                call.name()
            );
        }
        let shard = shardkv::key2shard(call.key());
        if !self.config.served_since(shard, called_at) {
            fail!(
                "clerk {}'s {} returned at {}, but no group said it served the key's shard \
                 {shard} at any moment since the call (at {called_at}): the tester follows \
                 which shards each group serves through shardkv::GroupState::serves, which \
                 must say true exactly when applying a client's operation on the shard would \
                 carry it out",
                self.row,
                call.describe(),
                labrpc::now(),
            );
        }
        self.config.count_op();
        match self.record_as {
            Some(client) => self
                .config
                .history()
                .record(client, call, called_at, labrpc::now()),
            None => crate::events::op_on_row(self.row.clone(), nanos(called_at), call.describe()),
        }
    }
}
