//! Figure 2, "Rules for Servers: Leaders": accepting commands, choosing what to send each
//! follower, handling the replies (§5.3, with the fast backup at its end, and §7), and
//! advancing the commit index (§5.4.2).

use super::log::Entry;
use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, Entries, InstallSnapshotArgs, InstallSnapshotReply,
    TimeoutNowArgs, TimeoutNowReply,
};
use super::state::{Effects, Outgoing, Role, State, Transfer};

/// What a replicator sends next to its follower.
pub(crate) enum Message {
    Append(AppendEntriesArgs),
    Snapshot(InstallSnapshotArgs),
}

/// What a replicator should do when woken ([`State::replicate`]).
pub(crate) enum Replicate {
    /// This server no longer leads in the replicator's term, or is dead: end the task.
    Stop,
    /// Nothing to send yet.
    Wait,
    /// Send this, and count it in flight until its outcome is handled; the number is the
    /// heartbeat round it leaves in (part 3C), which its reply acknowledges.
    Send(Message, u64),
    /// The follower is not in the configuration: nothing to send for a heartbeat interval.
    Idle,
}

impl State {
    /// A command from the service: "append entry to local log" (Rules for Leaders), and
    /// let every replicator know. Returns the entry's index and term, or `None` if this
    /// server is not the leader.
    ///
    /// A leader handing leadership over accepts no command (§3.10): its log must stop
    /// growing for the target to catch up, and a command it accepted would likely be lost.
    pub(crate) fn start(&mut self, command: Vec<u8>) -> Option<(u64, u64, Effects)> {
        let term = self.current_term();
        if self.leader_in(term)?.transfer.is_some() {
            return None;
        }
        let index = self.log.push(Entry::command(term, command));
        let me = self.me;
        let leader = self.leader_in(term).expect("checked above");
        leader.match_index[me] = index;
        leader.wake_all();
        // Figure 2: log[] is persistent; saved before the replicators can send the entry
        // (they run only once the lock is released).
        let mut effects = Effects {
            persist: true,
            ..Effects::default()
        };
        effects |= self.advance_commit(); // a cluster of one is its own majority
        self.check_invariants();
        Some((index, term, effects))
    }

    /// The replicator of `follower` in `term` was woken, by news or by its heartbeat
    /// (`heartbeat_due`). Entries the follower lacks go out at once if nothing is in
    /// flight to it; otherwise the outcome of the RPC in flight brings the next send. A
    /// heartbeat goes out whenever due, regardless (Rules for Leaders: "repeat during idle
    /// periods to prevent election timeouts"), so a lost message or a slow follower never
    /// stalls replication. Not re-sending on every piece of news is what keeps a leader
    /// from flooding a disconnected follower with ever longer copies of its log.
    pub(crate) fn replicate(
        &mut self,
        term: u64,
        follower: usize,
        heartbeat_due: bool,
    ) -> Replicate {
        if self.dead {
            return Replicate::Stop;
        }
        let last_index = self.log.last_index();
        // Only the members and a server being added hear from the leader (§4.2.1): a
        // removed server is left alone.
        let member = self.configuration().0.contains(follower);
        let Some(leader) = self.leader_in(term) else {
            return Replicate::Stop;
        };
        if !member && leader.learner.as_ref().is_none_or(|l| l.server != follower) {
            return Replicate::Idle;
        }
        let lacks_entries = leader.next_index[follower] <= last_index;
        // A read waits for a message of its round (part 3C): one in flight left before.
        let read_due = leader.reads.sent[follower] < leader.reads.round;
        if !heartbeat_due && !read_due && (leader.in_flight[follower] > 0 || !lacks_entries) {
            return Replicate::Wait;
        }
        leader.in_flight[follower] += 1;
        let round = leader.reads.round;
        leader.reads.sent[follower] = round;
        Replicate::Send(self.next_message(follower), round)
    }

    /// Rules for Leaders: "If last log index ≥ nextIndex for a follower: send
    /// AppendEntries RPC with log entries starting at nextIndex" (none: a heartbeat), or
    /// the snapshot if the leader has already discarded those entries (§7).
    pub(crate) fn next_message(&self, follower: usize) -> Message {
        let super::state::Role::Leader(leader) = self.role() else {
            unreachable!("only leaders replicate");
        };
        let next = leader.next_index[follower];
        if next <= self.log.snapshot_index() {
            return Message::Snapshot(InstallSnapshotArgs {
                term: self.current_term(),
                leader: self.me,
                last_included_index: self.log.snapshot_index(),
                last_included_term: self.log.snapshot_term(),
                config: self.configuration_at_snapshot(),
                data: self.snapshot.clone(),
            });
        }
        let prev_log_index = next - 1;
        Message::Append(AppendEntriesArgs {
            term: self.current_term(),
            leader: self.me,
            prev_log_index,
            prev_log_term: self
                .log
                .term_at(prev_log_index)
                .expect("next_index is inside the log"),
            entries: {
                let (count, bytes) = self.log.encoded_from(next);
                Entries::Encoded {
                    count,
                    bytes: bytes.to_vec(),
                }
            },
            leader_commit: self.commit_index,
        })
    }

    /// The outcome of an AppendEntries sent to `follower`: `None` if the RPC failed.
    pub(crate) fn append_entries_reply(
        &mut self,
        follower: usize,
        args: &AppendEntriesArgs,
        round: u64,
        reply: Option<AppendEntriesReply>,
    ) -> Effects {
        let (matters, mut effects) =
            self.reply_arrived(args.term, follower, round, reply.as_ref().map(|r| r.term));
        let (true, Some(reply)) = (matters, reply) else {
            return effects;
        };
        let last_index = self.log.last_index();
        if reply.success {
            // "If successful: update nextIndex and matchIndex for follower (§5.3)", to
            // what this RPC carried: entries appended since it left are not on the
            // follower.
            let matched = args.prev_log_index + args.entries.len() as u64;
            let leader = self.leader_in(args.term).expect("still leading");
            // Replies may arrive out of order: an older, shorter one must not move
            // either index back.
            if matched > leader.match_index[follower] {
                leader.match_index[follower] = matched;
            }
            leader.next_index[follower] = leader.next_index[follower].max(matched + 1);
            effects |= self.advance_commit();
            effects |= self.continue_transfer();
            effects |= self.continue_catch_up();
            self.check_invariants();
            return effects;
        }
        // "If AppendEntries fails because of log inconsistency: decrement nextIndex and
        // retry (§5.3)", backing up past the whole conflicting term at once (end of
        // §5.3): to just after our last entry of the follower's conflicting term if we
        // have one, else to the first index the follower holds of that term (or just
        // past its log).
        let next = match reply.conflict_term {
            Some(term) => match self.log.last_index_of_term(term) {
                Some(last) => last + 1,
                None => reply.conflict_index,
            },
            None => reply.conflict_index,
        };
        let leader = self.leader_in(args.term).expect("still leading");
        // Never below what the follower is known to hold, never past our log.
        leader.next_index[follower] = next
            .max(leader.match_index[follower] + 1)
            .min(last_index + 1);
        leader.wake[follower].notify();
        self.check_invariants();
        effects
    }

    /// The outcome of an InstallSnapshot sent to `follower`: `None` if the RPC failed.
    pub(crate) fn install_snapshot_reply(
        &mut self,
        follower: usize,
        args: &InstallSnapshotArgs,
        round: u64,
        reply: Option<InstallSnapshotReply>,
    ) -> Effects {
        let (matters, effects) =
            self.reply_arrived(args.term, follower, round, reply.map(|r| r.term));
        if !matters {
            return effects;
        }
        // The follower now holds everything the snapshot covers.
        let leader = self.leader_in(args.term).expect("still leading");
        let matched = args.last_included_index;
        leader.match_index[follower] = leader.match_index[follower].max(matched);
        leader.next_index[follower] = leader.next_index[follower].max(matched + 1);
        leader.wake[follower].notify(); // send the entries after the snapshot
        let mut effects = effects;
        effects |= self.continue_transfer();
        effects |= self.continue_catch_up();
        self.check_invariants();
        effects
    }

    /// What every outcome of an RPC sent in `sent_term` to `follower` does first: the RPC
    /// is no longer in flight (so the replicator may send again), and a reply with a newer
    /// term makes this server a follower (Rules for All Servers, §5.1). Returns whether
    /// the reply still matters (it arrived, its term is not newer, and this server still
    /// leads in `sent_term`), and the effects of handling it so far.
    fn reply_arrived(
        &mut self,
        sent_term: u64,
        follower: usize,
        round: u64,
        reply_term: Option<u64>,
    ) -> (bool, Effects) {
        let mut effects = Effects::default();
        if let Some(leader) = self.leader_in(sent_term) {
            leader.in_flight[follower] = leader.in_flight[follower].saturating_sub(1);
            // CheckQuorum: any reply of this term shows the follower hears this leader.
            if reply_term == Some(sent_term) {
                leader.heard_from[follower] = true;
            }
            // A failed RPC is retried with the next heartbeat, not at once: a call on a
            // dead end can fail in no time at all (the course's model allows a 0 ms
            // delay), and resending at once would spin without letting time pass.
            if reply_term.is_some() {
                leader.wake[follower].notify();
            }
            // ReadIndex: a reply of this term acknowledges this leader after the read
            // that started the message's round came (part 3C).
            if reply_term == Some(sent_term) {
                effects |= self.read_round_acked(follower, round);
            }
        }
        let Some(reply_term) = reply_term else {
            return (false, effects);
        };
        if reply_term > self.current_term() {
            return (false, self.become_follower(reply_term));
        }
        (self.leader_in(sent_term).is_some(), effects)
    }

    /// Rules for Leaders: "If there exists an N such that N > commitIndex, a majority of
    /// `matchIndex[i] ≥ N`, and `log[N].term == currentTerm`: set commitIndex = N (§5.3,
    /// §5.4)". Entries of earlier terms are never committed by counting their replicas,
    /// only along with a later entry of the current term (§5.4.2, Figure 8).
    ///
    /// The majority is of the configuration in force (§4.1): a leader that is not in it
    /// (being removed) does not count its own copy.
    pub(crate) fn advance_commit(&mut self) -> Effects {
        let term = self.current_term();
        let Role::Leader(leader) = self.role() else {
            return Effects::default();
        };
        // The highest index stored on a majority.
        let n = self
            .configuration()
            .0
            .quorum_value(|s| leader.match_index[s]);
        if n > self.commit_index && self.log.term_at(n) == Some(term) {
            // Followers learn the new commit index with the next AppendEntries.
            labrpc::annotate(
                "commit",
                format_args!(
                    "commit index {} -> {n} (a majority stores it)",
                    self.commit_index
                ),
            );
            self.commit_index = n;
            let mut effects = Effects {
                wake_applier: true,
                ..Effects::default()
            };
            // Reads that came before an entry of this term committed get their index.
            effects |= self.reads_learn_commit();
            // §4.2.2: a leader removed from the configuration steps down once the
            // configuration without it is committed.
            if !self.is_member() && self.configuration().1 <= n {
                labrpc::annotate(
                    "role",
                    format_args!("steps down: its removal from the configuration committed"),
                );
                effects |= self.become_follower(term);
            }
            return effects;
        }
        Effects::default()
    }
}

impl State {
    /// Starts handing leadership to server `to` (§3.10): the leader stops accepting
    /// commands, brings `to`'s log up to date, and then tells it to stand for election at
    /// once (TimeoutNow). Returns whether the transfer started: only a leader transfers,
    /// and only to another server. A transfer to another server replaces one under way.
    /// It is abandoned if it has not completed after an election timeout.
    pub(crate) fn transfer_leadership(&mut self, to: usize) -> Option<Effects> {
        let (me, servers, term) = (self.me, self.servers, self.current_term());
        let member = self.configuration().0.contains(to);
        let leader = self.leader_in(term)?;
        if to == me || to >= servers || !member {
            return None;
        }
        leader.transfer = Some(Transfer {
            to,
            timeout_now_sent: false,
        });
        leader.wake[to].notify();
        labrpc::annotate(
            "transfer",
            format_args!("leadership transfer to S{to}: accepting no commands meanwhile"),
        );
        let mut effects = Effects {
            // The transfer is abandoned a whole election timeout from now, not at the
            // timer's next firing, which may be a moment away.
            reset_election_timer: true,
            ..Effects::default()
        };
        effects |= self.continue_transfer();
        Some(effects)
    }

    /// Sends TimeoutNow to the transfer's target once its log matches the leader's (its
    /// election can succeed only then, §5.4.1).
    fn continue_transfer(&mut self) -> Effects {
        let (term, me, last_index) = (self.current_term(), self.me, self.log.last_index());
        let Some(leader) = self.leader_in(term) else {
            return Effects::default();
        };
        let Some(transfer) = &mut leader.transfer else {
            return Effects::default();
        };
        if transfer.timeout_now_sent || leader.match_index[transfer.to] < last_index {
            return Effects::default();
        }
        transfer.timeout_now_sent = true;
        let to = transfer.to;
        labrpc::annotate(
            "transfer",
            format_args!("S{to}'s log matches: TimeoutNow sent to it"),
        );
        Effects {
            send: Some(Outgoing::TimeoutNow(
                to,
                TimeoutNowArgs { term, leader: me },
            )),
            ..Effects::default()
        }
    }

    /// TimeoutNow RPC, receiver implementation (§3.10): the leader of `args.term` hands
    /// leadership to this server, whose log it has brought up to date. Stand for election
    /// at once, without Pre-Vote, and with a RequestVote that voters grant despite leader
    /// stickiness.
    pub(crate) fn timeout_now(&mut self, args: &TimeoutNowArgs) -> (TimeoutNowReply, Effects) {
        let mut effects = Effects::default();
        if args.term < self.current_term() || self.is_leader() || !self.is_member() {
            let reply = TimeoutNowReply {
                term: self.current_term(),
            };
            return (reply, effects);
        }
        if args.term > self.current_term() || !matches!(self.role(), Role::Follower) {
            effects |= self.become_follower(args.term);
        }
        labrpc::annotate(
            "transfer",
            format_args!("TimeoutNow from S{}: standing for election", args.leader),
        );
        effects |= self.stand_for_election(true);
        effects.reset_election_timer = true;
        let reply = TimeoutNowReply {
            term: self.current_term(),
        };
        (reply, effects)
    }
}
