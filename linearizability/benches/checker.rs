//! How checking time grows with the size of a history.
//!
//! Run with `cargo bench -p linearizability --bench checker`. Histories come from the
//! tests' generator (50 clients, Gets and Appends, requests taking effect in arrival
//! order). Two shapes:
//! - `in_order`: 3 keys (about 17 operations in flight per key); requests take effect in
//!   the order they were issued, responses come back after varying delays;
//! - `reordered`: 16 keys (about 3 in flight per key); requests also take varying times
//!   to arrive, so operations take effect out of call order.
//!
//! Each comes legal and illegal (one Get mutated to read a value never written, half-way
//! through). Every check has a budget of 10^6 steps per partition; the verdict of each
//! case is printed before it is timed, so an `Unknown` (budget exhausted) shows.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use linearizability::kv::KvModel;
use linearizability::{Budget, check};
use support::{Workload, generate, gets, read_fresh_value};

const BUDGET: Budget = Budget::Steps(1_000_000);
const SIZES: [usize; 4] = [100, 300, 1000, 3000];

fn shapes(ops_per_key: usize) -> [(&'static str, Workload); 2] {
    [
        (
            "in_order",
            Workload {
                max_request_delay: 0,
                max_reply_delay: 40,
                ..Workload::lab(50, 3, ops_per_key)
            },
        ),
        (
            "reordered",
            Workload {
                max_request_delay: 4,
                max_reply_delay: 20,
                ..Workload::lab(50, 16, ops_per_key)
            },
        ),
    ]
}

fn checker(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for size in SIZES {
        for (shape, workload) in shapes(size) {
            let legal = generate(1, &workload);
            let mut illegal = legal.clone();
            let reads = gets(&illegal);
            read_fresh_value(&mut illegal, reads[reads.len() / 2]);
            for (variant, history) in [("legal", &legal), ("illegal", &illegal)] {
                let name = format!("{shape}/{variant}");
                eprintln!(
                    "{name}/{size} ops per key: {:?}",
                    check(&KvModel, history, BUDGET)
                );
                group.bench_with_input(BenchmarkId::new(name, size), history, |b, history| {
                    b.iter(|| check(&KvModel, black_box(history), BUDGET));
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, checker);
criterion_main!(benches);
