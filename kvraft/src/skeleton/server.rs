//! A key/value server: the store, replicated by your rsm layer, and the RPC handlers that
//! submit clerks' requests to it.

use std::collections::BTreeMap;

use labrpc::{ClientEnd, Service};
use raft::{Persister, Raft};
use serde::{Deserialize, Serialize};

use super::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status};
use super::rsm::Rsm;
use crate::{StateMachine, Watched};

/// An operation in Raft's log: what a server submits to the rsm for a clerk's request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Op {
    // Your definitions here: one variant per kind of request, with what applying it needs.
}

/// The replicated state: the data (and, for duplicate detection, whatever else every
/// server must agree on).
#[derive(Default, Serialize, Deserialize)]
pub struct Store {
    data: BTreeMap<String, String>,
    // Your definitions here.
}

impl StateMachine for Store {
    type Op = Op;
    /// What a request gets back; change it as you like.
    type Output = (Status, String);

    fn apply(&mut self, op: Op) -> (Status, String) {
        // Your code here.
        match op {}
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self).expect("the store encodes")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        *self = labrpc::codec::decode(snapshot)
            .unwrap_or_else(|e| panic!("kvraft: a snapshot is not a store: {e}"));
    }
}

/// One key/value server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct KvServer {
    rsm: Rsm<Watched<Store>>,
}

impl KvServer {
    /// Starts server `me` of the cluster reached through `servers` (`servers[me]` is this
    /// server's own end), restoring what it saved in `persister` before a crash. With
    /// `maxraftstate = Some(n)` it must snapshot whenever its saved Raft state reaches `n`
    /// bytes (3B); with `None` it never does. Must return at once.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> KvServer {
        KvServer::with_options(
            servers,
            me,
            persister,
            maxraftstate,
            raft::Options::FIGURE_2,
        )
    }

    /// [`KvServer::new`], with the Raft started by `Raft::with_options(.., options)` (part
    /// 3C, docs/lab-extensions.md). With `options.noop_on_election`, which ReadIndex needs,
    /// serve Gets with [`Rsm::read`] instead of through the log (3C).
    pub fn with_options(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        options: raft::Options,
    ) -> KvServer {
        // You may need initialization code here.
        KvServer {
            // `Watched` passes everything through to the store; it lets the tester compare
            // the stores of servers that applied the same operations. Keep it.
            rsm: Rsm::with_options(
                servers,
                me,
                persister,
                maxraftstate,
                Watched::new(Store::default()),
                options,
            ),
        }
    }

    /// The server's RPC services: the key/value service `"KV"` and its Raft's. The tester
    /// adds them to the server's node.
    pub fn services(&self) -> Vec<Service> {
        let get = self.clone();
        let put_append = self.clone();
        let kv = Service::new("KV")
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
        // Your code here, if desired.
    }

    async fn get(&self, _args: GetArgs) -> GetReply {
        // Your code here: submit the request to the rsm and reply with its result. Don't
        // wait forever: a leader cut off from the majority never learns it lost its term,
        // and its clerks should try another server (`labrpc::timeout`).
        GetReply {
            status: Status::ErrWrongLeader,
            value: String::new(),
        }
    }

    async fn put_append(&self, _args: PutAppendArgs) -> PutAppendReply {
        // Your code here.
        PutAppendReply {
            status: Status::ErrWrongLeader,
        }
    }
}
