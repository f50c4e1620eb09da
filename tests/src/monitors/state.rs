//! The state monitor: Election Safety, and terms that never go back, also across a
//! restart. It samples each server's `state()` after every poll of its tasks.

use std::collections::BTreeMap;

use labrpc::Instant;

use super::VIOLATED;
use crate::ends::server_name;
use crate::raft_harness::hints::{MESSAGE_STORM, TWO_LEADERS};

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
    leader: bool,
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
pub(crate) struct StateMonitor {
    servers: Vec<Watched>,
    /// For each term, the first server seen leading it, and when.
    leaders: BTreeMap<u64, (usize, Instant)>,
    /// The messages each server sent at the latest virtual instant seen, for
    /// [`StateMonitor::storm`].
    instant: (Instant, Vec<u64>),
    /// Each server's name, for messages.
    names: Vec<String>,
}

/// This many messages sent without virtual time moving is a storm: some server answers
/// every reply with a new request at once, without end. (A correct Raft sends a few per
/// server at one instant; a livelock, which labrpc reports after ten million polls with
/// the clock stopped, sends hundreds of thousands.)
const STORM_MESSAGES: u64 = 10_000;

impl StateMonitor {
    pub(crate) fn new(n: usize) -> StateMonitor {
        StateMonitor::named((0..n).map(server_name).collect())
    }

    /// A monitor of servers called `names` in its messages (Lab 4: a group's servers,
    /// `server-101-0`, ...).
    pub(crate) fn named(names: Vec<String>) -> StateMonitor {
        let n = names.len();
        StateMonitor {
            names,
            servers: (0..n).map(|_| Watched::default()).collect(),
            leaders: BTreeMap::new(),
            instant: (Instant::START, vec![0; n]),
        }
    }

    /// Server `i` starts as `incarnation`: its first sample is checked against what the
    /// earlier incarnations revealed.
    pub(crate) fn restarted(&mut self, i: usize, incarnation: u64) {
        let watched = &mut self.servers[i];
        watched.incarnation = incarnation;
        watched.last = None;
    }

    /// Whether any server has been seen leading, in any term.
    pub(crate) fn ever_led(&self) -> bool {
        !self.leaders.is_empty()
    }

    /// What to say in front of a failure that comes while the servers send messages
    /// without virtual time moving (labrpc's livelock, typically): how many, and what
    /// usually causes it. `None` if they do not.
    pub(crate) fn storm(&self) -> Option<String> {
        let (at, sent) = &self.instant;
        let total: u64 = sent.iter().sum();
        if total < STORM_MESSAGES {
            return None;
        }
        let by_server: Vec<String> = sent
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(i, n)| format!("{} {n}", self.names[i]))
            .collect();
        Some(format!(
            "The servers sent {total} messages at {at} without virtual time moving ({}). \
             {MESSAGE_STORM}",
            by_server.join(", ")
        ))
    }

    /// Server `i` (its `incarnation`) says it is in `term`, leading or not, at `at`,
    /// having sent `messages_sent` messages so far. Checks every state invariant.
    pub(crate) fn sample(
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
        // The messages sent since the last sample, counted for the instant they were sent.
        let (instant, sent) = &mut self.instant;
        if *instant != at {
            *instant = at;
            sent.fill(0);
        }
        if let Some(last) = &watched.last {
            sent[i] += messages_sent.saturating_sub(last.messages_sent);
        }
        // Most samples (this runs after every poll of every server) find the state as it
        // was: then only what the server revealed since can change. Everything else below
        // was checked when the state was first seen (its leader entry included).
        if let Some(last) = &mut watched.last
            && (last.term, last.leader) == (term, leader)
        {
            if messages_sent > last.messages_sent
                && watched.revealed.is_none_or(|r| r.term < last.term)
            {
                watched.revealed = Some(Revealed {
                    term: last.term,
                    at,
                    incarnation,
                });
            }
            last.at = at;
            last.messages_sent = messages_sent;
            return Ok(());
        }
        // Named only when something is said.
        let names = &self.names;
        let name = || names[i].clone();
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
                         RPCs): {} restarted in term {term}, but at {} (incarnation {}) \
                         it had already sent messages in term {}. Persist currentTerm (and \
                         votedFor) every time it changes, before any message reveals it, \
                         and read them back in Raft::new.",
                        name(),
                        revealed.at,
                        revealed.incarnation,
                        revealed.term
                    ));
                }
            }
            Some(last) => {
                if term < last.term {
                    return Err(format!(
                        "{VIOLATED} at {at}: a server's term never decreases (§5.1: \
                         currentTerm increases monotonically): {} was in term {} at {} \
                         and is in term {term} now. Usually caused by setting currentTerm \
                         from a message without checking that its term is higher (Figure 2, \
                         Rules for All Servers: only if T > currentTerm).",
                        name(),
                        last.term,
                        last.at
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
        if watched
            .last
            .is_none_or(|last| (last.term, last.leader) != (term, leader))
        {
            crate::events::state(&name(), term, leader);
        }
        watched.last = Some(Sample {
            term,
            leader,
            at,
            messages_sent,
        });
        if leader {
            let (first, since) = *self.leaders.entry(term).or_insert((i, at));
            if first != i {
                return Err(format!(
                    "{VIOLATED} at {at}: Election Safety (§5.2, Figure 3: at most one leader \
                     can be elected in a given term): {} and {} both lead term {term} \
                     ({} was seen leading it at {since}). {TWO_LEADERS}",
                    self.names[first],
                    name(),
                    self.names[first],
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::*;

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
        assert!(
            error.contains("Usually caused by: a server voting twice"),
            "{error}"
        );
    }

    #[test]
    fn messages_sent_without_time_moving_are_a_storm() {
        let mut m = StateMonitor::new(3);
        for i in 0..3 {
            m.restarted(i, 1);
        }
        m.sample(0, 1, (1, true), 0, at(1)).unwrap();
        m.sample(2, 1, (1, false), 0, at(1)).unwrap();
        // Many messages, but spread over time: no storm.
        for k in 1..=100 {
            m.sample(0, 1, (1, true), k * 1000, at(1 + k)).unwrap();
        }
        assert!(m.storm().is_none());
        // Then messages back and forth at one instant.
        for k in 1..=6000 {
            m.sample(0, 1, (1, true), 100_000 + k, at(200)).unwrap();
            m.sample(2, 1, (1, false), k, at(200)).unwrap();
        }
        let note = m.storm().expect("a storm");
        assert!(note.contains("12000 messages at 0.200000s"), "{note}");
        assert!(note.contains("(S0 6000, S2 6000)"), "{note}");
        assert!(note.contains("AppendEntries rule 3"), "{note}");
        // Time moves on: the storm is over.
        m.sample(1, 1, (1, false), 0, at(201)).unwrap();
        assert!(m.storm().is_none());
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
}
