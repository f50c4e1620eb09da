//! The checks: leaders and terms, what was committed, and `one()`, the course's way of
//! getting a command agreed on. Each check and its outcome is logged under the target
//! `tester`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use rand::RngExt;

use super::commands::encode_command;
use super::hints::{LEADER_WITHOUT_MAJORITY, NO_LEADER, TERMS_DIFFER, TWO_LEADERS, no_agreement};
use super::{Config, names};

/// What the failure says first when no leader appears, before what usually causes it.
const NO_LEADER_QUESTION: &str = "Is leader election (2A) working: do followers start an \
    election when they hear no heartbeat, and does a candidate with a majority of votes \
    become leader?";

/// Which connected servers claimed leadership, in which terms, while a check ran.
#[derive(Default)]
struct LeaderClaims(BTreeMap<u64, BTreeSet<usize>>);

impl LeaderClaims {
    fn note(&mut self, term: u64, server: usize) {
        self.0.entry(term).or_default().insert(server);
    }
}

impl fmt::Display for LeaderClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let terms: Vec<String> = self
            .0
            .iter()
            .map(|(term, servers)| format!("term {term}: {}", names(servers.iter().copied())))
            .collect();
        f.write_str(&terms.join("; "))
    }
}

impl Config {
    /// Notes which connected servers claim leadership now.
    fn note_leaders(&self, claims: &mut LeaderClaims) {
        for i in self.connected_servers() {
            if let Some((term, true)) = self.on_server(i, |raft| raft.state()) {
                claims.note(term, i);
            }
        }
    }

    /// `checkOneLeader`: polls up to ten times, 450–549 ms apart, until some connected
    /// server claims leadership; fails if a term has two leaders, or if none appears.
    /// Returns the leader of the newest term.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            let ms = labrpc::rng().random_range(450..550);
            labrpc::sleep(Duration::from_millis(ms)).await;
            let mut claims = LeaderClaims::default();
            self.note_leaders(&mut claims);
            for (term, leaders) in &claims.0 {
                if leaders.len() > 1 {
                    fail!(
                        "term {term} has {} (>1) leaders: {}. {TWO_LEADERS}",
                        leaders.len(),
                        names(leaders.iter().copied())
                    );
                }
            }
            if let Some((term, leaders)) = claims.0.last_key_value() {
                let leader = *leaders.first().expect("a term in the map has a leader");
                crate::events::passed(format!("check_one_leader: S{leader} leads term {term}"));
                return leader;
            }
        }
        fail!(
            "expected one leader, got none (after 10 checks over ~5 s; connected: {}). \
             {NO_LEADER_QUESTION} {NO_LEADER}",
            names(self.connected_servers())
        )
    }

    /// `checkTerms`: every connected server is in the same term; returns it.
    pub fn check_terms(&self) -> u64 {
        let mut agreed: Option<(usize, u64)> = None;
        for i in self.connected_servers() {
            let (term, _) = self.state(i);
            match agreed {
                None => agreed = Some((i, term)),
                Some((first, t)) if t != term => {
                    fail!(
                        "servers disagree on term: S{first} is in term {t}, S{i} in term \
                         {term}. {TERMS_DIFFER}"
                    )
                }
                Some(_) => {}
            }
        }
        let term = agreed.map_or(0, |(_, t)| t);
        crate::events::passed(format!(
            "check_terms: all connected servers are in term {term}"
        ));
        term
    }

    /// `checkNoLeader`: no connected server claims to be leader.
    pub fn check_no_leader(&self) {
        for i in self.connected_servers() {
            let (term, is_leader) = self.state(i);
            if is_leader {
                fail!(
                    "expected no leader among connected servers, but S{i} claims to be leader \
                     (term {term}). {LEADER_WITHOUT_MAJORITY}"
                );
            }
        }
        crate::events::passed("check_no_leader: no connected server leads");
    }

    /// Fails the test if any applier recorded an error.
    pub fn check_apply_errors(&self) {
        if let Some(error) = self.inner.applied.lock().first_error() {
            fail!("apply error: {error}");
        }
    }

    /// `nCommitted(index)`: how many servers applied `index`, and the command there.
    /// Fails on an apply error or if two servers applied different commands.
    pub fn n_committed(&self, index: u64) -> (usize, Option<u64>) {
        self.check_apply_errors();
        let committed = self.inner.applied.lock().committed_at(index);
        committed.unwrap_or_else(|error| fail!("{error}"))
    }

    /// `wait(index, n, start_term)`: waits (10 ms, doubling to ~1 s, 30 times) until at
    /// least `n` servers applied `index`; returns the command, or `None` if some server's
    /// term moved past `start_term` (the command may then legitimately never commit).
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<u64> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            labrpc::sleep(pause).await;
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(start_term) = start_term {
                for i in 0..self.n() {
                    if let Some((term, _)) = self.on_server(i, |raft| raft.state())
                        && term > start_term
                    {
                        tracing::debug!(
                            target: "tester",
                            "wait({index}): S{i} moved on to term {term}; giving up"
                        );
                        return None;
                    }
                }
            }
        }
        let (count, command) = self.n_committed(index);
        if count < n {
            fail!(
                "only {count} decided for index {index}; wanted {n}. {}",
                no_agreement(0)
            );
        }
        tracing::debug!(target: "tester", "wait({index}): {count} servers applied it");
        command
    }

    /// `one(cmd, expected_servers, retry)`: submits `command` to whichever connected
    /// server accepts it as leader, and waits for `expected_servers` to apply it. Tries
    /// for 10 s; without `retry`, a leader that accepted but did not commit within 2 s
    /// fails the test. Returns the command's index.
    pub async fn one(&self, command: u64, expected_servers: usize, retry: bool) -> u64 {
        self.one_encoded(command, encode_command(command), expected_servers, retry)
            .await
    }

    /// [`Config::one`] for a command whose encoding is `encoded` (e.g. a padded one).
    pub async fn one_encoded(
        &self,
        command: u64,
        encoded: Vec<u8>,
        expected_servers: usize,
        retry: bool,
    ) -> u64 {
        let everyone: Vec<usize> = (0..self.n()).collect();
        self.one_offered_to(&everyone, command, encoded, expected_servers, retry)
            .await
    }

    /// [`Config::one`], offering the command only to the connected servers among
    /// `servers`: for a partitioned cluster, where a cut-off leader in another group would
    /// accept it and hold it for the 2 s `one` gives a leader before trying the next.
    pub async fn one_within(
        &self,
        servers: &[usize],
        command: u64,
        expected_servers: usize,
        retry: bool,
    ) -> u64 {
        let encoded = encode_command(command);
        self.one_offered_to(servers, command, encoded, expected_servers, retry)
            .await
    }

    async fn one_offered_to(
        &self,
        offered_to: &[usize],
        command: u64,
        encoded: Vec<u8>,
        expected_servers: usize,
        retry: bool,
    ) -> u64 {
        tracing::debug!(target: "tester", "one({command}): wanted on {expected_servers} servers");
        let n = self.n();
        let t0 = labrpc::now();
        // Which server to offer the command to next (the course's `starts`).
        let mut next_server = 0;
        let mut ever_accepted = false;
        let mut claims = LeaderClaims::default();
        while labrpc::now() - t0 < Duration::from_secs(10) {
            let mut accepted = None;
            for _ in 0..n {
                next_server = (next_server + 1) % n;
                if !self.is_connected(next_server) || !offered_to.contains(&next_server) {
                    continue;
                }
                if let Some((index, term)) = self.start_encoded(next_server, encoded.clone()) {
                    claims.note(term, next_server);
                    accepted = Some(index);
                    break;
                }
            }
            let Some(index) = accepted else {
                self.note_leaders(&mut claims);
                labrpc::sleep(Duration::from_millis(50)).await;
                continue;
            };
            ever_accepted = true;
            let t1 = labrpc::now();
            while labrpc::now() - t1 < Duration::from_secs(2) {
                let (count, applied) = self.n_committed(index);
                if count > 0 && count >= expected_servers && applied == Some(command) {
                    crate::events::passed(format!(
                        "one({command}): committed at index {index} on {count} servers"
                    ));
                    return index;
                }
                self.note_leaders(&mut claims);
                labrpc::sleep(Duration::from_millis(20)).await;
            }
            if !retry {
                fail!(
                    "one({command}) failed to reach agreement: a leader accepted it at index \
                     {index}, but {expected_servers} servers had not applied it 2 s later \
                     ({} had). Connected servers that claimed leadership meanwhile: {claims}. \
                     {}",
                    self.n_committed(index).0,
                    no_agreement(claims.0.len())
                );
            }
        }
        if ever_accepted {
            fail!(
                "one({command}) failed to reach agreement within 10 s: leaders accepted it, \
                 but {expected_servers} servers never applied it. Connected servers that \
                 claimed leadership meanwhile: {claims}. {}",
                no_agreement(claims.0.len())
            )
        }
        let why = if claims.0.is_empty() {
            format!("Is there a leader (2A)? {NO_LEADER}")
        } else {
            "Does the leader's start() append the command and return Some((index, term))?"
                .to_owned()
        };
        fail!(
            "one({command}) failed to reach agreement: for 10 s no connected server accepted \
             the command (start() returned None on every one). Connected servers that claimed \
             leadership meanwhile: {claims}. {why}"
        )
    }
}
