//! Deterministic hashing: the same value hashes alike on every run and every machine, so
//! the search (and any order it yields) never depends on OS randomness.

use std::hash::{BuildHasherDefault, Hasher};

/// Scrambles a 64-bit value so every output bit depends on every input bit (the
/// splitmix64 finaliser).
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A fast hasher for values of the model's state: folds the input 8 bytes at a time and
/// scrambles the result once at the end. Not resistant to chosen collisions, which a
/// checker does not need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FoldHasher {
    hash: u64,
}

impl FoldHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        mix64(self.hash)
    }
}

/// Hashes one value with [`FoldHasher`].
pub(crate) fn hash_one<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = FoldHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A hasher for keys that already are well-mixed 64-bit hashes: passes them through.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PassThroughHasher {
    hash: u64,
}

impl Hasher for PassThroughHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this hasher; anything else still hashes soundly.
        for &b in bytes {
            self.hash = mix64(self.hash ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.hash = i;
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Builds [`PassThroughHasher`]s, for maps keyed by precomputed hashes.
pub(crate) type BuildPassThrough = BuildHasherDefault<PassThroughHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_across_runs() {
        // A fixed value: the hash must never depend on the process.
        assert_eq!(hash_one("abc"), hash_one(&String::from("abc")));
        assert_ne!(hash_one("abc"), hash_one("abd"));
        assert_ne!(mix64(1), mix64(2));
    }
}
