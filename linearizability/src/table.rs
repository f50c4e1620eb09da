//! The search's memory: the distinct model states met so far (each stored once), and the
//! configurations already explored (which operations are linearized, and in which state).

use std::collections::HashMap;
use std::hash::Hash;

use crate::hash::{BuildPassThrough, hash_one, mix64};

/// Finds entries by a precomputed 64-bit hash; entries are numbered in insertion order
/// and their contents live with the caller. Entries with the same hash are chained.
#[derive(Debug, Default)]
struct ChainIndex {
    /// The newest entry with each hash.
    heads: HashMap<u64, u32, BuildPassThrough>,
    /// For each entry, the previous entry with the same hash, or `u32::MAX`.
    chain: Vec<u32>,
}

impl ChainIndex {
    /// The entry with this `hash` for which `is_match` holds, if any.
    fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut at = *self.heads.get(&hash)?;
        while at != u32::MAX {
            if is_match(at) {
                return Some(at);
            }
            at = self.chain[at as usize];
        }
        None
    }

    /// Adds an entry with this `hash` and returns its number.
    fn push(&mut self, hash: u64) -> u32 {
        let id = u32::try_from(self.chain.len()).expect("fewer than 2^32 search entries");
        let previous = self.heads.insert(hash, id).unwrap_or(u32::MAX);
        self.chain.push(previous);
        id
    }
}

/// The distinct states met by the search, each stored once and named by a small number,
/// so that the stack and the explored-configuration cache hold numbers, not copies.
#[derive(Debug)]
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    index: ChainIndex,
}

impl<S: Eq + Hash> StateTable<S> {
    /// A table holding only `initial`, numbered 0.
    pub(crate) fn new(initial: S) -> StateTable<S> {
        let mut table = StateTable {
            states: Vec::new(),
            index: ChainIndex::default(),
        };
        table.intern(initial);
        table
    }

    /// The number of `state`, storing it if it is new.
    pub(crate) fn intern(&mut self, state: S) -> u32 {
        let hash = hash_one(&state);
        if let Some(id) = self
            .index
            .find(hash, |id| self.states[id as usize] == state)
        {
            return id;
        }
        let id = self.index.push(hash);
        self.states.push(state);
        id
    }

    /// The state numbered `id`.
    pub(crate) fn get(&self, id: u32) -> &S {
        &self.states[id as usize]
    }
}

/// The configurations the search has reached: a set of linearized operations together
/// with the state they led to. Reaching one again cannot lead anywhere new.
#[derive(Debug)]
pub(crate) struct Visited {
    words_per_entry: usize,
    /// The bitsets of all entries, back to back.
    words: Vec<u64>,
    states: Vec<u32>,
    index: ChainIndex,
}

impl Visited {
    /// An empty cache for bitsets of `words_per_entry` words.
    pub(crate) fn new(words_per_entry: usize) -> Visited {
        Visited {
            words_per_entry,
            words: Vec::new(),
            states: Vec::new(),
            index: ChainIndex::default(),
        }
    }

    /// Records the configuration (`linearized`, `state`), whose bitset hashes to
    /// `bits_hash`; returns whether it is new.
    pub(crate) fn insert(&mut self, linearized: &Bitset, bits_hash: u64, state: u32) -> bool {
        let hash = bits_hash ^ mix64(u64::from(state));
        let width = self.words_per_entry;
        let found = self.index.find(hash, |id| {
            let id = id as usize;
            self.states[id] == state
                && self.words[id * width..(id + 1) * width] == *linearized.words()
        });
        if found.is_some() {
            return false;
        }
        self.index.push(hash);
        self.words.extend_from_slice(linearized.words());
        self.states.push(state);
        true
    }

    /// Like [`Visited::insert`], for a partition with operations that may be deferred to
    /// the very end (`deferrable`, a mask of the same width as `linearized`): reports the
    /// configuration as explored if one with the same state, the same other operations,
    /// and a subset of its deferrable ones was recorded. `key_hash` must hash only the
    /// members of `linearized` outside `deferrable`.
    ///
    /// Sound because a deferrable operation fits in any state: whatever can follow this
    /// configuration can follow the recorded one too, with the extra deferrable operations
    /// placed last.
    pub(crate) fn insert_dominated(
        &mut self,
        linearized: &Bitset,
        key_hash: u64,
        state: u32,
        deferrable: &[u64],
    ) -> bool {
        let hash = key_hash ^ mix64(u64::from(state));
        let width = self.words_per_entry;
        let current = linearized.words();
        let found = self.index.find(hash, |id| {
            let id = id as usize;
            self.states[id] == state
                && self.words[id * width..(id + 1) * width]
                    .iter()
                    .zip(current)
                    .zip(deferrable)
                    .all(|((&seen, &now), &mask)| {
                        (seen ^ now) & !mask == 0 && seen & mask & !now == 0
                    })
        });
        if found.is_some() {
            return false;
        }
        self.index.push(hash);
        self.words.extend_from_slice(current);
        self.states.push(state);
        true
    }
}

/// A set of operation numbers, with a hash kept up to date as members come and go
/// (each operation has a fixed random-looking key; the hash is the XOR of the members').
#[derive(Debug, Clone)]
pub(crate) struct Bitset {
    words: Vec<u64>,
    hash: u64,
}

impl Bitset {
    /// An empty set able to hold `0..len`.
    pub(crate) fn new(len: usize) -> Bitset {
        Bitset {
            words: vec![0; len.div_ceil(64)],
            hash: 0,
        }
    }

    /// The set's words, bit `i % 64` of word `i / 64` standing for member `i`.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// A hash of the members, equal for equal sets.
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// Adds `i`, which must be absent.
    pub(crate) fn insert(&mut self, i: u32) {
        self.words[i as usize / 64] |= 1 << (i % 64);
        self.hash ^= mix64(u64::from(i));
    }

    /// Removes `i`, which must be present.
    pub(crate) fn remove(&mut self, i: u32) {
        self.words[i as usize / 64] &= !(1 << (i % 64));
        self.hash ^= mix64(u64::from(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_stored_once() {
        let mut table = StateTable::new(String::new());
        let a = table.intern("a".to_string());
        assert_eq!(table.intern(String::new()), 0);
        assert_eq!(table.intern("a".to_string()), a);
        assert_eq!(table.get(a), "a");
    }

    #[test]
    fn visited_configurations_are_recognised() {
        let mut visited = Visited::new(2);
        let mut set = Bitset::new(100);
        set.insert(70);
        assert!(visited.insert(&set, set.hash(), 3));
        assert!(!visited.insert(&set, set.hash(), 3));
        assert!(visited.insert(&set, set.hash(), 4));
        set.remove(70);
        set.insert(5);
        assert!(visited.insert(&set, set.hash(), 3));
        set.remove(5);
        assert_eq!(set.hash(), 0);
    }

    #[test]
    fn configurations_with_more_deferrable_operations_are_dominated() {
        // Operations 1 and 2 are deferrable; 0 is not.
        let mut mask = Bitset::new(3);
        mask.insert(1);
        mask.insert(2);
        let mut visited = Visited::new(1);
        let mut set = Bitset::new(3);
        set.insert(0);
        let key = mix64(0);
        assert!(visited.insert_dominated(&set, key, 7, mask.words()));
        set.insert(1);
        // {0, 1} in state 7 is dominated by {0} in state 7...
        assert!(!visited.insert_dominated(&set, key, 7, mask.words()));
        // ...but not in another state.
        assert!(visited.insert_dominated(&set, key, 8, mask.words()));
        // {1} lacks the non-deferrable 0: not dominated.
        set.remove(0);
        assert!(visited.insert_dominated(&set, 0, 7, mask.words()));
    }
}
