//! A key-value store with Get, Put and Append, as in the lab's KV service.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

use crate::hash::FoldHasher;
use crate::model::{Model, Operation};

/// How many steps splitting a value into appended values may take before [`KvModel`]
/// assumes that it is made of them (which is always safe).
const MAX_SPLIT_TRIES: u32 = 100_000;
/// How many split values [`KvModel`] keeps to recognise prefixes of them.
const KEPT_SPLITS: usize = 8;

/// Whether `text[from..]` is a concatenation of some of the values counted in `appends`
/// (each used at most as often as counted; `lengths` are their distinct lengths), or the
/// search for one gave up (`tries` ran out). On success, `ends` gets the offsets where the
/// values of the split found end (none when it gave up).
fn made_of(
    text: &str,
    from: usize,
    appends: &mut HashMap<&str, usize, BuildHasherDefault<FoldHasher>>,
    lengths: &[usize],
    tries: &mut u32,
    ends: &mut Vec<usize>,
) -> bool {
    // An explicit stack, not recursion: a value may be made of thousands of appends.
    // Each frame: where its value starts, and the next length to try there.
    let mut stack: Vec<(usize, usize)> = vec![(from, 0)];
    // Gives back the values the frames on the stack took, for the next value to split.
    let give_back = |stack: &[(usize, usize)], appends: &mut HashMap<_, usize, _>| {
        for pair in stack.windows(2) {
            *appends
                .get_mut(&text[pair[0].0..pair[1].0])
                .expect("a value taken from the counts") += 1;
        }
    };
    while let Some(&mut (start, ref mut next)) = stack.last_mut() {
        if start == text.len() {
            ends.extend(stack.iter().skip(1).map(|&(start, _)| start));
            give_back(&stack, appends);
            return true;
        }
        if *tries == 0 {
            give_back(&stack, appends);
            return true;
        }
        *tries -= 1;
        let rest = &text[start..];
        let mut advanced = false;
        while *next < lengths.len() {
            let len = lengths[*next];
            *next += 1;
            if len > rest.len() || !rest.is_char_boundary(len) {
                continue;
            }
            if let Some(count) = appends.get_mut(&rest[..len])
                && *count > 0
            {
                *count -= 1;
                stack.push((start + len, 0));
                advanced = true;
                break;
            }
        }
        if !advanced {
            // Every way on from here failed: give back the value that led here.
            stack.pop();
            if let Some(&(before, _)) = stack.last() {
                let value = &text[before..start];
                *appends
                    .get_mut(value)
                    .expect("a value taken from the counts") += 1;
            }
        }
    }
    false
}

/// A request to the key-value store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvInput {
    /// Read the value of `key` ("" if it was never written).
    Get {
        /// The key read.
        key: String,
    },
    /// Replace the value of `key` with `value`.
    Put {
        /// The key written.
        key: String,
        /// The new value.
        value: String,
    },
    /// Add `value` at the end of the value of `key`.
    Append {
        /// The key written.
        key: String,
        /// The text appended.
        value: String,
    },
}

impl KvInput {
    /// The key the request is about.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

/// A response of the key-value store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KvOutput {
    /// For a Get, the value read; ignored for Put and Append.
    pub value: String,
}

/// The key-value store's specification. Keys are independent, so a history is split by
/// key, and a state is the value of one key.
///
/// A Put or Append whose outcome is unknown (the clerk gave up) is recorded with `ret` =
/// [`crate::NEVER_RETURNED`] and any output (it is ignored); a Get whose outcome is
/// unknown is left out of the history (see [`crate::Operation`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct KvModel;

impl Model for KvModel {
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        match input {
            KvInput::Get { .. } => (output.value == *state).then(|| state.clone()),
            KvInput::Put { value, .. } => Some(value.clone()),
            KvInput::Append { value, .. } => {
                let mut next = String::with_capacity(state.len() + value.len());
                next.push_str(state);
                next.push_str(value);
                Some(next)
            }
        }
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    /// Appends only ever extend a value: a Get can still fit only if the value now is a
    /// prefix of what it read, or if a Put that may come first wrote a prefix of it.
    fn read_may_still_fit(
        &self,
        state: &String,
        _input: &KvInput,
        output: &KvOutput,
        writes: &mut dyn Iterator<Item = &KvInput>,
    ) -> bool {
        if output.value.starts_with(state.as_str()) {
            return true;
        }
        // Otherwise only a Put whose value begins the value read can help (Appends after
        // it then make up the rest).
        for write in writes {
            if let KvInput::Put { value, .. } = write
                && output.value.starts_with(value.as_str())
            {
                return true;
            }
        }
        false
    }

    /// A Get's value must be some Put's value (or empty) followed by some of the
    /// Appends' values, each at most once. Gives up on a value (taking it as possible)
    /// when too many ways to split it must be tried. A value that is a prefix of one
    /// already split, ending where one of its appended values ended, needs no new split:
    /// with the lab's distinct appended values, a key's Gets mostly read prefixes of one
    /// another, so checking them all costs little more than the longest.
    fn find_impossible_read(
        &self,
        writes: &[&KvInput],
        reads: &[(&KvInput, &KvOutput)],
    ) -> Option<usize> {
        let mut appends: HashMap<&str, usize, BuildHasherDefault<FoldHasher>> = HashMap::default();
        let mut puts = Vec::new();
        for write in writes {
            match write {
                KvInput::Put { value, .. } => puts.push(value.as_str()),
                // An empty append changes nothing: it never needs placing.
                KvInput::Append { value, .. } if !value.is_empty() => {
                    *appends.entry(value.as_str()).or_default() += 1;
                }
                KvInput::Append { .. } | KvInput::Get { .. } => {}
            }
        }
        let mut lengths: Vec<usize> = appends.keys().map(|value| value.len()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        // Values split from the empty start, longest first, each with the offsets where
        // its appended values end.
        let mut split: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut order: Vec<usize> = (0..reads.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(reads[i].1.value.len()));
        let mut impossible = Vec::new();
        for i in order {
            let value = reads[i].1.value.as_str();
            let known = value.is_empty()
                || split.iter().any(|(longer, ends)| {
                    longer.starts_with(value) && ends.binary_search(&value.len()).is_ok()
                });
            if known {
                continue;
            }
            let mut tries = MAX_SPLIT_TRIES;
            let mut ends = Vec::new();
            if made_of(value, 0, &mut appends, &lengths, &mut tries, &mut ends) {
                // A few of the longest are enough to recognise most prefixes.
                if split.len() < KEPT_SPLITS && !ends.is_empty() {
                    split.push((value, ends));
                }
                continue;
            }
            let after_put = puts.iter().any(|put| {
                value.strip_prefix(put).is_some_and(|rest| {
                    let mut tries = MAX_SPLIT_TRIES;
                    made_of(rest, 0, &mut appends, &lengths, &mut tries, &mut Vec::new())
                })
            });
            if !after_put {
                impossible.push(i);
            }
        }
        impossible.into_iter().min()
    }

    /// One partition per key, in key order.
    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key()).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        match input {
            KvInput::Get { key } => format!("get({key:?}) -> {:?}", output.value),
            KvInput::Put { key, value } => format!("put({key:?}, {value:?})"),
            KvInput::Append { key, value } => format!("append({key:?}, {value:?})"),
        }
    }

    fn describe_state(&self, state: &String) -> String {
        format!("{state:?}")
    }

    /// A Get claims the key held the value it read.
    fn describe_read_as_state(&self, input: &KvInput, output: &KvOutput) -> Option<String> {
        matches!(input, KvInput::Get { .. }).then(|| format!("{:?}", output.value))
    }

    /// The key, quoted.
    fn describe_partition(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        part: &[usize],
        index: usize,
    ) -> String {
        part.first().map_or_else(
            || format!("partition {index}"),
            |&i| format!("key {:?}", history[i].input.key()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(value: &str) -> KvInput {
        KvInput::Append {
            key: "k".into(),
            value: value.into(),
        }
    }

    fn fits(value: &str, writes: &[KvInput]) -> bool {
        let writes: Vec<&KvInput> = writes.iter().collect();
        let get = KvInput::Get { key: "k".into() };
        let output = KvOutput {
            value: value.into(),
        };
        KvModel
            .find_impossible_read(&writes, &[(&get, &output)])
            .is_none()
    }

    #[test]
    fn a_value_must_be_made_of_appended_values() {
        let writes = [append("ab"), append("a"), append("b"), append("c")];
        assert!(fits("", &writes));
        assert!(fits("abab", &writes)); // "ab" + "a" + "b", after trying "a" + "b" first.
        assert!(fits("cba", &writes));
        assert!(!fits("cc", &writes)); // "c" was appended once.
        assert!(!fits("#7#", &writes)); // never written
        // A Put may come first.
        let put = KvInput::Put {
            key: "k".into(),
            value: "xy".into(),
        };
        assert!(fits("xyc", &[put.clone(), append("c")]));
        assert!(!fits("cxy", &[put, append("c")]));
    }

    #[test]
    fn reads_are_checked_together_and_the_first_impossible_one_is_named() {
        let writes = [append("[1]"), append("[2]"), append("[3]")];
        let writes: Vec<&KvInput> = writes.iter().collect();
        let get = KvInput::Get { key: "k".into() };
        let outputs: Vec<KvOutput> = ["[1][2][3]", "[1]", "[1][2]", "[2][2]", "#x#", ""]
            .into_iter()
            .map(|value| KvOutput {
                value: value.into(),
            })
            .collect();
        let reads: Vec<(&KvInput, &KvOutput)> = outputs.iter().map(|o| (&get, o)).collect();
        // "[2][2]" uses "[2]" twice; "#x#" was never written; the first is named.
        assert_eq!(KvModel.find_impossible_read(&writes, &reads), Some(3));
        assert_eq!(KvModel.find_impossible_read(&writes, &reads[..3]), None);
        // Prefixes of a split value that end inside one of its appended values are split
        // on their own: "[1][" is not made of appended values.
        let partial = KvOutput {
            value: "[1][".into(),
        };
        assert_eq!(
            KvModel.find_impossible_read(&writes, &[(&get, &outputs[0]), (&get, &partial)]),
            Some(1)
        );
    }
}
