//! The fault model, pinned by measurement.
//!
//! Each test makes thousands of concurrent calls and timestamps each one in virtual time
//! (when it is sent, when its handler starts, when it returns), then checks the measured
//! delays and drop rates against the numbers of the course's Go `labrpc` (listed, with
//! their Go sources, in `docs/fault-model.md`, section 1):
//!
//! - unreliable: each request delayed uniformly 0..=26 ms, requests and replies each lost
//!   with probability 10% (so about 19% of calls fail);
//! - dead ends: failure after uniformly 0..7000 ms with long delays, 0..100 ms without;
//! - long reordering: two replies in three held back 200 + rand(1 + rand(2000)) ms;
//! - reliable and no reordering: a call takes no virtual time at all.
//!
//! Every statistical bound is [`SIGMAS`] standard deviations wide, computed from the exact
//! distribution the Go expressions define, so a correct network fails a bound with
//! probability about 1e-9: safe for the fixed seeds here and for any seed (`LAB_SEED`,
//! `LAB_RUNS`). Each measurement runs once per fixed seed (`*_fixed_seeds`) and once per
//! seed `run_test` picks (`*_any_seed`).

use std::sync::Arc;
use std::time::Duration;

use labrpc::net::faults;
use labrpc::tester::{Network, Node, Server, Sim};
use labrpc::{Instant, Rpc, RpcError, Service};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// The seeds every `*_fixed_seeds` test runs.
const FIXED_SEEDS: [u64; 4] = [1, 2, 3, 20_220_101];

/// Calls per measurement.
const CALLS: u32 = 20_000;

/// Calls for the drop rates: enough that an 11% drop rate (instead of 10%) fails the
/// 19%-of-calls-fail bound with certainty (0.208 vs 0.19 is 11σ at this size), while a
/// correct network stays within 6σ.
const DROP_CALLS: u32 = 60_000;

/// How many standard deviations an estimate may stray from its expected value. A normal
/// variable exceeds 6σ (two-sided) with probability 2e-9; a run checks a few dozen
/// bounds, so even thousands of seeds should never see a false failure.
const SIGMAS: f64 = 6.0;

// ----- the probe -----

/// `Probe.Hit`: the handler records when it started and answers the call's id.
#[derive(Serialize, Deserialize, Debug)]
struct Probe(u32);

impl Rpc for Probe {
    type Reply = u32;
    const METHOD: &'static str = "Probe.Hit";
}

/// Where the probe's end leads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// Connected to a live server and enabled.
    Live,
    /// Connected to a live server, but disabled.
    Disabled,
    /// Enabled, but never connected.
    Unconnected,
    /// Connected and enabled, to a server name that does not exist.
    NoServer,
}

/// The network's settings for one measurement.
#[derive(Clone, Copy, Debug)]
struct Setup {
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    end: End,
}

impl Setup {
    const RELIABLE: Setup = Setup {
        reliable: true,
        long_delays: false,
        long_reordering: false,
        end: End::Live,
    };
}

/// One call, timed.
#[derive(Clone, Copy, Debug)]
struct Sample {
    sent: Instant,
    /// When the handler started, if it ran.
    entered: Option<Instant>,
    returned: Instant,
    ok: bool,
}

impl Sample {
    /// Milliseconds from sending to the handler starting.
    fn request_ms(&self) -> Option<u64> {
        self.entered.map(|e| ms(e - self.sent))
    }

    /// Milliseconds from sending to returning.
    fn call_ms(&self) -> u64 {
        ms(self.returned - self.sent)
    }

    /// Milliseconds from the handler starting (the probe's handler returns at once) to the
    /// call returning.
    fn reply_ms(&self) -> Option<u64> {
        self.entered.map(|e| ms(self.returned - e))
    }
}

/// Whole milliseconds; fails on fractions, since every delay of the model is whole.
fn ms(d: Duration) -> u64 {
    assert_eq!(
        d.subsec_nanos() % 1_000_000,
        0,
        "delay {d:?} is not a whole number of milliseconds"
    );
    d.as_millis() as u64
}

/// What one measurement saw.
struct Measurement {
    samples: Vec<Sample>,
    rpc_count: u64,
    total_rpcs: u64,
}

/// Makes `calls` concurrent probe calls (all sent at one instant, on one end) and times
/// each.
async fn measure(setup: Setup, calls: u32) -> Measurement {
    let net = Network::new();
    net.set_reliable(setup.reliable);
    net.set_long_delays(setup.long_delays);
    net.set_long_reordering(setup.long_reordering);

    let entries: Arc<Mutex<Vec<Option<Instant>>>> =
        Arc::new(Mutex::new(vec![None; calls as usize]));
    let log = entries.clone();
    let server = Server::on(Node::new("server")).with_service(Service::new("Probe").method(
        move |Probe(id): Probe| {
            let previous = log.lock()[id as usize].replace(labrpc::now());
            assert!(previous.is_none(), "the handler of call {id} ran twice");
            async move { id }
        },
    ));
    if setup.end != End::NoServer {
        net.add_server("server", server);
    }
    let end = net.make_end("probe");
    match setup.end {
        End::Live | End::NoServer => {
            net.connect(
                "probe",
                if setup.end == End::Live {
                    "server"
                } else {
                    "nobody"
                },
            );
            net.enable("probe", true);
        }
        End::Disabled => net.connect("probe", "server"),
        End::Unconnected => net.enable("probe", true),
    }

    let start = labrpc::now();
    let tasks: Vec<_> = (0..calls)
        .map(|id| {
            let end = end.clone();
            labrpc::spawn(async move {
                let sent = labrpc::now();
                let result = end.call(&Probe(id)).await;
                (sent, result, labrpc::now())
            })
        })
        .collect();
    let mut results = Vec::with_capacity(calls as usize);
    for task in tasks {
        results.push(task.await.expect("a call task was cancelled"));
    }
    let entries = entries.lock();
    let samples = results
        .into_iter()
        .zip(entries.iter())
        .enumerate()
        .map(|(id, ((sent, result, returned), &entered))| {
            assert_eq!(sent, start, "call {id} was not sent with the others");
            let ok = match result {
                Ok(reply) => {
                    assert_eq!(reply, id as u32, "call {id} got another call's reply");
                    assert!(entered.is_some(), "call {id} succeeded without its handler");
                    true
                }
                Err(RpcError::Failed) => false,
                Err(e) => panic!("call {id}: unexpected error {e}"),
            };
            Sample {
                sent,
                entered,
                returned,
                ok,
            }
        })
        .collect();
    Measurement {
        samples,
        rpc_count: net.rpc_count("server"),
        total_rpcs: net.total_rpcs(),
    }
}

// ----- statistics -----

/// A discrete distribution over `0..pmf.len()`.
struct Distribution {
    pmf: Vec<f64>,
}

impl Distribution {
    /// Uniform over `0..n` (Go: `rand.Int() % n`).
    fn uniform(n: u64) -> Distribution {
        Distribution {
            pmf: vec![1.0 / n as f64; n as usize],
        }
    }

    /// `k = rand.Intn(1 + rand.Intn(spread))`, the reordering delay above its base:
    /// P(k) = Σ_{s=k}^{spread-1} (1/spread) · 1/(s+1).
    fn reorder(spread: u64) -> Distribution {
        let mut pmf = vec![0.0; spread as usize];
        let mut tail = 0.0;
        for s in (0..spread as usize).rev() {
            tail += 1.0 / (spread as f64 * (s as f64 + 1.0));
            pmf[s] = tail;
        }
        Distribution { pmf }
    }

    fn mean(&self) -> f64 {
        self.pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum()
    }

    fn sd(&self) -> f64 {
        let mean = self.mean();
        let var: f64 = self
            .pmf
            .iter()
            .enumerate()
            .map(|(k, p)| (k as f64 - mean).powi(2) * p)
            .sum();
        var.sqrt()
    }

    /// The smallest value whose cumulative probability reaches `q`.
    fn quantile(&self, q: f64) -> u64 {
        let mut cumulative = 0.0;
        for (k, p) in self.pmf.iter().enumerate() {
            cumulative += p;
            if cumulative >= q {
                return k as u64;
            }
        }
        self.pmf.len() as u64 - 1
    }

    /// P(value < x).
    fn below(&self, x: u64) -> f64 {
        self.pmf.iter().take(x as usize).sum()
    }

    /// Checks `values` against the distribution: all within its support, the mean, the
    /// median, and the count in each of `buckets` equal-width buckets, each within
    /// [`SIGMAS`] standard deviations.
    fn check(&self, what: &str, values: &[u64], buckets: usize) {
        let n = values.len();
        assert!(n > 0, "{what}: no samples");
        let max = *values.iter().max().expect("non-empty");
        assert!(
            (max as usize) < self.pmf.len(),
            "{what}: value {max} is outside 0..{}",
            self.pmf.len()
        );

        let mean = values.iter().sum::<u64>() as f64 / n as f64;
        assert_near(
            &format!("{what}: mean"),
            mean,
            self.mean(),
            self.sd() / (n as f64).sqrt(),
        );

        // The sample median must lie between the quantiles at 1/2 ± SIGMAS standard
        // deviations of a sample proportion.
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let median = sorted[n / 2];
        let spread = SIGMAS * (0.25 / n as f64).sqrt();
        let (low, high) = (self.quantile(0.5 - spread), self.quantile(0.5 + spread));
        assert!(
            (low..=high).contains(&median),
            "{what}: median {median} ms outside {low}..={high} (exact median {})",
            self.quantile(0.5)
        );

        let width = self.pmf.len().div_ceil(buckets);
        for b in 0..buckets {
            let range = b * width..((b + 1) * width).min(self.pmf.len());
            let p: f64 = self.pmf[range.clone()].iter().sum();
            let count = values
                .iter()
                .filter(|&&v| range.contains(&(v as usize)))
                .count();
            assert_rate(
                &format!("{what}: share of values in {range:?}"),
                count,
                n,
                p,
            );
        }
    }
}

/// Fails unless `observed` is within [`SIGMAS`] × `sd` of `expected`.
fn assert_near(what: &str, observed: f64, expected: f64, sd: f64) {
    let bound = SIGMAS * sd;
    assert!(
        (observed - expected).abs() <= bound,
        "{what}: {observed:.4}, expected {expected:.4} ± {bound:.4} ({SIGMAS}σ)"
    );
}

/// Fails unless `hits` of `n` trials is a plausible outcome of probability `p`.
fn assert_rate(what: &str, hits: usize, n: usize, p: f64) {
    assert!(n > 0, "{what}: no trials");
    let sd = (p * (1.0 - p) / n as f64).sqrt();
    assert_near(
        &format!("{what} ({hits} of {n})"),
        hits as f64 / n as f64,
        p,
        sd,
    );
}

/// Runs `case` once per fixed seed, then on the seeds `run_test` picks.
macro_rules! seeded {
    ($fixed:ident, $any:ident, $case:expr) => {
        #[test]
        fn $fixed() {
            for seed in FIXED_SEEDS {
                eprintln!("faults: seed {seed}");
                Sim::new(seed).run($case());
            }
        }

        #[test]
        fn $any() {
            Sim::builder().run_test($case);
        }
    };
}

// ----- reliable: no time at all -----

/// With a reliable network and no reordering, a call takes zero virtual time: the handler
/// starts the instant the call is made and the reply arrives the instant it returns. Long
/// delays change nothing for live ends.
async fn reliable_calls_take_no_time() {
    for long_delays in [false, true] {
        let setup = Setup {
            long_delays,
            ..Setup::RELIABLE
        };
        let m = measure(setup, CALLS / 4).await;
        for (id, s) in m.samples.iter().enumerate() {
            assert!(s.ok, "call {id} failed on a reliable network ({setup:?})");
            assert_eq!(
                (s.request_ms(), s.call_ms()),
                (Some(0), 0),
                "call {id} took virtual time on a reliable network ({setup:?})"
            );
        }
        assert_eq!(m.rpc_count, u64::from(CALLS / 4));
    }

    // Sequential calls from the test body, too.
    let net = Network::new();
    net.add_server(
        "server",
        Server::on(Node::new("server"))
            .with_service(Service::new("Probe").method(|Probe(id): Probe| async move { id })),
    );
    let end = net.make_end("probe");
    net.connect("probe", "server");
    net.enable("probe", true);
    let start = labrpc::now();
    for id in 0..1000 {
        assert_eq!(end.call(&Probe(id)).await, Ok(id));
    }
    assert_eq!(
        labrpc::now(),
        start,
        "1000 sequential reliable calls took virtual time"
    );
}

seeded!(
    reliable_calls_take_no_time_fixed_seeds,
    reliable_calls_take_no_time_any_seed,
    reliable_calls_take_no_time
);

// ----- unreliable: request delays -----

/// Unreliable mode delays each request by a uniform 0..=26 ms (Go: `rand.Int() % 27`):
/// measured from sending to the handler starting, and from sending to the failure of a
/// lost request. Replies are not delayed.
async fn unreliable_request_delay() {
    assert_eq!(faults::REQUEST_DELAY_MS, 27);
    let setup = Setup {
        reliable: false,
        ..Setup::RELIABLE
    };
    let m = measure(setup, CALLS).await;
    let delays: Vec<u64> = m.samples.iter().filter_map(Sample::request_ms).collect();
    let uniform = Distribution::uniform(faults::REQUEST_DELAY_MS);
    uniform.check("request delay (sent -> handler)", &delays, 27);
    assert_eq!(
        delays.iter().min(),
        Some(&0),
        "the shortest request delay should be 0 ms"
    );
    assert_eq!(
        delays.iter().max(),
        Some(&26),
        "the longest request delay should be 26 ms"
    );

    // A lost request fails after its delay; a lost reply fails, and a delivered one
    // arrives, the instant the handler returns (the probe's handler returns at once).
    let lost: Vec<u64> = m
        .samples
        .iter()
        .filter(|s| s.entered.is_none())
        .map(Sample::call_ms)
        .collect();
    uniform.check("request delay (sent -> failure, lost request)", &lost, 3);
    for s in m.samples.iter().filter(|s| s.entered.is_some()) {
        assert_eq!(
            s.reply_ms(),
            Some(0),
            "an unreliable reply (lost or not) was delayed: {s:?}"
        );
    }
}

seeded!(
    unreliable_request_delay_fixed_seeds,
    unreliable_request_delay_any_seed,
    unreliable_request_delay
);

// ----- unreliable: drop rates -----

/// Unreliable mode loses a request with probability 10% (the handler never runs) and a
/// reply with probability 10% (the handler ran, the caller sees failure): 1 - 0.9² = 19%
/// of calls fail. Go: `rand.Int() % 1000 < 100`, twice.
async fn unreliable_drop_rates() {
    assert_eq!(faults::DROP_PER_MILLE, 100);
    let p = faults::DROP_PER_MILLE as f64 / 1000.0;
    let setup = Setup {
        reliable: false,
        ..Setup::RELIABLE
    };
    let m = measure(setup, DROP_CALLS).await;
    let n = m.samples.len();
    let handled: Vec<&Sample> = m.samples.iter().filter(|s| s.entered.is_some()).collect();
    let requests_lost = n - handled.len();
    let replies_lost = handled.iter().filter(|s| !s.ok).count();
    let failed = m.samples.iter().filter(|s| !s.ok).count();

    assert_rate("requests lost", requests_lost, n, p);
    assert_rate(
        "replies lost, of requests handled",
        replies_lost,
        handled.len(),
        p,
    );
    assert_rate("calls failed", failed, n, 1.0 - (1.0 - p) * (1.0 - p));
    assert_eq!(
        m.rpc_count,
        handled.len() as u64,
        "the per-server count must equal the handlers that ran"
    );
    assert_eq!(
        m.total_rpcs,
        u64::from(DROP_CALLS),
        "the total count includes lost requests"
    );
}

seeded!(
    unreliable_drop_rates_fixed_seeds,
    unreliable_drop_rates_any_seed,
    unreliable_drop_rates
);

// ----- dead ends -----

/// Every kind of dead end fails every call, never runs a handler, and takes
/// uniformly `0..bound` ms (Go: `rand.Int() % 7000` with long delays, `% 100` without).
/// The reliability setting does not matter: Go's dead-end branch skips the short delay.
async fn dead_end_delays(long_delays: bool) {
    let bound = if long_delays {
        faults::LONG_DEAD_DELAY_MS
    } else {
        faults::SHORT_DEAD_DELAY_MS
    };
    assert_eq!(bound, if long_delays { 7000 } else { 100 });
    let uniform = Distribution::uniform(bound);
    // The main case gets the full sample; the other kinds of dead end a quarter each.
    for (end, reliable, calls) in [
        (End::Disabled, true, CALLS),
        (End::Unconnected, true, CALLS / 4),
        (End::NoServer, true, CALLS / 4),
        (End::Disabled, false, CALLS / 4),
    ] {
        let setup = Setup {
            reliable,
            long_delays,
            long_reordering: true,
            end,
        };
        let m = measure(setup, calls).await;
        for s in &m.samples {
            assert!(
                !s.ok && s.entered.is_none(),
                "a call on a dead end must fail without reaching a handler: {s:?} ({setup:?})"
            );
        }
        assert_eq!(m.rpc_count, 0, "nothing reaches the server ({setup:?})");
        assert_eq!(
            m.total_rpcs,
            u64::from(calls),
            "dead-end calls are counted ({setup:?})"
        );
        let delays: Vec<u64> = m.samples.iter().map(Sample::call_ms).collect();
        uniform.check(&format!("dead-end delay ({setup:?})"), &delays, 10);
        let (min, max) = (
            *delays.iter().min().expect("samples"),
            *delays.iter().max().expect("samples"),
        );
        // With n = 5000 or more draws from 0..bound, P(min > bound/140) and
        // P(max < bound - 1 - bound/140) are each about (1 - 1/140)^n < e^-35.
        let slack = bound / 140;
        assert!(
            min <= slack && max >= bound - 1 - slack,
            "dead-end delays span {min}..={max} ms, expected about 0..={} ({setup:?})",
            bound - 1
        );
    }
}

async fn dead_end_delays_long() {
    dead_end_delays(true).await;
}

async fn dead_end_delays_short() {
    dead_end_delays(false).await;
}

seeded!(
    dead_end_delays_long_fixed_seeds,
    dead_end_delays_long_any_seed,
    dead_end_delays_long
);

seeded!(
    dead_end_delays_short_fixed_seeds,
    dead_end_delays_short_any_seed,
    dead_end_delays_short
);

// ----- long reordering -----

/// Checks the reply delays of calls whose handler ran and whose reply was delivered:
/// 2/3 are held back (Go: `rand.Intn(900) < 600`) by 200 + rand(1 + rand(2000)) ms,
/// i.e. 200..=2199 ms skewed short; the rest arrive at once.
fn check_reordering(what: &str, reply_delays: &[u64]) {
    assert_eq!(
        (
            faults::REORDER_PER_900,
            faults::REORDER_BASE_MS,
            faults::REORDER_SPREAD_MS
        ),
        (600, 200, 2000)
    );
    let base = faults::REORDER_BASE_MS;
    let held: Vec<u64> = reply_delays
        .iter()
        .filter(|&&d| d != 0)
        .map(|&d| {
            assert!(
                (base..base + faults::REORDER_SPREAD_MS).contains(&d),
                "{what}: a reply was held back {d} ms, outside 200..=2199"
            );
            d - base
        })
        .collect();
    assert_rate(
        &format!("{what}: replies held back"),
        held.len(),
        reply_delays.len(),
        2.0 / 3.0,
    );

    let reorder = Distribution::reorder(faults::REORDER_SPREAD_MS);
    reorder.check(&format!("{what}: hold-back above 200 ms"), &held, 10);

    // Skewed short: the median sits far below the middle of 200..=2199 (exactly: about
    // 573 ms), and about 85% of held replies come back in the first half of the range.
    let mut sorted = held.clone();
    sorted.sort_unstable();
    let median = base + sorted[sorted.len() / 2];
    assert!(
        median < 700,
        "{what}: median hold-back {median} ms; the model's median is {} ms, far below the \
         midpoint 1199.5 ms",
        base + reorder.quantile(0.5)
    );
    let first_half = held.iter().filter(|&&k| k < 1000).count();
    assert_rate(
        &format!("{what}: held replies in the first half (200..1200 ms)"),
        first_half,
        held.len(),
        reorder.below(1000),
    );
    let max = base + sorted.last().copied().unwrap_or(0);
    // P(k >= 1800) is about 0.5%, so thousands of samples reach it with certainty.
    assert!(
        max >= 2000,
        "{what}: the longest hold-back was {max} ms; the model reaches 2199"
    );
}

/// Long reordering on a reliable network: handlers run at once, and replies are held
/// back as the model says. Replies come back out of order.
async fn long_reordering() {
    let setup = Setup {
        long_reordering: true,
        ..Setup::RELIABLE
    };
    let m = measure(setup, CALLS).await;
    for s in &m.samples {
        assert!(s.ok, "a reordered call failed on a reliable network: {s:?}");
        assert_eq!(
            s.request_ms(),
            Some(0),
            "long reordering delayed a request: {s:?}"
        );
    }
    let delays: Vec<u64> = m.samples.iter().filter_map(Sample::reply_ms).collect();
    check_reordering("reliable", &delays);

    // All calls were sent at once, in id order; the replies came back in another order.
    let inversions = m
        .samples
        .windows(2)
        .filter(|w| w[0].returned > w[1].returned)
        .count();
    assert!(
        inversions > 0,
        "long reordering should deliver replies out of order"
    );
}

seeded!(
    long_reordering_fixed_seeds,
    long_reordering_any_seed,
    long_reordering
);

/// Long reordering is independent of reliability: on an unreliable network, delivered
/// replies are held back just the same, and lost ones fail without being held back.
async fn long_reordering_unreliable() {
    let setup = Setup {
        reliable: false,
        long_reordering: true,
        ..Setup::RELIABLE
    };
    let m = measure(setup, CALLS).await;
    let delivered: Vec<u64> = m
        .samples
        .iter()
        .filter(|s| s.ok)
        .filter_map(Sample::reply_ms)
        .collect();
    check_reordering("unreliable", &delivered);
    for s in m.samples.iter().filter(|s| !s.ok) {
        assert!(
            s.call_ms() < faults::REQUEST_DELAY_MS,
            "a lost request or reply failed {} ms after sending; without hold-back it \
             fails within the 0..=26 ms request delay: {s:?}",
            s.call_ms()
        );
    }
    let p = faults::DROP_PER_MILLE as f64 / 1000.0;
    let failed = m.samples.iter().filter(|s| !s.ok).count();
    assert_rate(
        "calls failed (unreliable, reordering)",
        failed,
        m.samples.len(),
        1.0 - (1.0 - p) * (1.0 - p),
    );
}

seeded!(
    long_reordering_unreliable_fixed_seeds,
    long_reordering_unreliable_any_seed,
    long_reordering_unreliable
);

/// The exact reordering distribution itself, as derived from the Go expression.
#[test]
fn reorder_distribution_is_skewed_short() {
    let d = Distribution::reorder(faults::REORDER_SPREAD_MS);
    let total: f64 = d.pmf.iter().sum();
    assert!((total - 1.0).abs() < 1e-9, "the pmf sums to {total}");
    // E[k] = E[rand(2000)] / 2 = 999.5 / 2.
    assert!((d.mean() - 499.75).abs() < 1e-6, "mean {}", d.mean());
    // The median solves m + m·ln(2000/m) ≈ 1000: m ≈ 373.
    let median = d.quantile(0.5);
    assert!((365..=380).contains(&median), "median {median}");
}

// ----- swarm plans -----

/// A swarm plan keeps every number between the course's and the least, so every run it
/// makes is a run the course's model could make too; over many draws it covers the range.
#[test]
fn swarm_plans_stay_within_the_course_model() {
    use rand::SeedableRng;
    let course = faults::FaultPlan::COURSE;
    let mut lowest = course;
    for seed in 0..2000 {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
        let plan = faults::FaultPlan::swarm(&mut rng);
        assert!((1..=course.request_delay_ms).contains(&plan.request_delay_ms));
        assert!(plan.drop_per_mille <= course.drop_per_mille);
        assert!((1..=course.long_dead_delay_ms).contains(&plan.long_dead_delay_ms));
        assert!((1..=course.short_dead_delay_ms).contains(&plan.short_dead_delay_ms));
        assert!(plan.reorder_per_900 <= course.reorder_per_900);
        assert!((1..=course.reorder_spread_ms).contains(&plan.reorder_spread_ms));
        lowest.drop_per_mille = lowest.drop_per_mille.min(plan.drop_per_mille);
        lowest.reorder_per_900 = lowest.reorder_per_900.min(plan.reorder_per_900);
    }
    assert_eq!(lowest.drop_per_mille, 0, "some plans never lose a message");
    assert!(lowest.reorder_per_900 < 10, "some plans barely reorder");
}

/// Under `Sim::swarm`, a network draws its plan from the seed: the same seed replays the
/// same run, and the plan changes what the run does.
#[test]
fn a_swarm_run_replays_from_its_seed() {
    let workload = || async {
        let net = Network::new();
        net.set_reliable(false);
        net.set_long_reordering(true);
        net.add_server(
            "S1",
            Server::on(Node::new("S1"))
                .with_service(Service::new("Probe").method(|Probe(x): Probe| async move { x })),
        );
        let end = net.make_end("c->S1");
        net.connect("c->S1", "S1");
        net.enable("c->S1", true);
        let mut ok = 0;
        for i in 0..200 {
            ok += u32::from(end.call(&Probe(i)).await.is_ok());
        }
        ok
    };
    let run = |swarm: bool| Sim::new(42).swarm(swarm).run_with_report(workload());
    let (ok1, first) = run(true);
    let (ok2, second) = run(true);
    assert_eq!((ok1, &first), (ok2, &second), "a swarm seed replays");
    let (_, course) = run(false);
    assert_ne!(
        first.trace_hash, course.trace_hash,
        "the plan changed the run"
    );
}
