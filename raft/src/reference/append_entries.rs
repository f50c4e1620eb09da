//! Figure 2, "AppendEntries RPC", receiver implementation (§5.3), with the conflict hints
//! of the fast log backup (end of §5.3) and a log whose prefix may be a snapshot (§7).

use super::rpc::{AppendEntriesArgs, AppendEntriesReply};
use super::state::{Effects, Role, State};

impl State {
    /// AppendEntries RPC, receiver implementation.
    pub(crate) fn append_entries(
        &mut self,
        args: AppendEntriesArgs,
    ) -> (AppendEntriesReply, Effects) {
        // 1. Reply false if term < currentTerm (§5.1): a deposed leader.
        if args.term < self.current_term() {
            return (self.append_rejected(None, 0), Effects::default());
        }
        // The sender leads args.term. A newer term makes this server its follower (§5.1);
        // so does the same term, for a candidate that lost to it (Rules for Candidates).
        let mut effects = Effects::default();
        if args.term > self.current_term() || !matches!(self.role(), Role::Follower) {
            effects |= self.become_follower(args.term);
        }
        // Rules for Followers: heard from the current leader; no election for now.
        effects.reset_election_timer = true;
        self.leader_contact = Some(self.now);

        // 2. Reply false if log doesn't contain an entry at prevLogIndex whose term matches
        //    prevLogTerm (§5.3), with hints for the leader's next try.
        let mut prev = args.prev_log_index;
        let mut skip = 0;
        let snapshot_index = self.log.snapshot_index();
        if prev < snapshot_index {
            // The snapshot already covers a prefix of these entries; they are committed,
            // so they match the leader's. Skip them.
            skip = ((snapshot_index - prev) as usize).min(args.entries.len());
            prev = snapshot_index;
        } else if prev > self.log.last_index() {
            // Our log is too short: the leader should go back to just past its end.
            let conflict_index = self.log.last_index() + 1;
            return (self.append_rejected(None, conflict_index), effects);
        } else {
            let term_here = self.log.term_at(prev).expect("prev is inside the log");
            if prev != snapshot_index && term_here != args.prev_log_term {
                // The leader should skip every entry of the conflicting term at once.
                let first = self.log.first_index_of_term_run(prev, term_here);
                return (self.append_rejected(Some(term_here), first), effects);
            }
        }

        // 3. If an existing entry conflicts with a new one (same index but different
        //    terms), delete the existing entry and all that follow it (§5.3).
        // 4. Append any new entries not already in the log.
        // Entries that already match are kept: a delayed, shorter AppendEntries must not
        // cut off entries a longer one added and the leader may already count as stored.
        let received = args.entries.into_decoded();
        let entries = &received[skip..];
        let last_new = prev + entries.len() as u64;
        let matching = entries
            .iter()
            .zip(prev + 1..)
            .take_while(|(entry, index)| self.log.term_at(*index) == Some(entry.term))
            .count();
        if matching < entries.len() {
            let first_new = prev + 1 + matching as u64;
            let mut configuration_changed = false;
            if self.log.term_at(first_new).is_some() {
                self.log.truncate_from(first_new); // a real conflict
                // It may have held the configuration in force: fall back (§4.1).
                configuration_changed = self.configuration().1 >= first_new;
            }
            for entry in received.into_iter().skip(skip + matching) {
                configuration_changed |= entry.configuration().is_some();
                self.log.push(entry);
            }
            if configuration_changed {
                self.refresh_configuration(); // in force at once, committed or not (§4.1)
            }
            // Figure 2: log[] is persistent, "updated on stable storage before responding
            // to RPCs": the leader counts this copy toward a majority once we say success.
            effects.persist = true;
        }

        // 5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of
        //    last new entry): not our last index, which may hold entries past what this
        //    leader sent that it has not confirmed.
        if args.leader_commit > self.commit_index {
            let commit = args.leader_commit.min(last_new);
            if commit > self.commit_index {
                self.commit_index = commit;
                effects.wake_applier = true;
            }
        }
        self.check_invariants();
        let reply = AppendEntriesReply {
            term: self.current_term(),
            success: true,
            conflict_term: None,
            conflict_index: 0,
        };
        (reply, effects)
    }

    fn append_rejected(
        &self,
        conflict_term: Option<u64>,
        conflict_index: u64,
    ) -> AppendEntriesReply {
        AppendEntriesReply {
            term: self.current_term(),
            success: false,
            conflict_term,
            conflict_index,
        }
    }
}
