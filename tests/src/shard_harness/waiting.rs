//! What the tester is waiting for: every call of a controller clerk or a key/value clerk
//! the tests make, while it runs, so that a test that runs out of time says which calls
//! never returned (the skeleton's servers answer nothing: its tests end at the time limit,
//! and this is what they say).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::Instant;
use parking_lot::Mutex;

/// How many waiting calls a failure lists.
const LISTED: usize = 5;

/// The calls under way. Cloning gives another handle to the same list.
#[derive(Clone)]
pub struct Waiting {
    calls: Arc<Mutex<BTreeMap<u64, (String, Instant)>>>,
    next: Arc<AtomicU64>,
}

impl Waiting {
    /// An empty list, which a failure of this run will report. (No `Default`: it must be
    /// made inside a run, by the tester.)
    #[allow(clippy::new_without_default)]
    pub fn new() -> Waiting {
        let waiting = Waiting {
            calls: Arc::default(),
            next: Arc::default(),
        };
        let calls = waiting.calls.clone();
        labrpc::tester::note_on_failure(move || {
            let calls = calls.lock();
            if calls.is_empty() {
                return None;
            }
            let now = labrpc::now();
            let listed: Vec<String> = calls
                .values()
                .take(LISTED)
                .map(|(what, since)| format!("  {what}, for {:.1} s", (now - *since).as_secs_f64()))
                .collect();
            let more = calls.len().saturating_sub(LISTED);
            let more = if more > 0 {
                format!("\n  and {more} more")
            } else {
                String::new()
            };
            Some(format!(
                "Calls that had not returned when the test failed (a clerk keeps asking until \
                 a server answers Ok: these never got an answer):\n{}{more}",
                listed.join("\n")
            ))
        });
        waiting
    }

    /// Runs `call`, listed as `what` while it runs.
    pub async fn on<F: Future>(&self, what: impl Into<String>, call: F) -> F::Output {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.calls.lock().insert(id, (what.into(), labrpc::now()));
        let _done = Done { waiting: self, id };
        call.await
    }
}

/// Takes a call off the list when it returns, or is dropped.
struct Done<'a> {
    waiting: &'a Waiting,
    id: u64,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.waiting.calls.lock().remove(&self.id);
    }
}
