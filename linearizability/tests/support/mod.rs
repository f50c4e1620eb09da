//! Generated key-value histories with known answers, shared by the tests and the
//! benchmark (which includes this file by path).
//!
//! A generated history comes from a sequential execution: operations take effect one at
//! a time, at strictly increasing instants, and each gets an interval around its instant,
//! so the history is linearizable by construction. Mutations then make it provably not.

#![allow(dead_code)] // Each test binary uses a different part of it.

use linearizability::Operation;
use linearizability::kv::{KvInput, KvOutput};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// A key-value history.
pub type KvHistory = Vec<Operation<KvInput, KvOutput>>;

/// The shape of a generated history.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Clients, each with one operation in flight at a time.
    pub clients: usize,
    /// Keys, chosen uniformly.
    pub keys: usize,
    /// Operations in all.
    pub ops: usize,
    /// Percentage of Gets.
    pub get_percent: u32,
    /// Percentage of Puts (the rest are Appends).
    pub put_percent: u32,
    /// The longest a request may take to reach the service (requests take effect in the
    /// order they arrive, so this is how far operations get reordered).
    pub max_request_delay: u64,
    /// The longest a response may take to reach the client.
    pub max_reply_delay: u64,
}

impl Workload {
    /// Like the lab's clerks: `clients` clients hammering `keys` keys with Gets and
    /// Appends, `ops_per_key` operations on each key.
    pub fn lab(clients: usize, keys: usize, ops_per_key: usize) -> Workload {
        Workload {
            clients,
            keys,
            ops: keys * ops_per_key,
            get_percent: 50,
            put_percent: 0,
            max_request_delay: 40,
            max_reply_delay: 40,
        }
    }
}

/// A delay of at most `max`: mostly short, sometimes long (a slow network, a retry).
fn delay(rng: &mut Xoshiro256PlusPlus, max: u64) -> u64 {
    if rng.random_ratio(9, 10) {
        rng.random_range(0..=max / 4)
    } else {
        rng.random_range(0..=max)
    }
}

/// Generates a linearizable history of `workload`.
///
/// Like clerks of a replicated service: every client issues its next request as soon as
/// (or just after) its previous one returns; requests reach the service after a varying
/// delay and take effect one at a time in the order they arrive; responses take a varying
/// time to come back. With many clients, most operations are concurrent with many others.
/// Appended and put values are unique tokens (`[client.seq]` and `(client.seq)`), so a
/// value read shows exactly which writes it saw.
pub fn generate(seed: u64, workload: &Workload) -> KvHistory {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut values = vec![String::new(); workload.keys];
    // Each client's request in flight: when it was issued, and when it reaches the service.
    let mut called: Vec<u64> = (0..workload.clients)
        .map(|_| rng.random_range(0..=3))
        .collect();
    let mut arrives: Vec<u64> = called
        .iter()
        .map(|&call| call + delay(&mut rng, workload.max_request_delay))
        .collect();
    let mut issued = vec![0u64; workload.clients];
    let mut history = Vec::with_capacity(workload.ops);
    let mut now = 0u64;
    for _ in 0..workload.ops {
        let client = (0..workload.clients)
            .min_by_key(|&c| (arrives[c], c))
            .expect("a client");
        // The instant it takes effect: strictly after the previous operation's.
        now = (now + rng.random_range(1..=3)).max(arrives[client]);
        let call = called[client];
        let ret = now + delay(&mut rng, workload.max_reply_delay);
        called[client] = ret + rng.random_range(0..=1);
        arrives[client] = called[client] + delay(&mut rng, workload.max_request_delay);
        let seq = issued[client];
        issued[client] += 1;

        let key_index = rng.random_range(0..workload.keys);
        let key = format!("k{key_index}");
        let roll = rng.random_range(0..100);
        let (input, output) = if roll < workload.get_percent {
            let value = values[key_index].clone();
            (KvInput::Get { key }, KvOutput { value })
        } else if roll < workload.get_percent + workload.put_percent {
            let value = format!("({client}.{seq})");
            values[key_index] = value.clone();
            (KvInput::Put { key, value }, KvOutput::default())
        } else {
            let value = format!("[{client}.{seq}]");
            values[key_index].push_str(&value);
            (KvInput::Append { key, value }, KvOutput::default())
        };
        history.push(Operation {
            client,
            input,
            output,
            call,
            ret,
        });
    }
    history
}

/// The Gets of `history`, as indices.
pub fn gets(history: &KvHistory) -> Vec<usize> {
    (0..history.len())
        .filter(|&i| matches!(history[i].input, KvInput::Get { .. }))
        .collect()
}

/// Makes Get `get` return a value no write ever produced (no write contains `#`).
pub fn read_fresh_value(history: &mut KvHistory, get: usize) {
    history[get].output.value = format!("#{get}#");
}

/// The `[...]` tokens of a value read, as byte ranges.
fn tokens(value: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in value.char_indices() {
        match c {
            '[' => start = Some(i),
            ']' => {
                if let Some(s) = start.take() {
                    out.push(s..i + 1);
                }
            }
            _ => {}
        }
    }
    out
}

/// Makes Get `get` see the `nth` append it saw twice (impossible: each append takes
/// effect once, and each token is unique). Returns false if it saw no append.
pub fn duplicate_append(history: &mut KvHistory, get: usize, nth: usize) -> bool {
    let value = &history[get].output.value;
    let found = tokens(value);
    if found.is_empty() {
        return false;
    }
    let token = found[nth % found.len()].clone();
    let mut changed = value[..token.end].to_string();
    changed.push_str(&value[token.clone()]);
    changed.push_str(&value[token.end..]);
    history[get].output.value = changed;
    true
}

/// Makes a Get miss an append that returned before the Get was called, so it had to see
/// it. Only sound without Puts (a Put could legally erase the append). Returns false if
/// `get` has no such append.
pub fn lose_append(history: &mut KvHistory, get: usize, nth: usize) -> bool {
    assert!(
        !history
            .iter()
            .any(|op| matches!(op.input, KvInput::Put { .. })),
        "lose_append needs a history without Puts"
    );
    let KvInput::Get { key } = &history[get].input else {
        panic!("operation {get} is not a Get");
    };
    let call = history[get].call;
    let seen: Vec<&str> = history
        .iter()
        .filter_map(|op| match &op.input {
            KvInput::Append { key: k, value } if k == key && op.ret < call => Some(value.as_str()),
            _ => None,
        })
        .collect();
    if seen.is_empty() {
        return false;
    }
    let token = seen[nth % seen.len()];
    let value = &history[get].output.value;
    assert!(
        value.contains(token),
        "a generated Get saw every append before it"
    );
    history[get].output.value = value.replacen(token, "", 1);
    true
}
