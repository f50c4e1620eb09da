//! A key/value server: the store, replicated by the rsm layer, and the RPC handlers that
//! submit clerks' requests to it.

use std::time::Duration;

use labrpc::{ClientEnd, Service};
use raft::{Persister, Raft};

use super::rpc::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status};
use super::store::{Op, OpResult, Store};
use crate::Rsm;
use crate::Watched;

/// How long a handler waits for its request to be applied before telling the clerk to try
/// another server. A leader cut off from the majority keeps its term and never learns that
/// it lost it, so without a limit its clerks would wait until the partition heals.
const SUBMIT_TIMEOUT: Duration = Duration::from_millis(500);

/// One key/value server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct KvServer {
    rsm: Rsm<Watched<Store>>,
    /// Gets are served by ReadIndex, without an entry in the log (part 3C).
    read_index: bool,
}

impl KvServer {
    /// Starts server `me` of the cluster reached through `servers` (`servers[me]` is this
    /// server's own end), restoring what it saved in `persister` before a crash. With
    /// `maxraftstate = Some(n)` it snapshots whenever its saved Raft state reaches `n`
    /// bytes; with `None` it never does. Returns at once.
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

    /// [`KvServer::new`], with a Raft started by `Raft::with_options(.., options)` (part
    /// 3C). With `options.noop_on_election`, which ReadIndex needs (dissertation §6.4),
    /// Gets are served by ReadIndex (`Rsm::read`) instead of through the log.
    pub fn with_options(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        options: raft::Options,
    ) -> KvServer {
        KvServer {
            rsm: Rsm::with_options(
                servers,
                me,
                persister,
                maxraftstate,
                Watched::new(Store::default()),
                options,
            ),
            read_index: options.noop_on_election,
        }
    }

    /// The server's RPC services: the key/value service `"KV"` and its Raft's.
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

    /// This server's Raft.
    pub fn raft(&self) -> &Raft {
        self.rsm.raft()
    }

    /// Stops the server.
    pub fn kill(&self) {
        self.rsm.kill();
    }

    async fn get(&self, args: GetArgs) -> GetReply {
        let result = if self.read_index {
            let read = self.rsm.read(|store| store.inner().get(&args.key));
            match labrpc::timeout(SUBMIT_TIMEOUT, read).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) | Err(labrpc::Elapsed) => OpResult {
                    status: Status::ErrWrongLeader,
                    value: String::new(),
                },
            }
        } else {
            self.submit(Op::Get { key: args.key }).await
        };
        GetReply {
            status: result.status,
            value: result.value,
        }
    }

    async fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        let result = self
            .submit(Op::Write {
                key: args.key,
                value: args.value,
                kind: args.kind,
                id: args.id,
            })
            .await;
        PutAppendReply {
            status: result.status,
        }
    }

    /// Submits `op` and waits (at most [`SUBMIT_TIMEOUT`]) for its result. Every failure
    /// reads as `ErrWrongLeader` to the clerk: whatever happened, it should try elsewhere.
    async fn submit(&self, op: Op) -> OpResult {
        match labrpc::timeout(SUBMIT_TIMEOUT, self.rsm.submit(op)).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(labrpc::Elapsed) => OpResult {
                status: Status::ErrWrongLeader,
                value: String::new(),
            },
        }
    }
}
