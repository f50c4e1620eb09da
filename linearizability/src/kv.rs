//! A key-value store with Get, Put and Append, as in the lab's KV service.

use std::collections::BTreeMap;

use crate::model::{Model, Operation};

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

    /// Appends only ever extend a value: unless a Put may come first, a Get can still fit
    /// only if the value now is a prefix of what it read.
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
        for write in writes {
            if matches!(write, KvInput::Put { .. }) {
                return true;
            }
        }
        false
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
