//! What the controller, the key/value groups, their clerks and the tester share: shards,
//! group ids and configurations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The number of shards (the course's `NShards`).
pub const NSHARDS: usize = 10;

/// A replica group's id. Group `0` is no group: a shard assigned to it is served by nobody
/// (every shard, in the first configuration).
pub type Gid = u64;

/// The shard a key belongs to (the course's `key2shard`): its first byte, modulo
/// [`NSHARDS`]; the empty key is in shard 0. The tests use keys `"0"`, `"1"`, ... so that
/// consecutive keys fall in consecutive shards.
pub fn key2shard(key: &str) -> usize {
    key.as_bytes()
        .first()
        .map_or(0, |&b| usize::from(b) % NSHARDS)
}

/// A configuration: which group serves each shard, and the servers of each group. The
/// controller numbers them from 0; configuration 0 has no groups, and every shard in
/// group 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The configuration's number: 0 for the first, one more for each change after it.
    pub num: u64,
    /// `shards[s]`: the group that serves shard `s` (0: none).
    pub shards: [Gid; NSHARDS],
    /// Each group's servers, by name (the names a [`labrpc::Dialer`] reaches them by).
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl Config {
    /// The shards group `gid` serves, in order.
    pub fn shards_of(&self, gid: Gid) -> Vec<usize> {
        (0..NSHARDS).filter(|&s| self.shards[s] == gid).collect()
    }
}

impl std::fmt::Display for Config {
    /// `config 3: [101 101 102 ...] groups {101, 102}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "config {}: [", self.num)?;
        for (s, gid) in self.shards.iter().enumerate() {
            if s > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{gid}")?;
        }
        f.write_str("] groups {")?;
        for (i, gid) in self.groups.keys().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{gid}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_zero_to_nine_fall_in_every_shard() {
        let shards: Vec<usize> = (0..10).map(|i| key2shard(&i.to_string())).collect();
        // '0' is byte 48: shard 8.
        assert_eq!(shards, [8, 9, 0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(key2shard(""), 0);
    }
}
