//! Servers, services and RPC methods.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{self, CodecError};
use crate::runtime::Node;
use crate::runtime::live::{LIVE, LiveToken};

/// An RPC: its argument type, reply type and method name.
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct RequestVoteArgs { term: u64, candidate: usize }
///
/// #[derive(Serialize, Deserialize)]
/// struct RequestVoteReply { term: u64, granted: bool }
///
/// impl labrpc::Rpc for RequestVoteArgs {
///     type Reply = RequestVoteReply;
///     const METHOD: &'static str = "Raft.RequestVote";
/// }
/// ```
pub trait Rpc: Serialize + DeserializeOwned + Send + 'static {
    /// What the handler answers.
    type Reply: Serialize + DeserializeOwned + Send + 'static;
    /// `"Service.Method"`, e.g. `"Raft.AppendEntries"`.
    const METHOD: &'static str;
}

/// A type-erased handler: request bytes in, reply bytes out.
type Handler =
    Arc<dyn Fn(Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, CodecError>> + Send + Sync>;

/// A named group of RPC handlers, like a Go receiver type registered with `MakeService`.
/// (Lab code builds it; the tester adds it to a [`Server`].)
pub struct Service {
    name: String,
    methods: BTreeMap<&'static str, Handler>,
}

impl Service {
    /// A service with no methods yet.
    pub fn new(name: impl Into<String>) -> Service {
        Service {
            name: name.into(),
            methods: BTreeMap::new(),
        }
    }

    /// Adds the handler of RPC `R`. Each call runs as a new task on the server's node.
    ///
    /// # Panics
    ///
    /// If `R::METHOD` is not `"<this service's name>.<method>"`, or is registered twice.
    pub fn method<R, F, Fut>(mut self, handler: F) -> Service
    where
        R: Rpc,
        F: Fn(R) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R::Reply> + Send + 'static,
    {
        let belongs = R::METHOD
            .split_once('.')
            .is_some_and(|(service, method)| service == self.name && !method.is_empty());
        assert!(
            belongs,
            "labrpc: RPC {:?} cannot be added to service {:?}: its METHOD must read \"{}.<Method>\"",
            R::METHOD,
            self.name,
            self.name
        );
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |request: Vec<u8>| {
            let handler = handler.clone();
            async move {
                let args: R = codec::decode(&request).map_err(|e| e.in_method(R::METHOD))?;
                let reply = handler(args).await;
                codec::encode(&reply).map_err(|e| e.in_method(R::METHOD))
            }
            .boxed()
        });
        let previous = self.methods.insert(R::METHOD, erased);
        assert!(
            previous.is_none(),
            "labrpc: RPC {} registered twice in service {}",
            R::METHOD,
            self.name
        );
        self
    }
}

/// A server: a set of services on one node, added to the network under a name. (Tester
/// side.)
///
/// A server may host several services (a KV server hosts its KV service and its Raft).
pub struct Server {
    node: Node,
    services: BTreeMap<String, Service>,
}

impl Server {
    /// A server whose handlers run on the current node.
    pub fn new() -> Server {
        Server::on(Node::current())
    }

    /// A server whose handlers run on `node`: killing the node kills the handlers.
    pub fn on(node: Node) -> Server {
        Server {
            node,
            services: BTreeMap::new(),
        }
    }

    /// Adds a service.
    ///
    /// # Panics
    ///
    /// If a service of that name is already there.
    pub fn add_service(&mut self, service: Service) {
        let name = service.name.clone();
        let previous = self.services.insert(name.clone(), service);
        assert!(previous.is_none(), "labrpc: service {name} added twice");
    }

    /// Adds a service, builder style.
    pub fn with_service(mut self, service: Service) -> Server {
        self.add_service(service);
        self
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

/// A server once it is on the network.
pub(crate) struct ServerCore {
    pub(crate) name: String,
    pub(crate) node: Node,
    services: BTreeMap<String, Service>,
    /// Every method of every service, by its full name (`"Raft.AppendEntries"`): a server
    /// has a handful, and a scan that first compares the names' addresses costs less on
    /// every call than two map lookups by string.
    handlers: Vec<(&'static str, Handler)>,
    /// Requests that reached a handler (the course's per-server count).
    pub(crate) count: AtomicU64,
    _live: LiveToken,
}

impl ServerCore {
    pub(crate) fn new(name: String, server: Server) -> ServerCore {
        let handlers = server
            .services
            .values()
            .flat_map(|service| service.methods.iter())
            .map(|(&method, handler)| (method, handler.clone()))
            .collect();
        ServerCore {
            name,
            node: server.node,
            services: server.services,
            handlers,
            count: AtomicU64::new(0),
            _live: LiveToken::new(&LIVE.servers),
        }
    }

    /// Starts the handler of `method` on `request`.
    ///
    /// # Panics
    ///
    /// If the server has no such method: that is a bug in the caller, reported loudly with
    /// the methods that do exist.
    pub(crate) fn dispatch(
        &self,
        method: &'static str,
        request: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, CodecError>> {
        self.count.fetch_add(1, Ordering::Relaxed);
        // The same name from the same `Rpc` impl is almost always the same string in
        // memory; the comparison of the text is the fallback.
        let same_place = |&&(name, _): &&(&'static str, Handler)| std::ptr::eq(name, method);
        let same_text = |&&(name, _): &&(&'static str, Handler)| name == method;
        let handler = self
            .handlers
            .iter()
            .find(same_place)
            .or_else(|| self.handlers.iter().find(same_text))
            .map(|(_, handler)| handler);
        match handler {
            Some(handler) => handler(request),
            None => panic!(
                "labrpc: unknown RPC method {method:?} on server {:?}; its methods are: {}",
                self.name,
                self.method_names().join(", ")
            ),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        let names: Vec<&'static str> = self
            .services
            .values()
            .flat_map(|s| s.methods.keys().copied())
            .collect();
        if names.is_empty() {
            vec!["(none)"]
        } else {
            names
        }
    }
}
