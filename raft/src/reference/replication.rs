//! Log replication (§5.3), commitment (§5.4.2) and snapshot installation (§7).

use std::pin::pin;
use std::sync::Arc;

use futures::future::select;

use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
};
use super::signal::Signal;
use super::state::{HEARTBEAT, LeaderState, Peer, Role, State};

/// What a replicator sends next to its follower.
enum Message {
    Append(AppendEntriesArgs),
    Snapshot(InstallSnapshotArgs),
}

impl Peer {
    /// Takes office: every follower gets its own replicator task for this term.
    pub(crate) fn become_leader(self: &Arc<Self>, state: &mut State) {
        let peers = self.peers.len();
        let next = state.log.last_index() + 1;
        let wake: Vec<Arc<Signal>> = (0..peers).map(|_| Arc::new(Signal::default())).collect();
        let mut match_index = vec![0; peers];
        match_index[self.me] = state.log.last_index();
        let term = state.current_term;
        tracing::debug!(term, last_index = next - 1, "became leader");
        for (follower, signal) in wake.iter().enumerate() {
            if follower != self.me {
                signal.notify(); // the first heartbeat goes out at once
                let replicator = self.clone().run_replicator(term, follower, signal.clone());
                labrpc::spawn(replicator);
            }
        }
        state.role = Role::Leader(LeaderState {
            next_index: vec![next; peers],
            match_index,
            wake,
            in_flight: vec![0; peers],
        });
    }

    /// Keeps one follower up to date for as long as this server leads in `term`.
    ///
    /// Entries the follower lacks are sent at once if nothing is in flight to it; otherwise the outcome of the RPC in flight
    /// brings the next send. A heartbeat goes out at least every [`HEARTBEAT`] regardless,
    /// so a lost message or a slow follower never stalls replication. Each RPC runs in its
    /// own task, so an unreachable follower (whose calls take seconds to fail) never holds
    /// up anything. Not re-sending on every piece of news is what keeps a leader from
    /// flooding a disconnected follower with ever longer copies of its log.
    async fn run_replicator(self: Arc<Self>, term: u64, follower: usize, wake: Arc<Signal>) {
        let mut next_heartbeat = labrpc::now();
        loop {
            select(pin!(wake.wait()), labrpc::sleep_until(next_heartbeat)).await;
            let heartbeat_due = labrpc::now() >= next_heartbeat;
            let message = {
                let mut state = self.state.lock();
                let state = &mut *state;
                let leader = match &mut state.role {
                    Role::Leader(leader) if state.current_term == term && !state.dead => leader,
                    _ => return,
                };
                let lacks_entries = leader.next_index[follower] <= state.log.last_index();
                if !heartbeat_due && (leader.in_flight[follower] > 0 || !lacks_entries) {
                    continue;
                }
                leader.in_flight[follower] += 1;
                self.next_message(state, follower)
            };
            next_heartbeat = labrpc::now() + HEARTBEAT;
            let peer = self.clone();
            match message {
                Message::Append(args) => {
                    let call = self.peers[follower].call(&args);
                    labrpc::spawn(async move {
                        let reply = call.await.ok();
                        peer.handle_append_reply(follower, &args, reply);
                    });
                }
                Message::Snapshot(args) => {
                    let call = self.peers[follower].call(&args);
                    labrpc::spawn(async move {
                        let reply = call.await.ok();
                        peer.handle_snapshot_reply(follower, &args, reply);
                    });
                }
            }
        }
    }

    /// AppendEntries with everything from the follower's `next_index`, or the snapshot
    /// if the leader has already discarded those entries.
    fn next_message(&self, state: &State, follower: usize) -> Message {
        let Role::Leader(leader) = &state.role else {
            unreachable!("only leaders replicate");
        };
        let next = leader.next_index[follower];
        if next <= state.log.snapshot_index() {
            return Message::Snapshot(InstallSnapshotArgs {
                term: state.current_term,
                leader: self.me,
                last_included_index: state.log.snapshot_index(),
                last_included_term: state.log.snapshot_term(),
                data: state.snapshot.clone(),
            });
        }
        let prev_log_index = next - 1;
        Message::Append(AppendEntriesArgs {
            term: state.current_term,
            leader: self.me,
            prev_log_index,
            prev_log_term: state
                .log
                .term_at(prev_log_index)
                .expect("next_index is inside the log"),
            entries: state.log.entries_from(next).to_vec(),
            leader_commit: state.commit_index,
        })
    }

    /// Handles the outcome of an AppendEntries: `None` if the RPC failed.
    fn handle_append_reply(
        &self,
        follower: usize,
        args: &AppendEntriesArgs,
        reply: Option<AppendEntriesReply>,
    ) {
        let mut state = self.state.lock();
        let state = &mut *state;
        let reply_term = reply.as_ref().map(|r| r.term);
        if !self.reply_still_matters(state, args.term, follower, reply_term) {
            return;
        }
        let (Some(reply), Role::Leader(leader)) = (reply, &mut state.role) else {
            return;
        };
        if reply.success {
            let matched = args.prev_log_index + args.entries.len() as u64;
            if matched > leader.match_index[follower] {
                leader.match_index[follower] = matched;
            }
            leader.next_index[follower] = leader.next_index[follower].max(matched + 1);
            self.advance_commit(state);
            return;
        }
        // Back up past the whole conflicting term at once (§5.3, last paragraphs).
        let next = match reply.conflict_term {
            Some(term) => match state.log.last_index_of_term(term) {
                Some(last) => last + 1,
                None => reply.conflict_index,
            },
            None => reply.conflict_index,
        };
        // Never below what the follower is known to hold, never past our log.
        let next = next
            .max(leader.match_index[follower] + 1)
            .min(state.log.last_index() + 1);
        leader.next_index[follower] = next;
        leader.wake[follower].notify();
    }

    /// Handles the outcome of an InstallSnapshot: `None` if the RPC failed.
    fn handle_snapshot_reply(
        &self,
        follower: usize,
        args: &InstallSnapshotArgs,
        reply: Option<InstallSnapshotReply>,
    ) {
        let mut state = self.state.lock();
        let reply_term = reply.map(|r| r.term);
        if !self.reply_still_matters(&mut state, args.term, follower, reply_term) {
            return;
        }
        if let Role::Leader(leader) = &mut state.role {
            let matched = args.last_included_index;
            leader.match_index[follower] = leader.match_index[follower].max(matched);
            leader.next_index[follower] = leader.next_index[follower].max(matched + 1);
            leader.wake[follower].notify(); // send the entries after the snapshot
        }
    }

    /// The common start of handling the outcome of an RPC sent to `follower` in `sent_term`:
    /// notes that it is over (so the replicator may send again), and steps down if the
    /// reply carries a newer term (§5.1). Returns whether the reply still matters: it
    /// arrived, and this server still leads in the term it was sent in.
    fn reply_still_matters(
        &self,
        state: &mut State,
        sent_term: u64,
        follower: usize,
        reply_term: Option<u64>,
    ) -> bool {
        let leading_then = state.current_term == sent_term;
        if let Role::Leader(leader) = &mut state.role
            && leading_then
        {
            leader.in_flight[follower] = leader.in_flight[follower].saturating_sub(1);
            leader.wake[follower].notify();
        }
        let Some(reply_term) = reply_term else {
            return false;
        };
        if reply_term > state.current_term {
            self.step_down(state, reply_term);
            return false;
        }
        leading_then && matches!(state.role, Role::Leader(_))
    }

    /// Commits the highest index stored on a majority, if it is from the current term
    /// (§5.4.2: entries of earlier terms commit only indirectly; see Figure 8).
    fn advance_commit(&self, state: &mut State) {
        let Role::Leader(leader) = &mut state.role else {
            return;
        };
        leader.match_index[self.me] = state.log.last_index();
        let mut matched = leader.match_index.clone();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matched[self.majority() - 1];
        if candidate > state.commit_index
            && state.log.term_at(candidate) == Some(state.current_term)
        {
            // Followers learn the new commit index with the next AppendEntries.
            state.commit_index = candidate;
            self.wake_applier();
        }
    }

    /// The AppendEntries handler (Figure 2, "Receiver implementation").
    pub(crate) fn append_entries(&self, args: AppendEntriesArgs) -> AppendEntriesReply {
        let mut state = self.state.lock();
        let reject = |state: &State, conflict_term, conflict_index| AppendEntriesReply {
            term: state.current_term,
            success: false,
            conflict_term,
            conflict_index,
        };
        if args.term < state.current_term {
            return reject(&state, None, 0);
        }
        if args.term > state.current_term || !matches!(state.role, Role::Follower) {
            self.step_down(&mut state, args.term);
        }
        self.heard_from_leader(&mut state);

        let mut prev = args.prev_log_index;
        let mut entries = &args.entries[..];
        let snapshot_index = state.log.snapshot_index();
        if prev < snapshot_index {
            // The snapshot already covers a prefix of these entries; they are committed,
            // so they match the leader's. Skip them.
            let covered = (snapshot_index - prev) as usize;
            entries = entries.get(covered..).unwrap_or(&[]);
            prev = snapshot_index;
        } else if prev > state.log.last_index() {
            let conflict_index = state.log.last_index() + 1;
            return reject(&state, None, conflict_index);
        } else {
            let term_here = state.log.term_at(prev).expect("prev is inside the log");
            if prev != snapshot_index && term_here != args.prev_log_term {
                let first = state.log.first_index_of_term_run(prev, term_here);
                return reject(&state, Some(term_here), first);
            }
        }

        // Append what is new; cut our log only at a real conflict, never because a
        // delayed, shorter AppendEntries arrived after a longer one.
        let mut changed = false;
        for (k, entry) in entries.iter().enumerate() {
            let index = prev + 1 + k as u64;
            match state.log.term_at(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    state.log.truncate_from(index);
                }
                None => {}
            }
            for entry in &entries[k..] {
                state.log.push(entry.clone());
            }
            changed = true;
            break;
        }
        if changed {
            self.persist(&state);
        }
        let last_new = prev + entries.len() as u64;
        if args.leader_commit > state.commit_index {
            let commit = args.leader_commit.min(last_new);
            if commit > state.commit_index {
                state.commit_index = commit;
                self.wake_applier();
            }
        }
        AppendEntriesReply {
            term: state.current_term,
            success: true,
            conflict_term: None,
            conflict_index: 0,
        }
    }

    /// The InstallSnapshot handler (Figure 13).
    pub(crate) fn install_snapshot(&self, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        let mut state = self.state.lock();
        if args.term < state.current_term {
            return InstallSnapshotReply {
                term: state.current_term,
            };
        }
        if args.term > state.current_term || !matches!(state.role, Role::Follower) {
            self.step_down(&mut state, args.term);
        }
        self.heard_from_leader(&mut state);
        // A snapshot of what we have already committed brings nothing; installing it
        // could even roll the service back.
        if args.last_included_index > state.commit_index {
            state
                .log
                .compact_to(args.last_included_index, args.last_included_term);
            state.snapshot = args.data;
            state.commit_index = args.last_included_index;
            state.snapshot_to_apply = true;
            self.persist(&state);
            self.wake_applier();
        }
        InstallSnapshotReply {
            term: state.current_term,
        }
    }
}
