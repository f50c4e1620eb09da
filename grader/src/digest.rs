//! A stable content hash, to tell whether two reports graded the same files and rubric.
//!
//! FNV-1a (64 bits): a few lines, no dependency, the same on every machine and version. It
//! tells honest mistakes apart (shards of two students' submissions, or of two uploads of
//! one), which is all `grader merge` asks of it; it is not a cryptographic hash, and a
//! collision can be made on purpose. The algorithm is part of every hash written
//! (`fnv1a64:…`), so a stronger one can replace it without old and new hashes ever
//! comparing equal.

/// What a hash written by [`content_hash`] starts with.
pub const ALGORITHM: &str = "fnv1a64";

/// The 64-bit FNV-1a hash of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// `bytes`' hash as reports write it: `fnv1a64:` and 16 hex digits.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{ALGORITHM}:{:016x}", fnv1a64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_of_fnv1a64() {
        // The reference values of FNV's authors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(content_hash(b"a"), "fnv1a64:af63dc4c8601ec8c");
    }
}
