//! Generated histories: linearizable by construction, and provably not after one mutation.

mod support;

use linearizability::kv::{KvInput, KvModel, KvOutput};
use linearizability::{Budget, Model, Operation, Verdict, check};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use support::{Workload, duplicate_append, generate, gets, lose_append, read_fresh_value};

const SEEDS: u64 = 300;
const BUDGET: Budget = Budget::Unlimited;

/// A small random workload: a few clients and keys, sometimes with Puts.
fn workload(rng: &mut Xoshiro256PlusPlus, seed: u64) -> Workload {
    Workload {
        clients: rng.random_range(1..=5),
        keys: rng.random_range(1..=3),
        ops: rng.random_range(1..=40),
        get_percent: rng.random_range(20..=60),
        put_percent: if seed.is_multiple_of(3) { 15 } else { 0 },
        max_request_delay: rng.random_range(0..=30),
        max_reply_delay: rng.random_range(0..=30),
    }
}

#[test]
fn generated_histories_are_linearizable_and_single_mutations_are_not() {
    let mut mutated = [0usize; 3];
    for seed in 0..SEEDS {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed);
        let workload = workload(&mut rng, seed);
        let history = generate(seed, &workload);
        assert_eq!(
            check(&KvModel, &history, BUDGET),
            Verdict::Ok,
            "seed {seed}: {workload:?}"
        );

        let reads = gets(&history);
        if reads.is_empty() {
            continue;
        }
        let get = reads[rng.random_range(0..reads.len())];
        let nth = rng.random_range(0..64);
        let mut bad = history.clone();
        let kind = rng.random_range(0..3);
        let changed = match kind {
            0 => {
                read_fresh_value(&mut bad, get);
                true
            }
            1 => duplicate_append(&mut bad, get, nth),
            _ if workload.put_percent == 0 => lose_append(&mut bad, get, nth),
            _ => false,
        };
        if !changed {
            continue;
        }
        mutated[kind] += 1;
        assert_eq!(
            check(&KvModel, &bad, BUDGET),
            Verdict::Illegal,
            "seed {seed}, mutation {kind} of operation {get}: {workload:?}"
        );
    }
    // Each kind of mutation was really exercised.
    assert!(
        mutated.iter().all(|&n| n >= 20),
        "mutations per kind: {mutated:?}"
    );
}

#[test]
fn many_clients_on_one_key_are_checked() {
    // Six clients on one key, each operation overlapping several others, some taking
    // effect out of call order.
    for seed in 0..3 {
        let workload = Workload {
            max_request_delay: 4,
            max_reply_delay: 20,
            ..Workload::lab(6, 1, 200)
        };
        let history = generate(seed, &workload);
        assert_eq!(
            check(&KvModel, &history, Budget::Steps(5_000_000)),
            Verdict::Ok,
            "seed {seed}"
        );
        let mut bad = history.clone();
        let reads = gets(&bad);
        read_fresh_value(&mut bad, reads[reads.len() / 2]);
        assert_eq!(
            check(&KvModel, &bad, Budget::Steps(5_000_000)),
            Verdict::Illegal,
            "seed {seed}"
        );
    }
}

/// [`KvModel`] without its [`Model::read_may_still_fit`] pruning: the plain search.
struct Unpruned;

impl Model for Unpruned {
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        KvModel.init()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        KvModel.step(state, input, output)
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        KvModel.is_read_only(input)
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        KvModel.partition(history)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        KvModel.describe_operation(input, output)
    }

    fn describe_state(&self, state: &String) -> String {
        KvModel.describe_state(state)
    }
}

/// Pruning with `read_may_still_fit` is sound: on legal histories and on every kind of
/// mutation (a fresh value, a duplicated or lost append, a stale read that may or may not
/// be legal), it reaches the same verdict as the plain search.
#[test]
fn pruning_never_changes_a_verdict() {
    let mut illegal = 0;
    for seed in 0..SEEDS {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xfeed);
        let workload = workload(&mut rng, seed);
        let mut history = generate(seed, &workload);
        let reads = gets(&history);
        if !reads.is_empty() {
            let get = reads[rng.random_range(0..reads.len())];
            let nth = rng.random_range(0..64);
            match rng.random_range(0..5) {
                0 => {}
                1 => read_fresh_value(&mut history, get),
                2 => {
                    duplicate_append(&mut history, get, nth);
                }
                3 if workload.put_percent == 0 => {
                    lose_append(&mut history, get, nth);
                }
                _ => {
                    // A stale read: the value an earlier Get of the same key saw.
                    let key = history[get].input.key().to_owned();
                    let earlier = reads
                        .iter()
                        .copied()
                        .filter(|&g| g != get && history[g].input.key() == key)
                        .find(|&g| history[g].ret <= history[get].call);
                    if let Some(earlier) = earlier {
                        history[get].output = history[earlier].output.clone();
                    }
                }
            }
        }
        let pruned = check(&KvModel, &history, BUDGET).verdict;
        assert_eq!(
            pruned,
            check(&Unpruned, &history, BUDGET).verdict,
            "seed {seed}: {workload:?}"
        );
        illegal += usize::from(pruned == Verdict::Illegal);
    }
    assert!(
        illegal >= 50,
        "only {illegal} illegal histories were compared"
    );
}

/// Out of budget, a search still settles a partition as illegal when a read fits no state
/// the writes could produce (`find_impossible_read`): that must never call a legal history
/// illegal, and it must catch reads of values never written, whatever the budget.
#[test]
fn an_exhausted_search_calls_a_history_illegal_only_when_it_is() {
    let mut settled = 0;
    for seed in 0..SEEDS {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xb0d6e7);
        let workload = workload(&mut rng, seed);
        let history = generate(seed, &workload);
        // A budget of 3 steps runs out on almost every history.
        let starved = check(&KvModel, &history, Budget::Steps(3));
        assert_ne!(
            starved.verdict,
            Verdict::Illegal,
            "seed {seed}: {workload:?}"
        );
        let reads = gets(&history);
        if reads.is_empty() {
            continue;
        }
        let mut bad = history.clone();
        let nth = rng.random_range(0..64);
        let get = reads[rng.random_range(0..reads.len())];
        let changed = if rng.random_ratio(1, 2) {
            read_fresh_value(&mut bad, get);
            true
        } else {
            duplicate_append(&mut bad, get, nth)
        };
        if !changed {
            continue;
        }
        // Neither a fresh value nor an append read twice is made of appended values.
        assert_eq!(
            check(&KvModel, &bad, Budget::Steps(3)),
            Verdict::Illegal,
            "seed {seed}, operation {get}: {workload:?}"
        );
        settled += 1;
    }
    assert!(
        settled >= 100,
        "only {settled} mutated histories were checked"
    );
}
