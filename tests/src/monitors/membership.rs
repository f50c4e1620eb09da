//! The membership monitor (part 2F): committed configurations change one server at a time,
//! so that every configuration's majorities intersect the previous one's (dissertation
//! §4.1). It hears every configuration entry any server applies.

use std::collections::BTreeMap;

use labrpc::Instant;

use super::VIOLATED;
use crate::ends::server_name;

/// The committed configurations seen so far, by index, from the cluster's initial one.
pub(crate) struct MembershipMonitor {
    /// Index 0 holds the initial configuration.
    committed: BTreeMap<u64, Vec<usize>>,
}

impl MembershipMonitor {
    /// A cluster that starts with the servers `initial`.
    pub(crate) fn new(initial: Vec<usize>) -> MembershipMonitor {
        MembershipMonitor {
            committed: BTreeMap::from([(0, initial)]),
        }
    }

    /// Server `i` applied the configuration `servers` at `index`: checks it against the
    /// committed configurations just before and just after it.
    pub(crate) fn applied(
        &mut self,
        i: usize,
        index: u64,
        servers: &[usize],
        at: Instant,
    ) -> Result<(), String> {
        if self.committed.contains_key(&index) {
            return Ok(()); // the apply monitor compares what servers apply at one index
        }
        let before = self.committed.range(..index).next_back();
        let after = self.committed.range(index + 1..).next();
        for (other_index, other) in before.into_iter().chain(after) {
            let differ = differing(servers, other);
            if differ.len() > 1 {
                return Err(format!(
                    "{VIOLATED} at {at}: configurations change one server at a time \
                     (dissertation §4.1), so that a majority of each shares a server with a \
                     majority of the next: {} applied configuration {} at index {index}, and \
                     the committed configuration at index {other_index} is {} ({} differ). \
                     Refuse a change while another is uncommitted, and build each on the \
                     latest configuration in the log.",
                    server_name(i),
                    names(servers),
                    names(other),
                    names(&differ)
                ));
            }
        }
        self.committed.insert(index, servers.to_vec());
        Ok(())
    }
}

/// The servers in exactly one of `a` and `b`.
fn differing(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut differ: Vec<usize> = a.iter().filter(|s| !b.contains(s)).copied().collect();
    differ.extend(b.iter().filter(|s| !a.contains(s)));
    differ.sort_unstable();
    differ
}

fn names(servers: &[usize]) -> String {
    let names: Vec<String> = servers.iter().map(|&s| server_name(s)).collect();
    format!("{{{}}}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::*;

    #[test]
    fn a_change_of_two_servers_at_once_is_a_violation() {
        let mut m = MembershipMonitor::new(vec![0, 1, 2, 3, 4]);
        m.applied(0, 5, &[0, 1, 2, 3], at(1)).unwrap();
        m.applied(1, 5, &[0, 1, 2, 3], at(2)).unwrap();
        m.applied(0, 9, &[0, 1, 2], at(3)).unwrap();
        let error = m.applied(2, 12, &[0, 1, 3, 4], at(4)).unwrap_err();
        assert!(error.contains("one server at a time"), "{error}");
        assert!(error.contains("{S2, S3, S4} differ"), "{error}");
        // Out of order: an index between two known ones is checked against both.
        let error = m.applied(2, 7, &[0, 1, 2, 3, 4], at(5)).unwrap_err();
        assert!(error.contains("at index 9"), "{error}");
    }
}
