//! The course's own network tests (Go `labrpc/test_test.go`), ported to the simulated
//! network, plus tests of what the course's tests leave out: one-way partitions, several
//! services on one server, replaced servers, crashed nodes, exact counters and codec
//! errors.
//!
//! Where the Go tests wait on the real clock ("finishes within 30 ms"), these tests read
//! the virtual clock, so every bound is exact and independent of machine load. Where a
//! port differs from its Go test in other ways, `docs/fault-model.md`, section 4, says how.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use labrpc::codec::{self, Direction};
use labrpc::tester::{Network, Node, Server, Sim};
use labrpc::{ClientEnd, Rpc, RpcError, Service};
use serde::{Deserialize, Serialize};

// ----- Go's JunkServer, one Rust type per handler -----

/// `JunkServer.Handler2`: an integer in, `"handler2-<n>"` out.
#[derive(Serialize, Deserialize, Debug)]
struct Handler2(i64);

impl Rpc for Handler2 {
    type Reply = String;
    const METHOD: &'static str = "JunkServer.Handler2";
}

/// `JunkServer.Handler3`: sleeps 20 s, then answers its argument negated (TestKilled's
/// slow handler).
#[derive(Serialize, Deserialize, Debug)]
struct Handler3(i64);

impl Rpc for Handler3 {
    type Reply = i64;
    const METHOD: &'static str = "JunkServer.Handler3";
}

/// How long `Handler3` sleeps.
const HANDLER3_SLEEP: Duration = Duration::from_secs(20);

/// `JunkServer.Handler4`: a struct in, a struct out (Go: the pointer-argument handler).
#[derive(Serialize, Deserialize, Debug)]
struct JunkArgs {
    x: i64,
}

/// The reply of `Handler4`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct JunkReply {
    x: String,
}

impl Rpc for JunkArgs {
    type Reply = JunkReply;
    const METHOD: &'static str = "JunkServer.Handler4";
}

/// `JunkServer.Handler5`: a vector in, an option out (Go: the value-argument handler; here
/// a second, differently shaped argument type).
#[derive(Serialize, Deserialize, Debug)]
struct Handler5(Vec<u32>);

impl Rpc for Handler5 {
    type Reply = Option<u32>;
    const METHOD: &'static str = "JunkServer.Handler5";
}

/// `JunkServer.Handler6`: a string in, its length out.
#[derive(Serialize, Deserialize, Debug)]
struct Handler6(String);

impl Rpc for Handler6 {
    type Reply = usize;
    const METHOD: &'static str = "JunkServer.Handler6";
}

/// `JunkServer.Handler7`: `n` in, a string of `n` `'y'`s out.
#[derive(Serialize, Deserialize, Debug)]
struct Handler7(u64);

impl Rpc for Handler7 {
    type Reply = String;
    const METHOD: &'static str = "JunkServer.Handler7";
}

/// Go's `JunkServer` as a service.
fn junk_service() -> Service {
    Service::new("JunkServer")
        .method(|Handler2(x): Handler2| async move { format!("handler2-{x}") })
        .method(|Handler3(x): Handler3| async move {
            labrpc::sleep(HANDLER3_SLEEP).await;
            -x
        })
        .method(|JunkArgs { x }: JunkArgs| async move {
            JunkReply {
                x: format!("struct-{x}"),
            }
        })
        .method(|Handler5(v): Handler5| async move { v.into_iter().max() })
        .method(|Handler6(s): Handler6| async move { s.len() })
        .method(|Handler7(n): Handler7| async move { "y".repeat(n as usize) })
}

/// A server hosting `JunkServer` on a fresh node of the same name.
fn junk_server(net: &Network, name: &str) {
    net.add_server(
        name,
        Server::on(Node::new(name)).with_service(junk_service()),
    );
}

/// A new end, connected to `server` and enabled.
fn connected_end(net: &Network, end: &str, server: &str) -> ClientEnd {
    let client = net.make_end(end);
    net.connect(end, server);
    net.enable(end, true);
    client
}

// ----- a service that measures how many of its calls overlap -----

/// `Gauge.Hold`: holds the call for 10 ms, then answers its argument.
#[derive(Serialize, Deserialize, Debug)]
struct Hold(u32);

impl Rpc for Hold {
    type Reply = u32;
    const METHOD: &'static str = "Gauge.Hold";
}

/// How many `Hold` handlers run now, and at most so far.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

fn gauge_service(gauge: Arc<Gauge>) -> Service {
    Service::new("Gauge").method(move |Hold(x): Hold| {
        let gauge = gauge.clone();
        async move {
            let running = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(running, Ordering::SeqCst);
            labrpc::sleep(Duration::from_millis(10)).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            x
        }
    })
}

// ----- the course's tests -----

/// Go `TestBasic`.
#[test]
fn basic() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = connected_end(&net, "end1-99", "server99");
        let reply = end
            .call(&Handler2(111))
            .await
            .expect("a call on a reliable network must succeed");
        assert_eq!(reply, "handler2-111", "wrong reply from Handler2");
        assert_eq!(
            net.rpc_count("server99"),
            1,
            "per-server count after one call"
        );
        assert_eq!(net.total_rpcs(), 1, "total count after one call");
    });
}

/// Go `TestTypes`: one server answers RPCs of different argument and reply types.
#[test]
fn types() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = connected_end(&net, "end1-99", "server99");
        assert_eq!(
            end.call(&Handler2(-7)).await,
            Ok("handler2--7".to_string()),
            "integer argument, string reply"
        );
        assert_eq!(
            end.call(&JunkArgs { x: 3 }).await,
            Ok(JunkReply {
                x: "struct-3".into()
            }),
            "struct argument, struct reply"
        );
        assert_eq!(
            end.call(&Handler5(vec![4, 9, 2])).await,
            Ok(Some(9)),
            "vector argument, option reply"
        );
        assert_eq!(
            end.call(&Handler5(vec![])).await,
            Ok(None),
            "empty vector argument, None reply"
        );
        assert_eq!(
            end.call(&Handler6("hello".into())).await,
            Ok(5),
            "string argument, integer reply"
        );
        assert_eq!(
            net.rpc_count("server99"),
            5,
            "per-server count after 5 calls"
        );
    });
}

/// Go `TestDisconnect`: an end that is connected but not enabled gets no reply; once
/// enabled it does.
#[test]
fn disconnect() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = net.make_end("end1-99");
        net.connect("end1-99", "server99");
        assert!(!net.is_enabled("end1-99"), "a new end must start disabled");

        let sent = labrpc::now();
        let result = end.call(&Handler2(111)).await;
        assert_eq!(result, Err(RpcError::Failed), "a disabled end must fail");
        assert!(
            sent.elapsed() < Duration::from_millis(100),
            "without long delays a dead end fails within 0..100 ms, took {:?}",
            sent.elapsed()
        );
        assert_eq!(
            net.rpc_count("server99"),
            0,
            "a call on a disabled end must not reach the server"
        );

        net.enable("end1-99", true);
        assert!(net.is_enabled("end1-99"));
        assert_eq!(
            end.call(&Handler2(111)).await,
            Ok("handler2-111".to_string()),
            "the end must work once enabled"
        );
        assert_eq!(net.rpc_count("server99"), 1);
    });
}

/// An end may be connected to a server name before the server exists: calls fail until
/// it is added.
#[test]
fn server_added_after_connect() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let end = connected_end(&net, "end1-99", "server99");
        assert_eq!(
            end.call(&Handler2(1)).await,
            Err(RpcError::Failed),
            "a call to a server that does not exist must fail"
        );
        junk_server(&net, "server99");
        assert_eq!(
            end.call(&Handler2(1)).await,
            Ok("handler2-1".to_string()),
            "the call must succeed once the server is added"
        );
    });
}

/// Go `TestCounts`: 17 calls reach the server 17 times.
#[test]
fn counts() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = connected_end(&net, "end1-99", "server99");
        for i in 0..17 {
            let reply = end.call(&Handler2(i)).await.expect("reliable call");
            assert_eq!(reply, format!("handler2-{i}"));
        }
        assert_eq!(net.rpc_count("server99"), 17, "per-server count");
        assert_eq!(net.total_rpcs(), 17, "total count");
        assert_eq!(
            net.rpc_count("nobody"),
            0,
            "count of a server that does not exist"
        );
    });
}

/// Go `TestBytes`. Go bounds gob's sizes loosely ([4828, 6000] and [1800, 2500]); postcard's
/// sizes are simple enough to predict to the byte, so this asserts equality.
#[test]
fn bytes() {
    // A 288-character argument (Go's test string).
    const ARG_LEN: usize = 288;
    // postcard writes a String as a LEB128 varint length and then its UTF-8 bytes; 288 =
    // 0b10_0100000 needs two varint bytes (0xA0 0x02). A newtype struct encodes as its only
    // field. So one Handler6 request is 2 + 288 = 290 bytes, and its reply, the usize 288,
    // is a 2-byte varint.
    const HANDLER6_REQUEST: u64 = 2 + ARG_LEN as u64;
    const HANDLER6_REPLY: u64 = 2;
    // Handler7(107): the u64 107 < 128 is a 1-byte varint; the reply, 107 'y's, is a 1-byte
    // length plus 107 bytes.
    const REPLY_LEN: u64 = 107;
    const HANDLER7_REQUEST: u64 = 1;
    const HANDLER7_REPLY: u64 = 1 + REPLY_LEN;
    const CALLS: u64 = 17;

    // Check the derivation against the codec itself.
    let arg = "x".repeat(ARG_LEN);
    let size = |bytes: Result<Vec<u8>, _>| bytes.expect("encodable").len() as u64;
    assert_eq!(
        size(codec::encode(&Handler6(arg.clone()))),
        HANDLER6_REQUEST
    );
    assert_eq!(size(codec::encode(&ARG_LEN)), HANDLER6_REPLY);
    assert_eq!(size(codec::encode(&Handler7(REPLY_LEN))), HANDLER7_REQUEST);
    assert_eq!(
        size(codec::encode(&"y".repeat(REPLY_LEN as usize))),
        HANDLER7_REPLY
    );

    Sim::builder().run_test(move || {
        let arg = arg.clone();
        async move {
            let net = Network::new();
            junk_server(&net, "server99");
            let end = connected_end(&net, "end1-99", "server99");

            for _ in 0..CALLS {
                let reply = end.call(&Handler6(arg.clone())).await.expect("reliable");
                assert_eq!(reply, ARG_LEN, "Handler6 answers the argument's length");
            }
            let args_phase = net.total_bytes();
            assert_eq!(
                args_phase,
                CALLS * (HANDLER6_REQUEST + HANDLER6_REPLY),
                "bytes of {CALLS} calls with {ARG_LEN}-character arguments: \
                 {CALLS} × ({HANDLER6_REQUEST} request + {HANDLER6_REPLY} reply)"
            );

            for _ in 0..CALLS {
                let reply = end.call(&Handler7(REPLY_LEN)).await.expect("reliable");
                assert_eq!(reply.len() as u64, REPLY_LEN);
            }
            assert_eq!(
                net.total_bytes() - args_phase,
                CALLS * (HANDLER7_REQUEST + HANDLER7_REPLY),
                "bytes of {CALLS} calls with {REPLY_LEN}-byte replies: \
                 {CALLS} × ({HANDLER7_REQUEST} request + {HANDLER7_REPLY} reply)"
            );
        }
    });
}

/// Go `TestConcurrentMany`: 20 clients, each with its own end, running concurrently, each
/// making 10 calls one after another; all 200 succeed and reach the server.
#[test]
fn concurrent_many() {
    const CLIENTS: u32 = 20;
    const RPCS: u32 = 10;
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let gauge = Arc::new(Gauge::default());
        net.add_server(
            "server99",
            Server::on(Node::new("server99")).with_service(gauge_service(gauge.clone())),
        );
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let net = net.clone();
                labrpc::spawn(async move {
                    let end = connected_end(&net, &format!("end-{i}"), "server99");
                    let mut n = 0;
                    for j in 0..RPCS {
                        let arg = i * 100 + j;
                        let reply = end.call(&Hold(arg)).await;
                        assert_eq!(reply, Ok(arg), "wrong reply on end-{i}");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for client in clients {
            total += client.await.expect("client task cancelled");
        }
        assert_eq!(total, CLIENTS * RPCS, "calls that succeeded");
        assert_eq!(
            net.rpc_count("server99"),
            u64::from(CLIENTS * RPCS),
            "per-server count"
        );
        // The clients' first calls were all sent at time 0 and each handler holds for
        // 10 ms, so one call of every client was in its handler at once.
        assert_eq!(
            gauge.max.load(Ordering::SeqCst),
            CLIENTS as usize,
            "the 20 clients should have been served concurrently"
        );
    });
}

/// Go `TestUnreliable`: 300 clients each make one call on an unreliable network; some
/// succeed and some fail.
#[test]
fn unreliable() {
    const CLIENTS: i64 = 300;
    Sim::builder().run_test(|| async {
        let net = Network::new();
        net.set_reliable(false);
        junk_server(&net, "server99");
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let end = connected_end(&net, &format!("end-{i}"), "server99");
                labrpc::spawn(async move {
                    match end.call(&Handler2(i)).await {
                        Ok(reply) => {
                            assert_eq!(reply, format!("handler2-{i}"), "wrong reply");
                            true
                        }
                        Err(RpcError::Failed) => false,
                        Err(e) => panic!("unexpected error {e}"),
                    }
                })
            })
            .collect();
        let mut ok = 0;
        for client in clients {
            if client.await.expect("client task cancelled") {
                ok += 1;
            }
        }
        assert!(
            ok != CLIENTS && ok != 0,
            "{ok} of {CLIENTS} unreliable RPCs succeeded: expected some but not all"
        );
        assert_eq!(net.total_rpcs(), CLIENTS as u64, "every request is counted");
    });
}

/// Go `TestConcurrentOne`: 20 concurrent calls on one end all succeed.
#[test]
fn concurrent_one() {
    const CALLS: u32 = 20;
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let gauge = Arc::new(Gauge::default());
        net.add_server(
            "server99",
            Server::on(Node::new("server99")).with_service(gauge_service(gauge.clone())),
        );
        let end = connected_end(&net, "end1-99", "server99");
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let call = end.call(&Hold(100 + i));
                labrpc::spawn(async move { (100 + i, call.await) })
            })
            .collect();
        let mut total = 0;
        for call in calls {
            let (arg, reply) = call.await.expect("call task cancelled");
            assert_eq!(reply, Ok(arg), "wrong reply");
            total += 1;
        }
        assert_eq!(total, CALLS);
        assert_eq!(
            net.rpc_count("server99"),
            u64::from(CALLS),
            "per-server count"
        );
        assert_eq!(
            gauge.max.load(Ordering::SeqCst),
            CALLS as usize,
            "the calls on one end should have been served concurrently"
        );
    });
}

/// Go `TestRegression1` (long delays off, as in Go): calls made on a disabled end neither
/// reach the server once it is enabled nor hold up a new call.
#[test]
fn regression1() {
    Sim::builder().run_test(|| regression1_body(false));
}

/// Beyond the course: [`regression1`] with long delays on, so that the 20 calls on the
/// disabled end are still pending (up to 7 s) when the end is enabled again.
#[test]
fn regression1_with_long_delays() {
    Sim::builder().run_test(|| regression1_body(true));
}

/// The body of [`regression1`], with long delays on or off: a dead-end call fails within
/// 7 s or 0.1 s accordingly.
async fn regression1_body(long_delays: bool) {
    const PENDING: i64 = 20;
    let dead_end_limit = if long_delays {
        Duration::from_secs(7)
    } else {
        Duration::from_millis(100)
    };
    let net = Network::new();
    net.set_long_delays(long_delays);
    junk_server(&net, "server99");
    let end = net.make_end("end1-99");
    net.connect("end1-99", "server99");
    net.enable("end1-99", false);

    let start = labrpc::now();
    let pending: Vec<_> = (0..PENDING)
        .map(|i| {
            let call = end.call(&Handler2(100 + i));
            labrpc::spawn(async move { (call.await, labrpc::now()) })
        })
        .collect();
    labrpc::sleep(Duration::from_millis(100)).await;

    net.enable("end1-99", true);
    let t0 = labrpc::now();
    let reply = end.call(&Handler2(99)).await;
    let took = t0.elapsed();
    assert_eq!(
        reply,
        Ok("handler2-99".to_string()),
        "the call after enable"
    );
    assert!(
        took <= Duration::from_millis(30),
        "RPC took too long ({took:?}) after enable"
    );

    for call in pending {
        let (result, done) = call.await.expect("call task cancelled");
        assert_eq!(
            result,
            Err(RpcError::Failed),
            "a call made while the end was disabled must fail"
        );
        assert!(
            done - start < dead_end_limit,
            "a dead-end call (long delays {long_delays}) fails within {dead_end_limit:?}, \
             took {:?}",
            done - start
        );
    }
    assert_eq!(
        net.rpc_count("server99"),
        1,
        "only the call made after enable may reach the server"
    );
}

/// Go `TestKilled`: a handler that sleeps 20 s on a server that is deleted after 1 s: the
/// call fails when the server is deleted (Go notices within 100 ms; the simulation at
/// once).
#[test]
fn killed() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = connected_end(&net, "end1-99", "server99");
        let call = end.call(&Handler3(99));
        let mut call = labrpc::spawn(async move { (call.await, labrpc::now()) });

        labrpc::sleep(Duration::from_secs(1)).await;
        assert!(
            (&mut call).now_or_never().is_none(),
            "Handler3 should not have returned yet"
        );
        let deleted = labrpc::now();
        net.delete_server("server99");
        let (result, done) = call.await.expect("call task cancelled");
        assert_eq!(
            result,
            Err(RpcError::Failed),
            "Handler3 returned successfully despite delete_server"
        );
        let late = done - deleted;
        assert!(
            late < Duration::from_millis(1),
            "the call should fail the moment its server is deleted (Go: within 100 ms), \
             but it failed {late:?} later"
        );
        assert_eq!(
            net.rpc_count("server99"),
            0,
            "a deleted server has no count"
        );
    });
}

/// Killing the server's node while a handler runs fails the call at once; later calls to
/// the (still registered) dead server fail too.
#[test]
fn killed_node() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let node = Node::new("server99");
        net.add_server("server99", Server::on(node).with_service(junk_service()));
        let end = connected_end(&net, "end1-99", "server99");
        let call = end.call(&Handler3(99));
        let mut call = labrpc::spawn(async move { (call.await, labrpc::now()) });

        labrpc::sleep(Duration::from_secs(1)).await;
        assert!(
            (&mut call).now_or_never().is_none(),
            "Handler3 should not have returned yet"
        );
        let killed = labrpc::now();
        node.kill();
        assert!(!node.is_alive());
        let (result, done) = call.await.expect("call task cancelled");
        assert_eq!(
            result,
            Err(RpcError::Failed),
            "a call whose handler's node was killed must fail"
        );
        assert!(
            done - killed < Duration::from_millis(1),
            "the call should fail the moment the node is killed, but failed {:?} later",
            done - killed
        );

        let result = labrpc::timeout(Duration::from_secs(30), end.call(&Handler2(1))).await;
        assert_eq!(
            result,
            Ok(Err(RpcError::Failed)),
            "a call to a server whose node is dead must fail"
        );
    });
}

/// Disabling an end while its call is in a handler fails that call (Go's `isServerDead`
/// checks the end too), and only calls through that end.
#[test]
fn disable_during_handler() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let cut = connected_end(&net, "cut", "server99");
        let kept = connected_end(&net, "kept", "server99");
        let cut_call = cut.call(&Handler3(1));
        let cut_call = labrpc::spawn(async move { (cut_call.await, labrpc::now()) });
        let kept_call = kept.call(&Handler3(2));
        let kept_call = labrpc::spawn(async move { (kept_call.await, labrpc::now()) });

        labrpc::sleep(Duration::from_secs(1)).await;
        let disabled = labrpc::now();
        net.enable("cut", false);

        let (result, done) = cut_call.await.expect("call task cancelled");
        assert_eq!(result, Err(RpcError::Failed), "the disabled end's call");
        assert_eq!(done, disabled, "it fails the moment the end is disabled");

        let (result, done) = kept_call.await.expect("call task cancelled");
        assert_eq!(result, Ok(-2), "the other end's call is unaffected");
        assert_eq!(
            done.since_start(),
            HANDLER3_SLEEP,
            "it returns when the handler does"
        );
        assert_eq!(net.rpc_count("server99"), 2, "both reached the handler");
    });
}

/// A request already on the wire when its end is disabled still reaches the handler (its
/// effects stand), and the caller gets failure. Go's `processReq` reads the end's state
/// once, when the request arrives; after the unreliable 0..=26 ms delay it runs the
/// handler unconditionally, and only `isServerDead`, checked while and after the handler
/// runs, turns the reply into a failure (`docs/fault-model.md`, section 1, steps 2-4): a
/// partition does not recall messages already sent.
#[test]
fn request_in_flight_when_end_disabled_still_reaches_handler() {
    const CALLS: u32 = 270;
    Sim::builder().run_test(|| async {
        let net = Network::new();
        net.set_reliable(false);
        let entries = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let log = entries.clone();
        net.add_server(
            "server99",
            Server::on(Node::new("server99")).with_service(Service::new("Gauge").method(
                move |Hold(x): Hold| {
                    log.lock().push(labrpc::now());
                    async move { x }
                },
            )),
        );
        let end = connected_end(&net, "end1-99", "server99");
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let call = end.call(&Hold(i));
                labrpc::spawn(async move { (call.await, labrpc::now()) })
            })
            .collect();
        // Request delays are whole milliseconds: at 0.5 ms only the 0 ms ones have
        // arrived; the rest are on the wire.
        labrpc::sleep(Duration::from_micros(500)).await;
        let disabled = labrpc::now();
        net.enable("end1-99", false);

        let mut ok_after = 0;
        for call in calls {
            let (result, done) = call.await.expect("call task cancelled");
            if done > disabled && result.is_ok() {
                ok_after += 1;
            }
        }
        assert_eq!(
            ok_after, 0,
            "no call may succeed through an end disabled before its handler returned"
        );
        let after = entries.lock().iter().filter(|&&t| t > disabled).count();
        // Of 270 requests, about 270 × 26/27 × 0.9 ≈ 234 were on the wire and not lost
        // (standard deviation ≈ 5.6); Go runs every one of their handlers.
        assert!(
            after > (CALLS / 2) as usize,
            "only {after} of {CALLS} requests reached the handler after their end was \
             disabled in flight; Go delivers every request that was on the wire (about 234 \
             here) and fails only its reply"
        );
    });
}

/// A request, once sent, is the network's: in Go a request handed to the network reaches
/// the server even if its sender crashes the next moment. Here the unreliable request
/// delay (0..=26 ms) is spent by the network, not by the caller, so killing the sender's
/// node, or dropping the call's future, while requests are on the wire recalls none of
/// them: each is served, or lost with the usual 10% chance.
#[test]
fn requests_already_sent_survive_the_senders_crash_or_a_dropped_call() {
    const CALLS: u32 = 270;
    for drop_the_futures in [false, true] {
        Sim::builder().run_test(|| async {
            let net = Network::new();
            net.set_reliable(false);
            let served = Arc::new(AtomicUsize::new(0));
            let count = served.clone();
            net.add_server(
                "server99",
                Server::on(Node::new("server99")).with_service(Service::new("Gauge").method(
                    move |Hold(x): Hold| {
                        count.fetch_add(1, Ordering::SeqCst);
                        async move { x }
                    },
                )),
            );
            let end = connected_end(&net, "sender->99", "server99");
            let sender = Node::new("sender");
            let calls: Vec<_> = (0..CALLS)
                .map(|i| {
                    let call = end.call(&Hold(i));
                    sender.spawn(call)
                })
                .collect();
            // Every call has been polled once (sent); request delays are whole
            // milliseconds, so at 0.5 ms nearly all requests are still on the wire.
            labrpc::sleep(Duration::from_micros(500)).await;
            let arrived_before = served.load(Ordering::SeqCst);
            if drop_the_futures {
                calls.iter().for_each(labrpc::JoinHandle::abort);
            } else {
                sender.kill();
            }
            labrpc::sleep(Duration::from_millis(100)).await;
            let served = served.load(Ordering::SeqCst);
            // About 270 × 0.9 ≈ 243 requests are not lost (standard deviation ≈ 4.9).
            assert!(
                (210..=CALLS as usize).contains(&served),
                "{served} of {CALLS} requests reached the server ({arrived_before} before \
                 the sender {}); a request on the wire must still be delivered",
                if drop_the_futures {
                    "dropped its calls"
                } else {
                    "crashed"
                }
            );
            assert!(
                arrived_before < 30,
                "{arrived_before} arrived within 0.5 ms"
            );
        });
    }
}

/// Calling a method the server does not have is a loud error listing the ones it has.
#[test]
#[should_panic(expected = "unknown RPC method \"Kv.Append\" on server \"kv0\"; \
                           its methods are: Kv.Get, Kv.Put")]
fn unknown_method_panics() {
    Sim::new(1).run(async {
        let net = Network::new();
        net.add_server(
            "kv0",
            Server::on(Node::new("kv0")).with_service(kv_service()),
        );
        let end = connected_end(&net, "c->kv0", "kv0");
        let _ = end.call(&Append("k".into())).await;
    });
}

/// Calling a service the server does not host is a loud error listing its methods.
#[test]
#[should_panic(
    expected = "unknown RPC method \"JunkServer.Handler2\" on server \"kv0\"; \
                           its methods are: Kv.Get, Kv.Put"
)]
fn unknown_service_panics() {
    Sim::new(1).run(async {
        let net = Network::new();
        net.add_server(
            "kv0",
            Server::on(Node::new("kv0")).with_service(kv_service()),
        );
        let end = connected_end(&net, "c->kv0", "kv0");
        let _ = end.call(&Handler2(1)).await;
    });
}

/// An end connects once.
#[test]
#[should_panic(expected = "is already connected")]
fn end_connects_once() {
    Sim::new(1).run(async {
        let net = Network::new();
        let _end = net.make_end("e");
        net.connect("e", "server1");
        net.connect("e", "server2");
    });
}

/// End names are unique: a restarted server gets fresh ends.
#[test]
#[should_panic(expected = "an end named \"e\" already exists")]
fn end_names_are_unique() {
    Sim::new(1).run(async {
        let net = Network::new();
        let _first = net.make_end("e");
        let _second = net.make_end("e");
    });
}

/// Ends are one-way: disabling A->B cuts A's calls to B, not B's calls to A.
#[test]
fn one_way_partition() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "A");
        junk_server(&net, "B");
        let a_to_b = connected_end(&net, "A->B", "B");
        let b_to_a = connected_end(&net, "B->A", "A");
        net.enable("A->B", false);

        for i in 0..10 {
            assert_eq!(
                a_to_b.call(&Handler2(i)).await,
                Err(RpcError::Failed),
                "A->B is disabled: A's calls to B must fail"
            );
            assert_eq!(
                b_to_a.call(&Handler2(i)).await,
                Ok(format!("handler2-{i}")),
                "B->A is enabled: B's calls to A must succeed"
            );
        }
        assert_eq!(net.rpc_count("B"), 0, "nothing reached B");
        assert_eq!(net.rpc_count("A"), 10, "everything reached A");

        net.enable("A->B", true);
        assert_eq!(
            a_to_b.call(&Handler2(5)).await,
            Ok("handler2-5".to_string()),
            "A->B heals once enabled"
        );
    });
}

// ----- a second service, for servers hosting several -----

/// `Kv.Get`.
#[derive(Serialize, Deserialize, Debug)]
struct Get(String);

impl Rpc for Get {
    type Reply = Option<String>;
    const METHOD: &'static str = "Kv.Get";
}

/// `Kv.Put`.
#[derive(Serialize, Deserialize, Debug)]
struct Put(String, String);

impl Rpc for Put {
    type Reply = ();
    const METHOD: &'static str = "Kv.Put";
}

/// `Kv.Append`: never registered, to test unknown methods.
#[derive(Serialize, Deserialize, Debug)]
struct Append(String);

impl Rpc for Append {
    type Reply = ();
    const METHOD: &'static str = "Kv.Append";
}

/// A one-key store: `Get` answers the last `Put` value of that key.
fn kv_service() -> Service {
    let store = Arc::new(parking_lot::Mutex::new(Vec::<(String, String)>::new()));
    let reader = store.clone();
    Service::new("Kv")
        .method(move |Get(key): Get| {
            let value = reader
                .lock()
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone());
            async move { value }
        })
        .method(move |Put(key, value): Put| {
            store.lock().push((key, value));
            async {}
        })
}

/// A server may host several services (a KV server hosts its KV service and its Raft).
#[test]
fn server_with_two_services() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        net.add_server(
            "kv0",
            Server::on(Node::new("kv0"))
                .with_service(kv_service())
                .with_service(junk_service()),
        );
        let end = connected_end(&net, "c->kv0", "kv0");
        assert_eq!(end.call(&Put("a".into(), "1".into())).await, Ok(()));
        assert_eq!(end.call(&Get("a".into())).await, Ok(Some("1".into())));
        assert_eq!(end.call(&Get("b".into())).await, Ok(None));
        assert_eq!(
            end.call(&Handler2(4)).await,
            Ok("handler2-4".to_string()),
            "the second service answers too"
        );
        assert_eq!(net.rpc_count("kv0"), 4, "the count covers both services");
    });
}

/// `add_server` under an existing name replaces the server: calls the old one is serving
/// fail, and new calls reach the new one.
#[test]
fn add_server_replaces() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        junk_server(&net, "server99");
        let end = connected_end(&net, "end1-99", "server99");
        let call = end.call(&Handler3(7));
        let call = labrpc::spawn(async move { (call.await, labrpc::now()) });
        labrpc::sleep(Duration::from_secs(1)).await;
        assert_eq!(net.rpc_count("server99"), 1);

        // The new server answers Handler3 at once.
        let replaced = labrpc::now();
        net.add_server(
            "server99",
            Server::on(Node::new("server99'")).with_service(
                Service::new("JunkServer").method(|Handler3(x): Handler3| async move { x }),
            ),
        );
        let (result, done) = call.await.expect("call task cancelled");
        assert_eq!(
            result,
            Err(RpcError::Failed),
            "a call the replaced server was serving must fail"
        );
        assert_eq!(done, replaced, "it fails the moment the server is replaced");
        assert_eq!(
            net.rpc_count("server99"),
            0,
            "the new server has no calls yet"
        );

        assert_eq!(
            end.call(&Handler3(8)).await,
            Ok(8),
            "a new call reaches the new server"
        );
        assert_eq!(net.rpc_count("server99"), 1, "the new server's count");
    });
}

/// The counters, exactly: the total count includes lost requests and dead-end calls;
/// total bytes are every request's bytes plus the bytes of replies actually delivered;
/// the per-server count is the requests that reached a handler.
#[test]
fn counters_are_exact_on_an_unreliable_network() {
    const LIVE_CALLS: u32 = 2000;
    const DEAD_CALLS: u32 = 100;
    Sim::builder().run_test(|| async {
        // Hold(n) and its u32 reply are 1-byte varints for n < 128.
        let request_bytes = codec::encode(&Hold(5)).expect("encodable").len() as u64;
        let reply_bytes = codec::encode(&5u32).expect("encodable").len() as u64;
        assert_eq!((request_bytes, reply_bytes), (1, 1));

        let net = Network::new();
        net.set_reliable(false);
        net.set_long_reordering(true);
        let entered = Arc::new(AtomicUsize::new(0));
        let counter = entered.clone();
        net.add_server(
            "server99",
            Server::on(Node::new("server99")).with_service(Service::new("Gauge").method(
                move |Hold(x): Hold| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async move { x }
                },
            )),
        );
        let live = connected_end(&net, "live", "server99");
        let dead = net.make_end("dead");
        net.connect("dead", "server99");

        let calls: Vec<_> = (0..LIVE_CALLS)
            .map(|i| live.call(&Hold(i % 100)))
            .chain((0..DEAD_CALLS).map(|i| dead.call(&Hold(i % 100))))
            .map(labrpc::spawn)
            .collect();
        let mut delivered = 0u64;
        for call in calls {
            match call.await.expect("call task cancelled") {
                Ok(_) => delivered += 1,
                Err(RpcError::Failed) => {}
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        let sent = u64::from(LIVE_CALLS + DEAD_CALLS);
        assert_eq!(
            net.total_rpcs(),
            sent,
            "total count: every request, lost or on a dead end"
        );
        assert_eq!(
            net.rpc_count("server99"),
            entered.load(Ordering::SeqCst) as u64,
            "per-server count: requests that reached the handler"
        );
        assert!(
            net.rpc_count("server99") < u64::from(LIVE_CALLS),
            "some requests should have been lost"
        );
        assert!(delivered < net.rpc_count("server99"), "some replies lost");
        assert_eq!(
            net.total_bytes(),
            sent * request_bytes + delivered * reply_bytes,
            "total bytes: all {sent} requests plus the {delivered} replies delivered"
        );
    });
}

// ----- codec errors -----

/// The client's view of `Codec.Mismatch`: a string argument.
#[derive(Serialize, Deserialize, Debug)]
struct ClientArgs(String);

impl Rpc for ClientArgs {
    type Reply = u8;
    const METHOD: &'static str = "Codec.Mismatch";
}

/// The server's view of `Codec.Mismatch`: a one-byte argument, so the client's bytes
/// decode with bytes left over.
#[derive(Serialize, Deserialize, Debug)]
struct ServerArgs(u8);

impl Rpc for ServerArgs {
    type Reply = u8;
    const METHOD: &'static str = "Codec.Mismatch";
}

/// The client's view of `Codec.Reply`: it expects a struct holding a string.
#[derive(Serialize, Deserialize, Debug)]
struct ClientAsk(u32);

/// What the client expects `Codec.Reply` to answer.
#[derive(Serialize, Deserialize, Debug)]
struct ClientReply {
    text: String,
}

impl Rpc for ClientAsk {
    type Reply = ClientReply;
    const METHOD: &'static str = "Codec.Reply";
}

/// The server's view of `Codec.Reply`: it answers a bool, whose one byte (1) reads as a
/// string length with no string after it.
#[derive(Serialize, Deserialize, Debug)]
struct ServerAsk(u32);

impl Rpc for ServerAsk {
    type Reply = bool;
    const METHOD: &'static str = "Codec.Reply";
}

/// A type postcard cannot encode: `#[serde(flatten)]` serializes as a map of unknown
/// length.
#[derive(Serialize, Deserialize, Debug)]
struct Unencodable {
    #[serde(flatten)]
    inner: JunkArgs,
}

impl Rpc for Unencodable {
    type Reply = ();
    const METHOD: &'static str = "Codec.Unencodable";
}

fn codec_server(net: &Network) -> ClientEnd {
    net.add_server(
        "codec",
        Server::on(Node::new("codec")).with_service(
            Service::new("Codec")
                .method(|ServerArgs(x): ServerArgs| async move { x })
                .method(|_: ServerAsk| async move { true })
                .method(|_: Unencodable| async move {}),
        ),
    );
    connected_end(net, "c->codec", "codec")
}

/// Unwraps a codec error, failing the test on anything else.
fn codec_error<T: std::fmt::Debug>(result: Result<T, RpcError>) -> labrpc::codec::CodecError {
    match result {
        Err(RpcError::Codec(e)) => e,
        other => panic!("expected RpcError::Codec, got {other:?}"),
    }
}

/// Arguments the server cannot decode give a codec error naming the server's type and the
/// method.
#[test]
fn codec_error_in_arguments_names_type_and_method() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let end = codec_server(&net);
        let e = codec_error(end.call(&ClientArgs("hello".into())).await);
        assert_eq!(e.direction, Direction::Decode);
        assert!(
            e.type_name.ends_with("ServerArgs"),
            "the error names the type being decoded, got {:?}",
            e.type_name
        );
        assert_eq!(e.method, Some("Codec.Mismatch"));
        let text = RpcError::Codec(e).to_string();
        for needle in ["decode", "ServerArgs", "Codec.Mismatch", "left over"] {
            assert!(text.contains(needle), "{text:?} should mention {needle:?}");
        }
    });
}

/// A reply the client cannot decode gives a codec error naming the client's reply type
/// and the method.
#[test]
fn codec_error_in_reply_names_type_and_method() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let end = codec_server(&net);
        let e = codec_error(end.call(&ClientAsk(1)).await);
        assert_eq!(e.direction, Direction::Decode);
        assert!(
            e.type_name.ends_with("ClientReply"),
            "the error names the type being decoded, got {:?}",
            e.type_name
        );
        assert_eq!(e.method, Some("Codec.Reply"));
        let text = RpcError::Codec(e).to_string();
        for needle in ["decode", "ClientReply", "Codec.Reply"] {
            assert!(text.contains(needle), "{text:?} should mention {needle:?}");
        }
    });
}

/// Arguments that cannot be encoded give a codec error naming the type and the method,
/// and are never sent.
#[test]
fn codec_error_encoding_arguments_names_type_and_method() {
    Sim::builder().run_test(|| async {
        let net = Network::new();
        let end = codec_server(&net);
        let e = codec_error(
            end.call(&Unencodable {
                inner: JunkArgs { x: 1 },
            })
            .await,
        );
        assert_eq!(e.direction, Direction::Encode);
        assert!(
            e.type_name.ends_with("Unencodable"),
            "the error names the type being encoded, got {:?}",
            e.type_name
        );
        assert_eq!(e.method, Some("Codec.Unencodable"));
        let text = RpcError::Codec(e).to_string();
        for needle in ["encode", "Unencodable", "Codec.Unencodable"] {
            assert!(text.contains(needle), "{text:?} should mention {needle:?}");
        }
        assert_eq!(net.total_rpcs(), 0, "an unencodable request is never sent");
    });
}
