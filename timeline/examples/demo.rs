//! Writes the timeline page of a synthetic run, to look at the page by hand.
//!
//! ```text
//! cargo run -p timeline --example demo -- /tmp/demo.html          # a short eventful run
//! cargo run -p timeline --example demo -- /tmp/long.html --long   # 10 minutes, ~100k marks
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use timeline::{Event, Kind, Nanos, Recording, html};

const MS: Nanos = 1_000_000;
const SECOND: Nanos = 1000 * MS;

/// Builds a recording event by event; events are sorted by time at the end.
struct Demo {
    rec: Recording,
}

impl Demo {
    fn new(test: &str, seed: u64) -> Demo {
        Demo {
            rec: Recording {
                test: test.into(),
                seed,
                nodes: vec!["tester".into()],
                ..Recording::default()
            },
        }
    }

    fn push(&mut self, at: Nanos, node: u32, kind: Kind) {
        self.rec.events.push(Event { at, node, kind });
    }

    /// The latest node named `name`.
    fn node(&self, name: &str) -> u32 {
        self.rec
            .nodes
            .iter()
            .rposition(|n| n == name)
            .expect("a started server") as u32
    }

    fn start(&mut self, at: Nanos, name: &str) {
        self.rec.nodes.push(name.into());
        let node = self.rec.nodes.len() as u32 - 1;
        self.push(at, node, Kind::Start);
    }

    fn crash(&mut self, at: Nanos, name: &str) {
        let node = self.node(name);
        self.push(at, node, Kind::Crash);
    }

    fn note(&mut self, at: Nanos, name: &str, topic: &str, text: impl Into<String>) {
        let node = self.node(name);
        let (topic, text) = (topic.into(), text.into());
        self.push(at, node, Kind::Annotation { topic, text });
    }

    fn tester(&mut self, at: Nanos, kind: Kind) {
        self.push(at, 0, kind);
    }

    fn phase(&mut self, at: Nanos, text: &str) {
        self.tester(at, Kind::Phase { text: text.into() });
    }

    fn check(&mut self, at: Nanos, text: impl Into<String>, passed: bool) {
        let text = text.into();
        self.tester(at, Kind::Check { text, passed });
    }

    fn state(&mut self, at: Nanos, server: &str, term: u64, leader: bool) {
        let server = server.into();
        self.tester(
            at,
            Kind::State {
                server,
                term,
                leader,
            },
        );
    }

    fn net(&mut self, at: Nanos, setting: &str, on: bool) {
        let setting = setting.into();
        self.tester(at, Kind::Net { setting, on });
    }

    /// Links for `groups`: the members of each group reach each other.
    fn split(&mut self, at: Nanos, groups: &[&[&str]]) {
        for group in groups {
            for &server in *group {
                let reaches = group
                    .iter()
                    .filter(|&&s| s != server)
                    .map(|&s| s.to_owned())
                    .collect();
                let server = server.into();
                self.tester(at, Kind::Links { server, reaches });
            }
        }
    }

    fn op(&mut self, client: &str, call: Nanos, ret: Nanos, text: impl Into<String>) {
        let (client, text) = (client.into(), text.into());
        self.tester(ret, Kind::Op { client, call, text });
    }

    fn message(&mut self, from: &str, to: &str, method: &str, sent: Nanos, at: Nanos, reply: bool) {
        let node = self.node(to);
        self.push(
            at,
            node,
            Kind::Message {
                from: from.into(),
                to: to.into(),
                method: method.into(),
                sent,
                reply,
            },
        );
    }

    /// An election of `leader` in `term` at `at`, with votes from `voters`.
    fn election(&mut self, at: Nanos, leader: &str, term: u64, voters: &[&str]) {
        self.note(at, leader, "role", format!("candidate, term {term}"));
        self.note(
            at,
            leader,
            "vote",
            format!("votes for itself in term {term}"),
        );
        for (i, &voter) in voters.iter().enumerate() {
            let sent = at + 100_000;
            let arrive = sent + (700 + 150 * i as u64) * 1000;
            self.message(leader, voter, "Raft.RequestVote", sent, arrive, false);
            self.note(arrive, voter, "role", format!("follower, term {term}"));
            self.note(
                arrive + 50_000,
                voter,
                "vote",
                format!("grants its vote to {leader} in term {term}"),
            );
            self.message(
                voter,
                leader,
                "Raft.RequestVote",
                arrive + 60_000,
                arrive + 900_000,
                true,
            );
        }
        let won = at + 4 * MS;
        self.note(won, leader, "role", format!("leader, term {term}"));
    }

    fn finish(mut self, end: Nanos, failure: Option<String>) -> Recording {
        self.rec.events.sort_by_key(|e| e.at);
        self.rec.end = end;
        self.rec.failure = failure;
        self.rec
    }
}

const SERVERS: [&str; 5] = ["S0", "S1", "S2", "S3", "S4"];

/// A short run: elections, a leader crash and restart, a partition with the old leader
/// in the minority, a heal, clients, a failed check at the end.
fn short() -> Recording {
    let mut d = Demo::new("raft::tests::figure_8_partitioned_leader_3c", 0x5eed_1234);
    d.phase(0, "Test (3C): leader in a minority partition");
    for s in SERVERS {
        d.start(0, s);
        d.note(MS, s, "role", "follower, term 0");
        d.state(MS, s, 0, false);
    }

    // Term 1: S2 wins.
    d.election(180 * MS, "S2", 1, &["S0", "S1", "S3", "S4"]);
    for s in SERVERS {
        d.state(200 * MS, s, 1, s == "S2");
    }
    d.check(500 * MS, "one leader in term 1: S2", true);

    // S2 commits while it leads; the others follow.
    let mut index = 0;
    for k in 0..17 {
        let at = 300 * MS + k * 100 * MS;
        index += 2;
        d.note(at, "S2", "commit", format!("commit index {index}"));
        for s in ["S0", "S1", "S3", "S4"] {
            d.note(at + 6 * MS, s, "commit", format!("commit index {index}"));
        }
    }

    d.phase(SECOND, "unreliable network");
    d.net(SECOND, "reliable", false);

    // The leader crashes; S0 wins term 2; S2 comes back and catches up by snapshot.
    d.phase(2 * SECOND, "crash the leader S2");
    d.crash(2 * SECOND, "S2");
    d.election(2250 * MS, "S0", 2, &["S1", "S3", "S4"]);
    for s in ["S0", "S1", "S3", "S4"] {
        d.state(2300 * MS, s, 2, s == "S0");
    }
    d.check(2500 * MS, "one leader in term 2: S0", true);
    for k in 0..25 {
        let at = 2400 * MS + k * 100 * MS;
        index += 1;
        d.note(at, "S0", "commit", format!("commit index {index}"));
        for s in ["S1", "S3", "S4"] {
            d.note(at + 7 * MS, s, "commit", format!("commit index {index}"));
        }
    }
    d.phase(3500 * MS, "restart S2");
    d.start(3500 * MS, "S2");
    d.note(3500 * MS, "S2", "role", "follower, term 1");
    d.state(3500 * MS, "S2", 1, false);
    d.message(
        "S0",
        "S2",
        "Raft.InstallSnapshot",
        3540 * MS,
        3550 * MS,
        false,
    );
    d.note(3550 * MS, "S2", "role", "follower, term 2");
    d.note(
        3560 * MS,
        "S2",
        "snapshot",
        "installs a snapshot up to index 40",
    );
    d.note(3200 * MS, "S0", "snapshot", "snapshots up to index 40");
    d.state(3600 * MS, "S2", 2, false);
    d.net(4 * SECOND, "reliable", true);

    // Partition: the leader S0 with S1 in the minority; S3 wins term 3.
    d.phase(5 * SECOND, "partition: S0, S1 | S2, S3, S4");
    d.split(5 * SECOND, &[&["S0", "S1"], &["S2", "S3", "S4"]]);
    d.push(
        5100 * MS,
        d.node("S0"),
        Kind::Log {
            level: "WARN".into(),
            target: "raft".into(),
            text: "AppendEntries to S3 timed out".into(),
        },
    );
    d.election(5300 * MS, "S3", 3, &["S2", "S4"]);
    for s in ["S2", "S3", "S4"] {
        d.state(5400 * MS, s, 3, s == "S3");
    }
    for k in 0..5 {
        let at = 5200 * MS + k * 500 * MS;
        d.note(
            at,
            "S0",
            "append",
            format!("appends index {} (not committed)", 48 + k),
        );
    }
    for k in 0..25 {
        let at = 5500 * MS + k * 100 * MS;
        index += 1;
        d.note(at, "S3", "commit", format!("commit index {index}"));
        for s in ["S2", "S4"] {
            d.note(at + 5 * MS, s, "commit", format!("commit index {index}"));
        }
    }
    d.check(6 * SECOND, "the majority commits: index 52", true);
    d.phase(6 * SECOND, "long reordering");
    d.net(6 * SECOND, "long reordering", true);
    d.phase(7 * SECOND, "isolate S4");
    d.split(7 * SECOND, &[&["S0", "S1"], &["S2", "S3"], &["S4"]]);

    // Heal: S0 learns of term 3 and steps down.
    d.phase(8 * SECOND, "heal the partition");
    d.split(8 * SECOND, &[&SERVERS]);
    for (i, s) in ["S0", "S1"].into_iter().enumerate() {
        let at = 8010 * MS + i as u64 * MS;
        d.message("S3", s, "Raft.AppendEntries", at - MS, at, false);
        d.note(at, s, "role", "follower, term 3");
        d.state(8100 * MS, s, 3, false);
    }
    d.net(9 * SECOND, "long reordering", false);
    d.check(9 * SECOND, "one leader in term 3: S3", true);
    let failure =
        "apply error: server S0 applied 'x 4' at index 48, but server S3 applied 'x 5' at index 48";
    d.push(
        9200 * MS,
        d.node("S0"),
        Kind::Check {
            text: failure.into(),
            passed: false,
        },
    );
    d.check(
        9200 * MS,
        format!("agreement at index 48: {failure}"),
        false,
    );
    d.tester(
        9200 * MS,
        Kind::Link {
            text: "linearizability check".into(),
            path: "/tmp/demo-linearizability.html".into(),
        },
    );

    // Three clients, slowed down while there is no leader.
    for (c, client) in ["C0", "C1", "C2"].into_iter().enumerate() {
        let mut at = 300 * MS + c as u64 * 37 * MS;
        let mut k = 0;
        while at < 9 * SECOND {
            let key = (k + c) % 4;
            let text = match k % 3 {
                0 => format!("Get(k{key}) -> \"{}\"", "x".repeat(k % 5)),
                1 => format!("Put(k{key}, \"v{k}\")"),
                _ => format!("Append(k{key}, \"a{k}\")"),
            };
            let took = if (2 * SECOND..2300 * MS).contains(&at) {
                2350 * MS - at
            } else if (5 * SECOND..5400 * MS).contains(&at) && c == 0 {
                5450 * MS - at
            } else {
                (40 + 23 * ((k * 7 + c) % 5) as u64) * MS
            };
            d.op(client, at, at + took, text);
            at += took + (15 + 11 * ((k + c) % 4) as u64) * MS;
            k += 1;
        }
    }
    d.finish(
        9500 * MS,
        Some(format!("{failure}\n(the run's seed replays it)")),
    )
}

/// A small deterministic random generator (xorshift), so the long run is the same on
/// every run of the example.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Ten virtual minutes: regular elections, crashes and partitions, about 100k marks.
fn long() -> Recording {
    let mut d = Demo::new("raft::tests::long_churn", 99);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let end = 600 * SECOND;
    for s in SERVERS {
        d.start(0, s);
    }
    let mut term = 0;
    let mut leader = 0;
    let mut down: Option<(usize, Nanos)> = None;
    let mut index = 0u64;
    let mut at = 100 * MS;
    let mut next_election = 0;
    let mut next_crash = 40 * SECOND;
    let mut next_phase = 0;
    let mut partition_until: Option<Nanos> = None;
    let mut next_partition = 70 * SECOND;
    while at < end {
        if at >= next_phase {
            d.phase(at, &format!("round {}", at / (30 * SECOND) + 1));
            next_phase += 30 * SECOND;
        }
        if let Some((s, until)) = down
            && at >= until
        {
            d.start(at, SERVERS[s]);
            down = None;
        }
        if down.is_none() && at >= next_crash {
            let s = rng.below(5) as usize;
            d.crash(at, SERVERS[s]);
            down = Some((s, at + (5 + rng.below(10)) * SECOND));
            next_crash = at + (45 + rng.below(30)) * SECOND;
            if s == leader {
                next_election = at;
            }
        }
        if partition_until.is_none() && at >= next_partition {
            let alone = SERVERS[rng.below(5) as usize];
            let rest: Vec<&str> = SERVERS.into_iter().filter(|&s| s != alone).collect();
            d.split(at, &[&[alone], &rest]);
            partition_until = Some(at + (8 + rng.below(8)) * SECOND);
            next_partition = at + (60 + rng.below(60)) * SECOND;
            if SERVERS[leader] == alone {
                next_election = at;
            }
        }
        if let Some(until) = partition_until
            && at >= until
        {
            d.split(at, &[&SERVERS]);
            partition_until = None;
        }
        if at >= next_election {
            term += 1;
            let alive: Vec<usize> = (0..5)
                .filter(|&s| down.is_none_or(|(d, _)| d != s))
                .collect();
            leader = alive[rng.below(alive.len() as u64) as usize];
            let voters: Vec<&str> = alive
                .iter()
                .filter(|&&s| s != leader)
                .map(|&s| SERVERS[s])
                .collect();
            d.election(at, SERVERS[leader], term, &voters);
            for &s in &alive {
                d.state(at + 5 * MS, SERVERS[s], term, s == leader);
            }
            next_election = at + (20 + rng.below(40)) * SECOND;
        }
        // Every server notes its commits (about 33 a second each).
        index += 1;
        for (s, name) in SERVERS.into_iter().enumerate() {
            if down.is_some_and(|(d, _)| d == s) {
                continue;
            }
            let jitter = rng.below(3 * MS);
            let topic = if rng.below(50) == 0 {
                "snapshot"
            } else if s == leader {
                "commit"
            } else {
                "append"
            };
            d.note(
                at + jitter,
                name,
                topic,
                format!("{topic} index {index} t{term}"),
            );
            if s == leader && index.is_multiple_of(3) {
                for to in SERVERS.into_iter().filter(|&t| t != name) {
                    let sent = at + jitter;
                    d.message(name, to, "Raft.AppendEntries", sent, sent + MS, false);
                }
            }
        }
        if index.is_multiple_of(70) {
            let passed = rng.below(400) != 0;
            d.check(at, format!("agreement up to index {index}"), passed);
        }
        at += 30 * MS;
    }
    for (c, client) in ["C0", "C1", "C2"].into_iter().enumerate() {
        let mut at = 200 * MS + c as u64 * 17 * MS;
        let mut k = 0u64;
        while at < end - SECOND {
            let took = (20 + rng.below(200)) * MS;
            d.op(client, at, at + took, format!("Put(k{}, \"{k}\")", k % 10));
            at += took + (50 + rng.below(200)) * MS;
            k += 1;
        }
    }
    d.finish(end, None)
}

// The workspace's lints forbid the real clock to lab code; measuring how long rendering
// takes is what this example is for.
#[allow(clippy::disallowed_methods)]
fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut is_long = false;
    for arg in args.by_ref() {
        if arg == "--long" {
            is_long = true;
        } else {
            path = Some(PathBuf::from(arg));
        }
    }
    let Some(path) = path else {
        eprintln!("usage: demo PATH [--long]");
        return ExitCode::FAILURE;
    };
    let rec = if is_long { long() } else { short() };
    let started = Instant::now();
    html::write(&rec, &path).expect("writing the page");
    let size = std::fs::metadata(&path).expect("the page").len();
    println!(
        "{}: {} events, {} bytes ({:.2} MB), rendered in {:?}",
        path.display(),
        rec.events.len(),
        size,
        size as f64 / 1e6,
        started.elapsed()
    );
    ExitCode::SUCCESS
}
