//! Writes the checker's page for a failing key-value history, for a look in a browser (CI
//! checks it in headless Chromium: .ci/check_timelines.sh).
//!
//! `cargo run -p linearizability --example failing_kv_page -- OUT.html`
//!
//! The history is like the lab's: 15 clients appending to and reading 3 keys, 60
//! operations per key, requests overlapping and taking effect out of call order. Then one
//! Get half-way through loses one of the appends it must have seen (the one in the middle
//! of the value), so its long value departs from every allowed one in the middle: the
//! case the page's "where it departs" panel is for.

#[path = "../tests/support/mod.rs"]
mod support;

use linearizability::kv::KvModel;
use linearizability::{Budget, Verdict, check_verbose, write_html};
use support::{Workload, generate, gets, lose_append};

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .expect("usage: failing_kv_page OUT.html");
    let mut history = generate(7, &Workload::lab(15, 3, 60));
    let reads = gets(&history);
    // A Get half-way through that saw several appends; lose the middle one.
    let get = reads[reads.len() / 2..]
        .iter()
        .copied()
        .find(|&g| history[g].output.value.matches('[').count() >= 8)
        .expect("a Get that saw several appends");
    let middle = history[get].output.value.matches('[').count() / 2;
    assert!(lose_append(&mut history, get, middle), "an append to lose");
    let (verdict, explanation) = check_verbose(&KvModel, &history, Budget::default());
    assert_eq!(verdict, Verdict::Illegal, "the mutated history must fail");
    write_html(&KvModel, &history, &explanation, path.as_ref()).expect("page written");
    println!(
        "{} operations, {verdict}: {}",
        history.len(),
        std::path::Path::new(&path).display()
    );
}
