//! Log compaction (§7): Figure 13, "InstallSnapshot RPC", receiver implementation, and the
//! service's own snapshots.

use super::rpc::{InstallSnapshotArgs, InstallSnapshotReply};
use super::state::{Effects, Role, State};

impl State {
    /// InstallSnapshot RPC, receiver implementation (Figure 13). The snapshot comes whole,
    /// in one message, so rules 2–5 (offsets and chunks) do not apply.
    pub(crate) fn install_snapshot(
        &mut self,
        args: InstallSnapshotArgs,
    ) -> (InstallSnapshotReply, Effects) {
        // 1. Reply immediately if term < currentTerm.
        if args.term < self.current_term() {
            let reply = InstallSnapshotReply {
                term: self.current_term(),
            };
            return (reply, Effects::default());
        }
        // As for AppendEntries: the sender leads args.term (§5.1, Rules for Candidates),
        // and hearing from it puts off this server's election (Rules for Followers).
        let mut effects = Effects::default();
        if args.term > self.current_term() || !matches!(self.role(), Role::Follower) {
            effects |= self.become_follower(args.term);
        }
        effects.reset_election_timer = true;
        self.leader_contact = Some(self.now);
        // A snapshot of what we have already committed brings nothing; installing it
        // could even roll the service back.
        if args.last_included_index > self.commit_index {
            // 6. If existing log entry has same index and term as snapshot's last included
            //    entry, retain log entries following it and reply.
            // 7. Discard the entire log.
            labrpc::annotate(
                "snapshot",
                format_args!(
                    "installed the leader's snapshot up to index {} (term {})",
                    args.last_included_index, args.last_included_term
                ),
            );
            self.log
                .compact_to(args.last_included_index, args.last_included_term);
            // The leader's word on the configuration at that index (part 2F).
            self.log.set_snapshot_configuration(Some(args.config));
            self.refresh_configuration();
            // 8. Reset state machine using snapshot contents: the applier hands it to the
            //    service, before any entry after it.
            self.snapshot = args.data;
            self.commit_index = args.last_included_index;
            self.snapshot_to_apply = true;
            // Figure 2: the log (here, its compacted prefix) is persistent, "updated on
            // stable storage before responding to RPCs".
            effects.persist = true;
            effects.wake_applier = true;
        }
        self.check_invariants();
        let reply = InstallSnapshotReply {
            term: self.current_term(),
        };
        (reply, effects)
    }

    /// The service has made `snapshot`, covering every entry up to and including `index`:
    /// discard them from the log (§7). Only entries already applied may go, since the
    /// snapshot is the service's state after applying them; an older snapshot than the
    /// one we have is ignored.
    pub(crate) fn snapshot(&mut self, index: u64, snapshot: Vec<u8>) -> Effects {
        if index <= self.log.snapshot_index() || index > self.last_applied {
            return Effects::default();
        }
        let term = self
            .log
            .term_at(index)
            .expect("applied entries are in the log");
        labrpc::annotate(
            "snapshot",
            format_args!("the service's snapshot up to index {index}: log compacted"),
        );
        self.log.compact_to(index, term);
        self.snapshot = snapshot;
        self.check_invariants();
        // Figure 2: the log is persistent; the snapshot now stands for its prefix.
        Effects {
            persist: true,
            ..Effects::default()
        }
    }
}
