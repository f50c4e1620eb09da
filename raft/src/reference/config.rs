//! Cluster membership (part 2F; dissertation §4.1–4.2): which servers' votes and copies
//! count.
//!
//! A configuration is a log entry like any other, and a server uses the latest one in its
//! log as soon as it has it, committed or not (§4.1); if that entry is cut off by a
//! conflicting leader, the server falls back to the one before (or to the one its snapshot
//! holds, or to the cluster's initial one). Configurations change one server at a time, so
//! that any majority of the old one and any majority of the new one share a server: no two
//! leaders can be elected in one term, whichever configuration each counts with.

use serde::{Deserialize, Serialize};

/// A configuration: the servers whose votes and copies count, in increasing order.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Configuration {
    members: Vec<usize>,
}

impl Configuration {
    /// Every one of `servers` servers (the course's fixed cluster).
    pub(crate) fn all(servers: usize) -> Configuration {
        Configuration {
            members: (0..servers).collect(),
        }
    }

    /// The configuration of `members`, in any order.
    pub(crate) fn of(mut members: Vec<usize>) -> Configuration {
        members.sort_unstable();
        members.dedup();
        Configuration { members }
    }

    pub(crate) fn members(&self) -> &[usize] {
        &self.members
    }

    pub(crate) fn contains(&self, server: usize) -> bool {
        self.members.binary_search(&server).is_ok()
    }

    /// This configuration with `server` added.
    pub(crate) fn with(&self, server: usize) -> Configuration {
        let mut members = self.members.clone();
        members.push(server);
        Configuration::of(members)
    }

    /// This configuration without `server`.
    pub(crate) fn without(&self, server: usize) -> Configuration {
        Configuration {
            members: self
                .members
                .iter()
                .copied()
                .filter(|&s| s != server)
                .collect(),
        }
    }

    /// Whether the members for which `has` holds are a majority of this configuration (an
    /// empty configuration has none).
    pub(crate) fn is_quorum(&self, has: impl Fn(usize) -> bool) -> bool {
        let count = self.members.iter().filter(|&&s| has(s)).count();
        !self.members.is_empty() && count > self.members.len() / 2
    }

    /// The highest value that a majority of the members hold at least of (`value(s)` for
    /// member `s`): the commit rule's "a majority of matchIndex[i] ≥ N". 0 for an empty
    /// configuration.
    pub(crate) fn quorum_value(&self, value: impl Fn(usize) -> u64) -> u64 {
        let mut values: Vec<u64> = self.members.iter().map(|&s| value(s)).collect();
        if values.is_empty() {
            return 0;
        }
        values.sort_unstable_by(|a, b| b.cmp(a));
        values[values.len() / 2]
    }
}

impl std::fmt::Display for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.members.iter().map(|s| format!("S{s}")).collect();
        write!(f, "{{{}}}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majorities_count_members_only() {
        let config = Configuration::of(vec![4, 0, 2]);
        assert_eq!(config.members(), [0, 2, 4]);
        assert!(config.is_quorum(|s| s == 0 || s == 4));
        assert!(!config.is_quorum(|s| s == 0 || s == 1 || s == 3));
        assert!(!Configuration::default().is_quorum(|_| true));
        assert_eq!(config.quorum_value(|s| [7, 9, 5, 9, 6][s]), 6);
        assert_eq!(config.with(1).members(), [0, 1, 2, 4]);
        assert_eq!(config.without(2).members(), [0, 4]);
        assert_eq!(config.to_string(), "{S0, S2, S4}");
    }
}
