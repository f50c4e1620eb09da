//! Figure 2, "RequestVote RPC" and "Rules for Servers" as they concern elections (§5.2,
//! §5.4.1): the election timeout, granting votes, and counting them.

use super::rpc::{RequestVoteArgs, RequestVoteReply};
use super::state::{Effects, State};

impl State {
    /// The election timer fired (Rules for Followers: "If election timeout elapses without
    /// receiving AppendEntries RPC from current leader or granting vote to candidate:
    /// convert to candidate"; Rules for Candidates: "If election timeout elapses: start new
    /// election"). A leader has no election timeout; its timer just runs again.
    pub(crate) fn election_timeout(&mut self) -> Effects {
        let mut effects = Effects {
            reset_election_timer: true,
            ..Effects::default()
        };
        if !self.is_leader() {
            effects |= self.become_candidate();
        }
        effects
    }

    /// RequestVote RPC, receiver implementation.
    pub(crate) fn request_vote(&mut self, args: &RequestVoteArgs) -> (RequestVoteReply, Effects) {
        let mut effects = Effects::default();
        if args.term > self.current_term() {
            effects |= self.become_follower(args.term); // §5.1
        }
        let term = self.current_term();
        // 1. Reply false if term < currentTerm (§5.1).
        if args.term < term {
            let reply = RequestVoteReply {
                term,
                vote_granted: false,
            };
            return (reply, effects);
        }
        // 2. If votedFor is null or candidateId, and candidate's log is at least as
        //    up-to-date as receiver's log, grant vote (§5.2, §5.4). §5.4.1: the log
        //    whose last entry has the later term is more up-to-date; with equal last
        //    terms, the longer log is.
        let up_to_date = (args.last_log_term, args.last_log_index)
            >= (self.log.last_term(), self.log.last_index());
        let free = self.voted_for.is_none_or(|v| v == args.candidate);
        let vote_granted = free && up_to_date;
        if vote_granted {
            if self.voted_for.is_none() {
                self.voted_for = Some(args.candidate);
                // Figure 2: votedFor is persistent, "updated on stable storage before
                // responding to RPCs", or a restart could vote twice in this term.
                effects.persist = true;
            }
            // Rules for Followers: granting a vote resets the election timer, so that this
            // server does not start a competing election right away.
            effects.reset_election_timer = true;
        }
        annotate_vote(args.candidate, term, vote_granted, self.voted_for);
        self.check_invariants();
        (RequestVoteReply { term, vote_granted }, effects)
    }

    /// The reply of `voter` to this server's RequestVote of `sent_term`. Rules for
    /// Candidates: "If votes received from majority of servers: become leader".
    pub(crate) fn request_vote_reply(
        &mut self,
        sent_term: u64,
        voter: usize,
        reply: &RequestVoteReply,
    ) -> Effects {
        if reply.term > self.current_term() {
            return self.become_follower(reply.term); // §5.1
        }
        let majority = self.majority();
        let Some(candidate) = self.candidate_in(sent_term) else {
            return Effects::default(); // a reply to an election already over
        };
        if !reply.vote_granted {
            return Effects::default();
        }
        candidate.votes[voter] = true;
        if candidate.votes.iter().filter(|&&v| v).count() >= majority {
            return self.become_leader();
        }
        Effects::default()
    }
}

/// Notes a vote given or refused, for the run's timeline and log columns.
fn annotate_vote(candidate: usize, term: u64, granted: bool, voted_for: Option<usize>) {
    match voted_for {
        _ if granted => labrpc::annotate(
            "vote",
            format_args!("voted for S{candidate} in term {term}"),
        ),
        Some(other) if other != candidate => labrpc::annotate(
            "vote",
            format_args!("refused S{candidate} in term {term}: already voted for S{other}"),
        ),
        _ => labrpc::annotate(
            "vote",
            format_args!("refused S{candidate} in term {term}: its log is behind"),
        ),
    }
}
