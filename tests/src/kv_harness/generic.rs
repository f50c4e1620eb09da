//! `GenericTest` and `GenericTestSpeed`, the course's workhorses for 3A and 3B, and the
//! checks on appended values.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::channel::oneshot;
use rand::RngExt;

use super::kv::KvConfig;
use super::{ELECTION_TIMEOUT, MAXRAFTSTATE};

/// What a `GenericTest` run does: the course's arguments.
#[derive(Clone, Copy, Debug)]
pub struct Generic {
    /// `"3A"` or `"3B"`, for the title.
    pub part: &'static str,
    /// Concurrent clients.
    pub clients: usize,
    /// Servers.
    pub servers: usize,
    /// The network drops and delays requests and replies.
    pub unreliable: bool,
    /// All servers are shut down and restarted after each round (persistence must work).
    pub crash: bool,
    /// The servers are split at random in two, again and again, while the clients run.
    pub partitions: bool,
    /// Whether servers snapshot (`maxraftstate` = [`MAXRAFTSTATE`]) or never do (the
    /// course's -1).
    pub snapshots: bool,
    /// Clients use random keys (and Puts): only the linearizability check can judge
    /// their Gets.
    pub random_keys: bool,
    /// Beyond the course (3X): the faults at the worst moments of [`WorstMoments`], while
    /// the clients run.
    pub worst: WorstMoments,
    /// Beyond the course (3C): what the servers' Rafts run; with the leader's no-op on,
    /// the servers serve Gets by ReadIndex.
    pub options: raft::Options,
}

/// Faults beyond the course's model, for part 3X. All off in every parity test, where
/// they change nothing (not even a random draw).
#[derive(Clone, Copy, Debug, Default)]
pub struct WorstMoments {
    /// Clerks' requests (`KV.Get`, `KV.PutAppend`) reach their server a second time, up to
    /// two seconds later, after the clerk has moved on to later requests.
    pub stale_requests: bool,
    /// A server crashes the instant its reply to a clerk leaves (the reply still goes),
    /// and is restarted from its persister up to half a second later.
    pub crash_after_reply: bool,
    /// Every 0.7–1 s, all servers are shut down and restarted within 100 ms, while the
    /// clients keep retrying.
    pub restarts_in_rounds: bool,
}

/// The clerk methods the 3X fault plans aim at.
const CLERK_METHODS: [&str; 2] = ["KV.Get", "KV.PutAppend"];

impl Generic {
    /// One client, five servers, no faults, no snapshots, own keys.
    pub const fn new(part: &'static str) -> Generic {
        Generic {
            part,
            clients: 1,
            servers: 5,
            unreliable: false,
            crash: false,
            partitions: false,
            snapshots: false,
            random_keys: false,
            worst: WorstMoments {
                stale_requests: false,
                crash_after_reply: false,
                restarts_in_rounds: false,
            },
            options: raft::Options::FIGURE_2,
        }
    }

    /// The course's title, e.g. `Test: unreliable net, restarts, many clients (3A)`.
    fn title(&self) -> String {
        let mut title = String::from("Test: ");
        if self.unreliable {
            title.push_str("unreliable net, ");
        }
        if self.crash {
            title.push_str("restarts, ");
        }
        if self.partitions {
            title.push_str("partitions, ");
        }
        if self.snapshots {
            title.push_str("snapshots, ");
        }
        if self.random_keys {
            title.push_str("random keys, ");
        }
        if self.worst.stale_requests {
            title.push_str("stale requests, ");
        }
        if self.worst.crash_after_reply {
            title.push_str("crashes after replies, ");
        }
        if self.worst.restarts_in_rounds {
            title.push_str("restarts mid-round, ");
        }
        title.push_str(if self.clients > 1 {
            "many clients"
        } else {
            "one client"
        });
        format!("{title} ({})", self.part)
    }

    /// `GenericTest`: three rounds of clients running for 5 s against the faults chosen,
    /// then checks that every client's appends are present, once each and in order, that
    /// the log stays small (with snapshots) or no snapshot exists (without), and finally
    /// that the whole history is linearizable.
    pub async fn run(self) {
        let maxraftstate = self.snapshots.then_some(MAXRAFTSTATE);
        let cfg = KvConfig::with_spares(
            self.servers,
            self.unreliable,
            maxraftstate,
            self.options,
            &[],
        );
        cfg.begin(&self.title());
        let all = cfg.cluster().all();
        let mut ck = cfg.make_client(&all, Some(0));

        for round in 0..3 {
            let done_clients = Arc::new(AtomicBool::new(false));
            let done_partitioner = Arc::new(AtomicBool::new(false));
            let mut counts = Vec::new();
            for cli in 0..self.clients {
                let (report, count) = oneshot::channel();
                counts.push(count);
                labrpc::spawn(self.client(cfg.clone(), cli, done_clients.clone(), report));
            }
            let partitioner = self.partitions.then(|| {
                let cfg = cfg.clone();
                let done = done_partitioner.clone();
                labrpc::spawn(async move {
                    // Let the clients do some operations without interruption.
                    labrpc::sleep(Duration::from_secs(1)).await;
                    partitioner(&cfg, &done).await;
                })
            });
            let restarter = self.worst.restarts_in_rounds.then(|| {
                let cfg = cfg.clone();
                let done = done_partitioner.clone();
                labrpc::spawn(async move { restarter(&cfg, &done).await })
            });
            self.worst.start(&cfg);
            labrpc::sleep(Duration::from_secs(5)).await;

            done_clients.store(true, Ordering::SeqCst);
            done_partitioner.store(true, Ordering::SeqCst);
            if let Some(restarter) = restarter {
                restarter.await.expect("the restarter finishes");
            }
            self.worst.stop(&cfg).await;

            if let Some(partitioner) = partitioner {
                partitioner.await.expect("the partitioner finishes");
                // A client may have submitted a request in a minority; it will not return
                // until that server learns that a new term has started.
                cfg.cluster().connect_all();
                labrpc::sleep(ELECTION_TIMEOUT).await;
            }

            if self.crash {
                for i in 0..self.servers {
                    cfg.cluster().shutdown_server(i);
                }
                labrpc::sleep(ELECTION_TIMEOUT).await;
                for i in 0..self.servers {
                    cfg.cluster().start_server(i);
                }
                cfg.cluster().connect_all();
            }

            for (i, count) in counts.into_iter().enumerate() {
                let appended = count.await.expect("every client reports its count");
                let value = ck.get(&i.to_string()).await;
                if !self.random_keys {
                    check_client_appends(i, &value, appended);
                }
            }

            if let Some(max) = maxraftstate {
                // After the servers processed every request and had time to checkpoint.
                let size = cfg.cluster().log_size();
                if size > 8 * max {
                    fail!("logs were not trimmed ({size} > 8*{max})");
                }
                // Beyond the course: a round's hundreds of operations take the Raft state
                // far past maxraftstate, so a test "with snapshots" that has none is not
                // one.
                cfg.cluster()
                    .require_a_snapshot(&format!("round {} of clients' operations", round + 1));
            } else {
                let size = cfg.cluster().snapshot_size();
                if size > 0 {
                    fail!("snapshot too large ({size}), should not be used when maxraftstate = -1");
                }
            }
        }

        cfg.history().check_linearizable();
        cfg.end();
    }

    /// One client of a round: appends (and, with random keys, puts) and gets until told to
    /// stop; then reports how many values it wrote.
    async fn client(
        self,
        cfg: KvConfig,
        cli: usize,
        done: Arc<AtomicBool>,
        report: oneshot::Sender<usize>,
    ) {
        let all = cfg.cluster().all();
        let mut ck = cfg.make_client(&all, Some(cli));
        let mut written = 0;
        // Only used with own keys: what the client's key must hold.
        let mut last = String::new();
        if !self.random_keys {
            ck.put(&cli.to_string(), &last).await;
        }
        while !done.load(Ordering::SeqCst) {
            let key = if self.random_keys {
                labrpc::rng().random_range(0..self.clients).to_string()
            } else {
                cli.to_string()
            };
            let value = format!("x {cli} {written} y");
            if labrpc::rng().random_range(0..1000) < 500 {
                ck.append(&key, &value).await;
                if !self.random_keys {
                    last.push_str(&value);
                }
                written += 1;
            } else if self.random_keys && labrpc::rng().random_range(0..1000) < 100 {
                // Only with random keys: a Put would break the check of own-key Gets.
                ck.put(&key, &value).await;
                written += 1;
            } else {
                let got = ck.get(&key).await;
                if !self.random_keys && got != last {
                    fail!("{}", wrong_value(&key, &last, &got));
                }
            }
        }
        let _ = report.send(written);
    }
}

impl WorstMoments {
    /// Turns this round's fault plans on.
    fn start(&self, cfg: &KvConfig) {
        if self.stale_requests {
            cfg.cluster()
                .stale_duplicates(&CLERK_METHODS, 300, 10..2000);
        }
        if self.crash_after_reply {
            cfg.cluster().crash_after_reply(&CLERK_METHODS, 20, 0..500);
        }
    }

    /// Turns the fault plans off, and waits until every server they crashed is back.
    async fn stop(&self, cfg: &KvConfig) {
        if self.stale_requests {
            cfg.cluster().stale_duplicates(&[], 0, 0..0);
        }
        if self.crash_after_reply {
            cfg.cluster().stop_crashing_after_reply();
            while cfg.cluster().restarts_pending() {
                labrpc::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Shuts every server down and restarts them all, every 0.7–1 s, until told to stop:
/// whatever a clerk was retrying when they went down reaches servers restored from their
/// snapshots and logs.
async fn restarter(cfg: &KvConfig, done: &AtomicBool) {
    let servers = cfg.cluster().n();
    loop {
        let ms = labrpc::rng().random_range(700..1000);
        labrpc::sleep(Duration::from_millis(ms)).await;
        if done.load(Ordering::SeqCst) {
            return;
        }
        for i in 0..servers {
            cfg.cluster().shutdown_server(i);
        }
        let ms = labrpc::rng().random_range(0..100);
        labrpc::sleep(Duration::from_millis(ms)).await;
        for i in 0..servers {
            cfg.cluster().start_server(i);
        }
        cfg.cluster().connect_all();
    }
}

/// Repartitions the servers at random every 1–1.2 s until told to stop.
async fn partitioner(cfg: &KvConfig, done: &AtomicBool) {
    while !done.load(Ordering::SeqCst) {
        let (p1, p2) = cfg.cluster().random_partition();
        cfg.cluster().partition(&p1, &p2);
        let ms = labrpc::rng().random_range(0..200);
        labrpc::sleep(ELECTION_TIMEOUT + Duration::from_millis(ms)).await;
    }
}

/// `GenericTestSpeed`: 1000 Appends by one client, one after another, must take at most
/// 100 ms / 3 each on average (at least three per heartbeat interval): a leader must not
/// wait for the next heartbeat to replicate. Virtual time, so the limit is exact.
pub async fn speed_test(part: &str, maxraftstate: Option<usize>) {
    const OPS: usize = 1000;
    let cfg = KvConfig::new(3, false, maxraftstate);
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);
    cfg.begin(&format!("Test: ops complete fast enough ({part})"));

    // Wait for the first op, so that a leader is elected and serving.
    ck.get("x").await;

    let start = labrpc::now();
    for i in 0..OPS {
        ck.append("x", &format!("x 0 {i} y")).await;
    }
    let elapsed = labrpc::now() - start;

    let value = ck.get("x").await;
    check_client_appends(0, &value, OPS);

    let per_op_limit = Duration::from_millis(100) / 3;
    let per_op = elapsed / OPS as u32;
    if per_op > per_op_limit {
        fail!("Operations completed too slowly {per_op:?}/op > {per_op_limit:?}/op");
    }
    if maxraftstate.is_some() {
        // Beyond the course: fast enough while snapshotting, not by never snapshotting.
        cfg.cluster().require_a_snapshot("1000 Appends");
    }
    cfg.end();
}

/// The course's "get wrong value" message for a client's Get of its own `key`, which
/// should have returned `wanted` (the client's own appends, `x <client> <j> y` each) and
/// returned `got`; beyond the course, it says first where the two part: the first element
/// missing, duplicated or foreign, or a value that is no value of this key at all.
pub fn wrong_value(key: &str, wanted: &str, got: &str) -> String {
    format!(
        "get wrong value, key {key}: {}.\nwanted:\n{wanted}\n, got\n{got}\n",
        first_difference(wanted, got)
    )
}

/// Where `got` departs from `wanted`, both concatenations of elements `x <client> <j> y`.
fn first_difference(wanted: &str, got: &str) -> String {
    let elements =
        |value: &str| -> Vec<String> { value.split_inclusive(" y").map(str::to_owned).collect() };
    let (wanted_elements, got_elements) = (elements(wanted), elements(got));
    if got.is_empty() {
        return format!(
            "got \"\" where {} appends were expected: another operation's result (a Put's \
             or Append's empty reply handed to this Get?), or the key read before any append \
             was applied (state lost in a restart or a snapshot?)",
            wanted_elements.len()
        );
    }
    if !got.starts_with('x') || !got.ends_with(" y") {
        return format!(
            "got a value that is not a list of this client's appends (it begins {:?}): \
             another key's value, or another operation's result",
            short(got)
        );
    }
    let common = wanted_elements
        .iter()
        .zip(&got_elements)
        .take_while(|(w, g)| w == g)
        .count();
    let position = common + 1;
    match (wanted_elements.get(common), got_elements.get(common)) {
        (Some(w), None) => format!(
            "got the first {common} of {} appends: the last {} missing, from {w:?} on (a \
             stale read: answered from a server that had not applied them, or a lost write)",
            wanted_elements.len(),
            wanted_elements.len() - common
        ),
        (None, Some(g)) => format!(
            "got every expected append, then {} more, from {g:?} on (an append applied twice, \
             or one this client never made)",
            got_elements.len() - common
        ),
        (Some(w), Some(g)) if got_elements[..common].contains(g) => format!(
            "element {position} is {g:?} again, a duplicate (an append applied twice: \
             duplicate detection), where {w:?} was expected"
        ),
        (Some(w), Some(g)) if !wanted_elements.contains(g) => format!(
            "element {position} is {g:?}, which this client never appended, where {w:?} was \
             expected (another client's or key's data)"
        ),
        (Some(w), Some(g)) => format!(
            "element {position} is {g:?} where {w:?} was expected: {w:?} is missing or out of \
             order (a lost write, or writes applied out of order)"
        ),
        (None, None) => "the two differ nowhere (a tester bug)".to_owned(),
    }
}

/// The first 40 characters of `text`, for a message.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// `checkClntAppends`: client `client`'s `count` appends (`x <client> <j> y`) are all in
/// `value`, once each, in order.
pub fn check_client_appends(client: usize, value: &str, count: usize) {
    let mut last_offset = None;
    for j in 0..count {
        let wanted = format!("x {client} {j} y");
        let Some(offset) = value.find(&wanted) else {
            fail!("{client} missing element {wanted} in Append result {value}");
        };
        if value.rfind(&wanted) != Some(offset) {
            fail!("duplicate element {wanted} in Append result");
        }
        if last_offset.is_some_and(|last| offset <= last) {
            fail!("wrong order for element {wanted} in Append result");
        }
        last_offset = Some(offset);
    }
}

/// `checkConcurrentAppends`: for each client `i`, its `counts[i]` appends are all in
/// `value`, once each, in order.
pub fn check_concurrent_appends(value: &str, counts: &[usize]) {
    for (client, &count) in counts.iter().enumerate() {
        check_client_appends(client, value, count);
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn names_the_first_difference() {
        let wanted = "x 0 0 yx 0 1 yx 0 2 y";
        assert!(first_difference(wanted, "").contains("another operation's result"));
        assert!(first_difference(wanted, "x 0 0 yx 0 1 y").contains("the last 1 missing"));
        assert!(first_difference(wanted, "x 0 0 yx 0 1 yx 0 1 yx 0 2 y").contains("a duplicate"));
        assert!(first_difference(wanted, "x 0 0 yx 1 0 yx 0 2 y").contains("never appended"));
        assert!(first_difference(wanted, "x 0 0 yx 0 2 y").contains("missing or out of order"));
        assert!(first_difference(wanted, "x 0 0 yx 0 1 yx 0 2 yx 0 3 y").contains("1 more"));
        assert!(first_difference(wanted, "hello").contains("not a list"));
    }
}
