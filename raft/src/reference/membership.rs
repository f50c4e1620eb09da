//! Part 2F: single-server membership changes on the leader's side (dissertation §4.1–4.3):
//! adding a server once it has caught up, removing one, one change at a time.

use super::config::Configuration;
use super::log::{Entry, Payload};
use super::state::{Effects, Learner, State};

/// How many of its election timeouts a leader gives a server being added to catch up
/// before it gives up the change (§4.2.1: a new server that is unavailable or too slow
/// would otherwise hold every later change up).
pub(crate) const CATCH_UP_TIMEOUTS: u32 = 10;

impl State {
    /// Whether a configuration change may start: this server leads, the configuration it
    /// uses is committed and no server is being caught up (one change at a time, §4.1),
    /// no leadership transfer is under way, and an entry of its own term is committed.
    ///
    /// The last condition is the fix for the bug in single-server changes that the
    /// dissertation's errata describe: a leader that appends a configuration before it has
    /// committed anything in its term may be building on a configuration an earlier leader
    /// appended and never committed, and two changes, each one server away from the
    /// committed configuration but two away from each other, can then elect two leaders in
    /// one term. With the leader's no-op the condition holds a round trip after election.
    fn may_change_configuration(&mut self) -> bool {
        let term = self.current_term();
        let committed_own = self.log.term_at(self.commit_index) == Some(term);
        let config_committed = self.configuration().1 <= self.commit_index;
        let Some(leader) = self.leader_in(term) else {
            return false;
        };
        committed_own && config_committed && leader.learner.is_none() && leader.transfer.is_none()
    }

    /// Starts adding `server` (§4.2.1): the leader first brings its log up to date,
    /// sending it entries (or its snapshot) while it does not vote nor count, and appends
    /// the configuration with it once it holds every committed entry. Returns the effects,
    /// or `None` if the change is refused (see [`State::may_change_configuration`]; also a
    /// server that is already a member, or no server of the cluster).
    pub(crate) fn add_server(&mut self, server: usize) -> Option<Effects> {
        if server >= self.servers
            || self.configuration().0.contains(server)
            || !self.may_change_configuration()
        {
            return None;
        }
        let (term, next) = (self.current_term(), self.log.last_index() + 1);
        let leader = self.leader_in(term)?;
        leader.learner = Some(Learner {
            server,
            timeouts_left: CATCH_UP_TIMEOUTS,
        });
        // Whatever it held when it was last a member may be gone.
        leader.match_index[server] = 0;
        leader.next_index[server] = next;
        leader.wake[server].notify();
        labrpc::annotate(
            "config",
            format_args!("adding S{server}: catching it up before it counts"),
        );
        Some(self.continue_catch_up())
    }

    /// Removes `server` (§4.2): appends the configuration without it at once. Returns the
    /// effects, or `None` if the change is refused (see
    /// [`State::may_change_configuration`]; also a server that is not a member, or the
    /// last member).
    pub(crate) fn remove_server(&mut self, server: usize) -> Option<Effects> {
        let config = self.configuration().0;
        if !config.contains(server) || config.members().len() == 1 {
            return None;
        }
        let without = config.without(server);
        if !self.may_change_configuration() {
            return None;
        }
        Some(self.append_configuration(without))
    }

    /// Appends the configuration with the server being added once its log holds every
    /// committed entry (the last round of catching up, §4.2.1, is then short).
    pub(crate) fn continue_catch_up(&mut self) -> Effects {
        let (term, commit) = (self.current_term(), self.commit_index);
        let Some(leader) = self.leader_in(term) else {
            return Effects::default();
        };
        let Some(learner) = &leader.learner else {
            return Effects::default();
        };
        let server = learner.server;
        if leader.match_index[server] < commit {
            return Effects::default();
        }
        leader.learner = None;
        let with = self.configuration().0.with(server);
        self.append_configuration(with)
    }

    /// A leader's election timeout passed while a server is being caught up: gives up
    /// adding it after [`CATCH_UP_TIMEOUTS`].
    pub(crate) fn catch_up_timeout(&mut self) {
        let term = self.current_term();
        let Some(leader) = self.leader_in(term) else {
            return;
        };
        let Some(learner) = &mut leader.learner else {
            return;
        };
        learner.timeouts_left = learner.timeouts_left.saturating_sub(1);
        if learner.timeouts_left == 0 {
            labrpc::annotate(
                "config",
                format_args!(
                    "gave up adding S{}: not caught up after {CATCH_UP_TIMEOUTS} election timeouts",
                    learner.server
                ),
            );
            leader.learner = None;
        }
    }

    /// The leader appends `config`, which is in force at once (§4.1), and replicates it.
    fn append_configuration(&mut self, config: Configuration) -> Effects {
        let (term, me) = (self.current_term(), self.me);
        let index = self.log.push(Entry {
            term,
            payload: Payload::Configuration(config),
        });
        let leader = self
            .leader_in(term)
            .expect("only a leader changes configurations");
        leader.match_index[me] = index;
        leader.wake_all();
        self.refresh_configuration();
        // Figure 2: log[] is persistent.
        let mut effects = Effects {
            persist: true,
            ..Effects::default()
        };
        effects |= self.advance_commit(); // a configuration of one commits at once
        self.check_invariants();
        effects
    }
}
