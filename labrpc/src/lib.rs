//! labrpc: a deterministic simulated world and a lossy RPC network for the Raft labs.
//!
//! Everything in a lab runs inside one simulated world, driven by one seed:
//!
//! - **Virtual time.** [`sleep`], [`timeout`] and every network delay use a virtual clock
//!   that jumps to the next timer whenever no task can run. A test that waits two seconds
//!   costs microseconds, and every time limit is exact whatever the machine's load.
//! - **One seed decides everything**: which ready task runs next, every network delay and
//!   drop, and every number lab code draws from [`rng`]. Same seed, same run, event for
//!   event; a failing test prints the command that replays it.
//! - **Nodes** ([`Node`](tester::Node)) are the simulated machines. Tasks belong to the node that spawned
//!   them; killing a node drops them all at once, like a real crash.
//! - **The network** ([`Network`]) reproduces the course's Go `labrpc`: ends and named
//!   servers, enabling and disabling ends (one-way partitions), unreliable delivery,
//!   long delays and long reordering with the course's exact numbers, and its counters.
//!   Every message is encoded (serde + postcard), so nodes share no memory.
//!
//! The crate has two sides. **Lab code** (a student's Raft or KV server) uses what the
//! crate root offers: [`spawn`], [`sleep`], [`now`], [`timeout`], [`rng`], the
//! [`ClientEnd`]s it was given and the [`Service`] it registers. **The tester** also uses
//! [`tester`]: it makes nodes and crashes them, builds and partitions the [`Network`],
//! and runs simulations. Lab code that reaches for a tester control panics with an
//! explanation, so it cannot, say, spawn a task that survives its own crash.
//!
//! [`Network`]: tester::Network
//!
//! Read [`runtime`] for what breaks determinism (`futures::select!`, `HashMap` iteration,
//! `std::time`, threads, OS randomness) and [`net`] for the fault model.
//!
//! # Example: a server called, partitioned and crashed
//!
//! ```
//! use std::time::Duration;
//! use labrpc::tester::{Network, Node, Server, Sim};
//! use labrpc::{Rpc, RpcError, Service};
//! use serde::{Deserialize, Serialize};
//!
//! /// The argument of `Counter.Add`; its reply is the new total.
//! #[derive(Serialize, Deserialize)]
//! struct AddArgs { amount: u64 }
//!
//! impl Rpc for AddArgs {
//!     type Reply = u64;
//!     const METHOD: &'static str = "Counter.Add";
//! }
//!
//! Sim::new(42).run(async {
//!     let net = Network::new();
//!     net.set_long_delays(true); // calls on dead ends fail after up to 7 s, as in the Raft tests
//!
//!     // A node running a server with one service. Its state lives in the handler.
//!     let node = Node::new("S1");
//!     let total = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
//!     let service = Service::new("Counter").method(move |args: AddArgs| {
//!         let total = total.clone();
//!         async move {
//!             let ordering = std::sync::atomic::Ordering::SeqCst;
//!             total.fetch_add(args.amount, ordering) + args.amount
//!         }
//!     });
//!     net.add_server("S1", Server::on(node).with_service(service));
//!
//!     // A client end, connected and enabled.
//!     let client = net.make_end("client->S1");
//!     net.connect("client->S1", "S1");
//!     net.enable("client->S1", true);
//!     assert_eq!(client.call(&AddArgs { amount: 5 }).await, Ok(5));
//!
//!     // Partition: the call fails, after a delay (virtual: it costs no real time).
//!     net.enable("client->S1", false);
//!     let before = labrpc::now();
//!     assert_eq!(client.call(&AddArgs { amount: 1 }).await, Err(RpcError::Failed));
//!     assert!(before.elapsed() < Duration::from_secs(7));
//!
//!     // Heal it, and the server answers again.
//!     net.enable("client->S1", true);
//!     assert_eq!(client.call(&AddArgs { amount: 1 }).await, Ok(6));
//!
//!     // Crash: the node's tasks are gone and the server is off the network.
//!     node.kill();
//!     net.delete_server("S1");
//!     assert_eq!(client.call(&AddArgs { amount: 1 }).await, Err(RpcError::Failed));
//!     assert!(!node.is_alive());
//! });
//! ```
//!
//! # Running tests over seeds
//!
//! Wrap a test body in [`Sim::run_test`](tester::Sim::run_test): `LAB_SEED=n` replays seed `n`, `LAB_RUNS=k` runs
//! `k` seeds, `LAB_CHECK_DETERMINISM=1` runs each seed twice and compares the traces, and
//! `LAB_LOG=debug` prints logs stamped with virtual time and node.
//!
//! Every run also records what happened, with virtual timestamps (nodes starting and
//! crashing, the network's settings, the tester's events, and lab code's notes made with
//! [`annotate`]); a failing seed of [`Sim::run_test`](tester::Sim::run_test) is drawn as
//! an HTML timeline whose path ends its failure message (`LAB_VIS=always` draws passing
//! seeds too, `LAB_MESSAGES=1` adds the RPCs; the pages are made by the `timeline` crate,
//! re-exported as [`tester::timeline`]).
//!
//! ```
//! labrpc::tester::Sim::builder().run_test(|| async {
//!     labrpc::sleep(std::time::Duration::from_millis(10)).await;
//! });
//! ```

pub mod codec;
pub mod log;
pub mod net;
pub mod runtime;
pub mod tester;

// The guest API: what lab code may use. The tester's controls are in [`tester`].
pub use net::{ClientEnd, Dialer, Rpc, RpcError, Service};
pub use runtime::{
    Elapsed, Instant, JoinError, JoinHandle, SimRng, Sleep, YieldNow, annotate, in_simulation, now,
    rng, seed, sleep, sleep_until, spawn, timeout, yield_now,
};
