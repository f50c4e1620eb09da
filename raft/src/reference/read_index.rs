//! Part 3C: read-only queries without writing the log, by ReadIndex (dissertation §6.4).
//!
//! A leader serves a read once it knows three things: the commit index when the read came
//! (its *read index*: every write the read must see is at or before it), that it was still
//! the leader after the read came (a majority of its configuration answered a heartbeat
//! sent after the read: otherwise a newer leader may have committed writes it has never
//! seen), and that its service has applied everything up to the read index. The first
//! needs an entry of the leader's own term committed: until then a new leader does not
//! know which of its entries are committed (its no-op is there for that).
//!
//! Heartbeats go out in *rounds*: a read joins the current round if no message of it has
//! left yet, and starts a new one otherwise, so that a burst of reads costs one round trip
//! to a majority. The confirmed reads reach the service on the apply channel, as
//! [`ApplyMsg::ReadReady`](crate::ApplyMsg::ReadReady), after every entry up to their
//! read index.

use std::collections::VecDeque;

use super::state::{Effects, State};

/// Confirmed reads as `(read index, id)`, in order (part 3C).
pub(crate) type ReadyReads = VecDeque<(u64, u64)>;

/// A leader's reads that wait for their round to be answered by a majority.
#[derive(Default)]
pub(crate) struct Reads {
    /// The current heartbeat round: each message a replicator sends carries the round it
    /// left in, and each reply of the leader's term acknowledges it.
    pub(crate) round: u64,
    /// For each server, the round of the last message the leader sent it.
    pub(crate) sent: Vec<u64>,
    /// For each server, the highest round it acknowledged (by any reply in this term).
    pub(crate) acked: Vec<u64>,
    /// The reads not yet confirmed, in the order they came (so by round).
    pub(crate) pending: VecDeque<PendingRead>,
}

impl Reads {
    pub(crate) fn new(servers: usize) -> Reads {
        Reads {
            round: 0,
            sent: vec![0; servers],
            acked: vec![0; servers],
            pending: VecDeque::new(),
        }
    }
}

/// A read waiting for its leadership check (and, if the leader has not committed an entry
/// of its term yet, for its read index).
pub(crate) struct PendingRead {
    pub(crate) id: u64,
    /// The heartbeat round whose acknowledgement by a majority confirms it.
    pub(crate) round: u64,
    /// The commit index when it came, once an entry of the leader's term has committed.
    pub(crate) index: Option<u64>,
}

impl State {
    /// A read from the service: returns its id and this leader's term, and the effects;
    /// `None` if this server does not lead.
    pub(crate) fn read_index(&mut self) -> Option<(u64, u64, Effects)> {
        let (term, me, id) = (self.current_term(), self.me, self.next_read_id);
        let committed_own = self.log.term_at(self.commit_index) == Some(term);
        let commit = self.commit_index;
        let leader = self.leader_in(term)?;
        let reads = &mut leader.reads;
        // A new round unless none of the current one's messages has left yet.
        if (0..reads.sent.len()).any(|s| s != me && reads.sent[s] == reads.round) {
            reads.round += 1;
            leader.wake_all();
        }
        let reads = &mut leader.reads;
        reads.pending.push_back(PendingRead {
            id,
            round: reads.round,
            index: committed_own.then_some(commit),
        });
        self.next_read_id += 1;
        labrpc::annotate(
            "read",
            format_args!(
                "read {id}: read index {}, confirming leadership",
                if committed_own {
                    commit.to_string()
                } else {
                    "once an entry of this term commits".into()
                }
            ),
        );
        let effects = self.confirm_reads(); // a configuration of one confirms at once
        Some((id, term, effects))
    }

    /// `follower` answered, in this leader's term, a message sent in `round`.
    pub(crate) fn read_round_acked(&mut self, follower: usize, round: u64) -> Effects {
        let Some((reads, _, _)) = self.leader_reads() else {
            return Effects::default();
        };
        if round <= reads.acked[follower] {
            return Effects::default();
        }
        reads.acked[follower] = round;
        if reads.pending.is_empty() {
            return Effects::default();
        }
        self.confirm_reads()
    }

    /// The commit index reached an entry of this leader's term: the reads that came before
    /// take it as their read index.
    pub(crate) fn reads_learn_commit(&mut self) -> Effects {
        let commit = self.commit_index;
        let Some((reads, _, _)) = self.leader_reads() else {
            return Effects::default();
        };
        if reads.pending.is_empty() {
            return Effects::default();
        }
        for read in &mut reads.pending {
            read.index.get_or_insert(commit);
        }
        self.confirm_reads()
    }

    /// Hands the reads whose round a majority acknowledged, and whose read index is
    /// known, to the applier, which delivers each after the entry at its read index.
    fn confirm_reads(&mut self) -> Effects {
        let me = self.me;
        let Some((reads, config, ready)) = self.leader_reads() else {
            return Effects::default();
        };
        let mut effects = Effects::default();
        while let Some(read) = reads.pending.front() {
            let confirmed = config.is_quorum(|s| s == me || reads.acked[s] >= read.round);
            let Some(index) = read.index.filter(|_| confirmed) else {
                break;
            };
            labrpc::annotate(
                "read",
                format_args!(
                    "read {}: leadership confirmed, served once index {index} is applied",
                    read.id
                ),
            );
            ready.push_back((index, read.id));
            reads.pending.pop_front();
            effects.wake_applier = true;
        }
        effects
    }
}
