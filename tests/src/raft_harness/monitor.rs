//! The invariant monitors: checks that watch the cluster all the time, in every test, not
//! only at the moments a test's own checks look.
//!
//! They see only what a student's Raft exposes: `state()` (its term, and whether it
//! believes it leads), what it applies, and how many messages its node has sent. They
//! run on every event that could change what they watch:
//!
//! - **after every poll of a server's tasks** (a labrpc node observer): a server's term
//!   and role change only while its code runs, so no change goes unseen;
//! - **on every apply** (the appliers call them), commands and snapshots alike;
//! - **when a server restarts**.
//!
//! They fail a test only when Raft is really wrong, so the course-parity tests keep their
//! meaning: a run that breaks none of these rules can still fail a parity test, never the
//! other way round because of them. A violation fails the run at once, at the exact
//! virtual time, with the invariant's name, the servers and terms involved.
//!
//! What they cannot see: the entries a server acknowledged (students encode their own
//! messages). A server that loses acknowledged entries in a crash shows up later, as a
//! committed entry that changes, which the apply monitor catches.

use std::collections::BTreeMap;

use labrpc::Instant;

use crate::ends::server_name;

/// The prefix of every monitor's failure message.
const VIOLATED: &str = "invariant violated";

/// What the state monitor knows of one server.
#[derive(Default)]
struct Watched {
    /// The incarnation being watched (each start of the server is a new one).
    incarnation: u64,
    /// The last sample of the current incarnation.
    last: Option<Sample>,
    /// The highest term the server had revealed to others (sent a message in) before now,
    /// in any incarnation.
    revealed: Option<Revealed>,
}

#[derive(Clone, Copy)]
struct Sample {
    term: u64,
    at: Instant,
    messages_sent: u64,
}

#[derive(Clone, Copy)]
struct Revealed {
    term: u64,
    at: Instant,
    incarnation: u64,
}

/// The state monitor: Election Safety, and terms that never go back, also across a
/// restart.
pub(super) struct StateMonitor {
    servers: Vec<Watched>,
    /// For each term, the first server seen leading it, and when.
    leaders: BTreeMap<u64, (usize, Instant)>,
}

impl StateMonitor {
    pub(super) fn new(n: usize) -> StateMonitor {
        StateMonitor {
            servers: (0..n).map(|_| Watched::default()).collect(),
            leaders: BTreeMap::new(),
        }
    }

    /// Server `i` starts as `incarnation`: its first sample is checked against what the
    /// earlier incarnations revealed.
    pub(super) fn restarted(&mut self, i: usize, incarnation: u64) {
        let watched = &mut self.servers[i];
        watched.incarnation = incarnation;
        watched.last = None;
    }

    /// Server `i` (its `incarnation`) says it is in `term`, leading or not, at `at`,
    /// having sent `messages_sent` messages so far. Checks every state invariant.
    pub(super) fn sample(
        &mut self,
        i: usize,
        incarnation: u64,
        (term, leader): (u64, bool),
        messages_sent: u64,
        at: Instant,
    ) -> Result<(), String> {
        let watched = &mut self.servers[i];
        if watched.incarnation != incarnation {
            return Ok(()); // an observer of a dead incarnation, dropped soon
        }
        let name = server_name(i);
        match watched.last {
            None => {
                // The first sample after a (re)start: a term it revealed before the crash
                // was persisted, so the new incarnation cannot be behind it.
                if let Some(revealed) = watched.revealed
                    && term < revealed.term
                {
                    return Err(format!(
                        "{VIOLATED} at {at}: a restarted server keeps its persistent state \
                         (Figure 2: currentTerm is persistent, saved before responding to \
                         RPCs): {name} restarted in term {term}, but at {} (incarnation {}) \
                         it had already sent messages in term {}. Persist currentTerm (and \
                         votedFor) every time it changes, before any message reveals it, \
                         and read them back in Raft::new.",
                        revealed.at, revealed.incarnation, revealed.term
                    ));
                }
            }
            Some(last) => {
                if term < last.term {
                    return Err(format!(
                        "{VIOLATED} at {at}: a server's term never decreases (§5.1: \
                         currentTerm increases monotonically): {name} was in term {} at {} \
                         and is in term {term} now.",
                        last.term, last.at
                    ));
                }
                // It sent something since the last sample, while in at least that
                // sample's term: whatever it sent revealed that term.
                if messages_sent > last.messages_sent
                    && watched.revealed.is_none_or(|r| r.term < last.term)
                {
                    watched.revealed = Some(Revealed {
                        term: last.term,
                        at,
                        incarnation,
                    });
                }
            }
        }
        watched.last = Some(Sample {
            term,
            at,
            messages_sent,
        });
        if leader {
            let (first, since) = *self.leaders.entry(term).or_insert((i, at));
            if first != i {
                return Err(format!(
                    "{VIOLATED} at {at}: Election Safety (§5.2, Figure 3: at most one leader \
                     can be elected in a given term): {} and {name} both lead term {term} \
                     ({} was seen leading it at {since}). Either a server voted twice in one \
                     term (votedFor must hold for the whole term, be reset only when the \
                     term changes, and be persisted before the vote is sent), or a vote was \
                     granted or counted for the wrong term.",
                    server_name(first),
                    server_name(first),
                ));
            }
        }
        Ok(())
    }
}

/// What one server has applied in its current incarnation.
#[derive(Clone, Copy, Default)]
struct AppliedSoFar {
    /// The last index applied, by a command or a snapshot (0 if none).
    index: u64,
    /// Whether the last thing applied was a snapshot (for the message).
    by_snapshot: bool,
}

/// The apply monitor: committed entries never change, and each server applies them in
/// index order without gaps, also across snapshots and restarts.
pub(super) struct ApplyMonitor {
    /// Every command ever applied at each index, by any server in any incarnation: the
    /// first server that applied it, and when.
    committed: BTreeMap<u64, (u64, usize, Instant)>,
    servers: Vec<AppliedSoFar>,
}

impl ApplyMonitor {
    pub(super) fn new(n: usize) -> ApplyMonitor {
        ApplyMonitor {
            committed: BTreeMap::new(),
            servers: vec![AppliedSoFar::default(); n],
        }
    }

    /// Server `i` restarts; the service restored a snapshot covering up to
    /// `snapshot_index` (0 if none), so Raft must go on from the entry after it.
    pub(super) fn restarted(&mut self, i: usize, snapshot_index: u64) {
        self.servers[i] = AppliedSoFar {
            index: snapshot_index,
            by_snapshot: snapshot_index > 0,
        };
    }

    /// Server `i` applied `command` at `index`.
    pub(super) fn command(
        &mut self,
        i: usize,
        index: u64,
        command: u64,
        at: Instant,
    ) -> Result<(), String> {
        let name = server_name(i);
        let so_far = self.servers[i];
        if index != so_far.index + 1 {
            let after = if so_far.by_snapshot {
                format!("a snapshot up to index {}", so_far.index)
            } else if so_far.index == 0 {
                "nothing since it (re)started".to_owned()
            } else {
                format!("index {}", so_far.index)
            };
            return Err(format!(
                "{VIOLATED} at {at}: every server applies every committed entry once, in \
                 index order (Figure 2: lastApplied advances one index at a time, also after \
                 a restart and after a snapshot): {name} applied index {index} right after \
                 {after}. After a restart, lastApplied starts from the snapshot (or 0), so \
                 entries are applied again from there."
            ));
        }
        match self.committed.get(&index) {
            Some(&(first, by, when)) if first != command => {
                return Err(format!(
                    "{VIOLATED} at {at}: committed entries never change (State Machine \
                     Safety, §5.4.3, Figure 3): {name} applied command {command} at index \
                     {index}, but {} applied command {first} there at {when}.",
                    server_name(by)
                ));
            }
            Some(_) => {}
            None => {
                self.committed.insert(index, (command, i, at));
            }
        }
        self.servers[i] = AppliedSoFar {
            index,
            by_snapshot: false,
        };
        Ok(())
    }

    /// Server `i` installed a snapshot covering up to `index`.
    pub(super) fn snapshot(&mut self, i: usize, index: u64, at: Instant) -> Result<(), String> {
        let so_far = self.servers[i];
        if index < so_far.index {
            return Err(format!(
                "{VIOLATED} at {at}: the service never goes back (Figure 13: a snapshot \
                 older than what the server has applied is discarded, not installed): {} \
                 was sent a snapshot up to index {index} after it had applied up to {}.",
                server_name(i),
                so_far.index
            ));
        }
        self.servers[i] = AppliedSoFar {
            index,
            by_snapshot: true,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::START + std::time::Duration::from_millis(ms)
    }

    #[test]
    fn two_leaders_in_one_term_violate_election_safety_even_at_different_times() {
        let mut m = StateMonitor::new(3);
        for i in 0..3 {
            m.restarted(i, i as u64 + 1);
        }
        m.sample(0, 1, (2, true), 1, at(10)).unwrap();
        m.sample(0, 1, (3, false), 2, at(20)).unwrap();
        m.sample(1, 2, (3, true), 1, at(30)).unwrap();
        let error = m.sample(2, 3, (2, true), 1, at(40)).unwrap_err();
        assert!(error.contains("Election Safety"), "{error}");
        assert!(error.contains("S0 and S2 both lead term 2"), "{error}");
        assert!(error.contains("at 0.040000s"), "{error}");
    }

    #[test]
    fn a_term_that_goes_down_is_a_violation() {
        let mut m = StateMonitor::new(1);
        m.restarted(0, 1);
        m.sample(0, 1, (4, false), 0, at(1)).unwrap();
        let error = m.sample(0, 1, (3, false), 0, at(2)).unwrap_err();
        assert!(error.contains("never decreases"), "{error}");
    }

    #[test]
    fn a_restart_may_not_forget_a_term_the_server_revealed() {
        let mut m = StateMonitor::new(1);
        m.restarted(0, 1);
        m.sample(0, 1, (5, false), 0, at(1)).unwrap();
        // Moves to term 6 but sends nothing in it: a crash may lose term 6.
        m.sample(0, 1, (6, false), 1, at(2)).unwrap();
        m.restarted(0, 2);
        m.sample(0, 2, (5, false), 0, at(3)).unwrap();
        // In term 6 again, it sends a message: term 6 is revealed.
        m.sample(0, 2, (6, false), 0, at(4)).unwrap();
        m.sample(0, 2, (6, false), 1, at(5)).unwrap();
        m.restarted(0, 3);
        let error = m.sample(0, 3, (5, false), 0, at(6)).unwrap_err();
        assert!(error.contains("restarted in term 5"), "{error}");
        assert!(error.contains("in term 6"), "{error}");
    }

    #[test]
    fn samples_of_a_dead_incarnation_are_ignored() {
        let mut m = StateMonitor::new(1);
        m.restarted(0, 1);
        m.sample(0, 1, (5, false), 0, at(1)).unwrap();
        m.restarted(0, 2);
        m.sample(0, 1, (1, false), 0, at(2)).unwrap();
    }

    #[test]
    fn applies_must_follow_each_other_also_after_a_restart() {
        let mut m = ApplyMonitor::new(2);
        m.command(0, 1, 10, at(1)).unwrap();
        m.command(0, 2, 20, at(2)).unwrap();
        m.restarted(0, 0);
        let error = m.command(0, 3, 30, at(3)).unwrap_err();
        assert!(
            error.contains("applied index 3 right after nothing"),
            "{error}"
        );
        m.restarted(0, 2);
        m.command(0, 3, 30, at(4)).unwrap();
    }

    #[test]
    fn a_committed_entry_that_changes_is_caught_across_servers_and_incarnations() {
        let mut m = ApplyMonitor::new(2);
        m.command(0, 1, 10, at(1)).unwrap();
        m.restarted(0, 0);
        let error = m.command(0, 1, 11, at(2)).unwrap_err();
        assert!(
            error.contains("S0 applied command 11 at index 1"),
            "{error}"
        );
        m.command(1, 1, 10, at(3)).unwrap();
    }

    #[test]
    fn a_snapshot_may_not_take_the_service_back() {
        let mut m = ApplyMonitor::new(1);
        for index in 1..=5 {
            m.command(0, index, index, at(index)).unwrap();
        }
        m.snapshot(0, 5, at(6)).unwrap();
        m.snapshot(0, 9, at(7)).unwrap();
        m.command(0, 10, 10, at(8)).unwrap();
        assert!(m.snapshot(0, 8, at(9)).is_err());
    }
}
