//! Generated histories: linearizable by construction, and provably not after one mutation.

mod support;

use linearizability::kv::KvModel;
use linearizability::{Budget, Verdict, check};
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
