//! Figure 2, "RequestVote RPC" and "Rules for Servers" as they concern elections (§5.2,
//! §5.4.1): the election timeout, granting votes, and counting them; with part 2E's
//! Pre-Vote (§9.6), leader stickiness (§4.2.3) and CheckQuorum (§6.2).

use super::rpc::{PreVoteArgs, RequestVoteArgs, RequestVoteReply};
use super::state::{Effects, State};

impl State {
    /// The election timer fired (Rules for Followers: "If election timeout elapses without
    /// receiving AppendEntries RPC from current leader or granting vote to candidate:
    /// convert to candidate"; Rules for Candidates: "If election timeout elapses: start new
    /// election"). A leader has no election timeout; its timer just runs again.
    ///
    /// With Pre-Vote, a follower first asks for pre-votes, and stands only once a majority
    /// granted them. For a leader, the timeout is when it checks that a majority still
    /// hears it (CheckQuorum), and when a leadership transfer that has not completed gives
    /// up (§3.10: "if the transfer does not complete within an election timeout").
    pub(crate) fn election_timeout(&mut self) -> Effects {
        let mut effects = Effects {
            reset_election_timer: true,
            ..Effects::default()
        };
        if self.is_leader() {
            effects |= self.leader_timeout();
        } else if !self.is_member() {
            // Not in its configuration (removed, or not yet added): it may not stand, and
            // waits to hear from a leader (§4.2.2, §4.2.3).
        } else if self.options.pre_vote {
            effects |= self.become_pre_candidate();
        } else {
            effects |= self.become_candidate();
        }
        effects
    }

    /// A leader's election timer fired: a transfer under way is abandoned, and, with
    /// CheckQuorum, a leader that did not hear from a majority since the last time steps
    /// down (§6.2): it may be cut off in a minority, where it would otherwise keep
    /// accepting commands it can never commit and, in Lab 3, keep clients waiting.
    fn leader_timeout(&mut self) -> Effects {
        let (me, term) = (self.me, self.current_term());
        let check_quorum = self.options.check_quorum;
        let Some(leader) = self.leader_in(term) else {
            return Effects::default();
        };
        if let Some(transfer) = leader.transfer.take() {
            labrpc::annotate(
                "transfer",
                format_args!(
                    "leadership transfer to S{} abandoned after an election timeout",
                    transfer.to
                ),
            );
        }
        self.catch_up_timeout();
        if !check_quorum {
            return Effects::default();
        }
        let servers = self.servers;
        let leader = self.leader_in(term).expect("still leading");
        leader.heard_from[me] = true;
        let heard_from = std::mem::replace(&mut leader.heard_from, vec![false; servers]);
        let heard = heard_from.iter().filter(|&&h| h).count();
        if self.is_quorum(|s| heard_from[s]) {
            return Effects::default();
        }
        labrpc::annotate(
            "role",
            format_args!(
                "steps down: heard from {heard} of {} servers in an election timeout \
                 (CheckQuorum)",
                self.servers
            ),
        );
        self.become_follower(term)
    }

    /// RequestVote RPC, receiver implementation.
    pub(crate) fn request_vote(&mut self, args: &RequestVoteArgs) -> (RequestVoteReply, Effects) {
        let mut effects = Effects::default();
        // Leader stickiness (§4.2.3, with CheckQuorum): a server that heard from a live
        // leader within a minimum election timeout ignores the request altogether, its
        // term included, unless the leader itself handed over (TimeoutNow). A server cut
        // off from the leader alone cannot then depose it.
        if self.options.check_quorum
            && !args.leadership_transfer
            && args.term > self.current_term()
            && self.leader_is_live()
        {
            labrpc::annotate(
                "vote",
                format_args!(
                    "ignored S{}'s request for term {}: heard from a live leader",
                    args.candidate, args.term
                ),
            );
            let reply = RequestVoteReply {
                term: self.current_term(),
                vote_granted: false,
            };
            return (reply, effects);
        }
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

    /// PreVote RPC, receiver implementation (§9.6): would this server vote for the
    /// candidate in `args.term`? Yes if that term is ahead of its own, the candidate's log
    /// is at least as up-to-date as its own, and it has not heard from a live leader
    /// within a minimum election timeout. Changes nothing: not the term, not the vote,
    /// not the timer.
    pub(crate) fn pre_vote(&self, PreVoteArgs(args): &PreVoteArgs) -> RequestVoteReply {
        let term = self.current_term();
        let up_to_date = (args.last_log_term, args.last_log_index)
            >= (self.log.last_term(), self.log.last_index());
        let vote_granted = args.term > term && up_to_date && !self.leader_is_live();
        labrpc::annotate(
            "pre-vote",
            format_args!(
                "{} S{}'s pre-vote for term {}",
                if vote_granted { "granted" } else { "refused" },
                args.candidate,
                args.term
            ),
        );
        RequestVoteReply { term, vote_granted }
    }

    /// The reply of `voter` to this server's PreVote, sent in `sent_term`. A newer term
    /// makes it a follower (§5.1); a majority of pre-votes makes it stand for election.
    pub(crate) fn pre_vote_reply(
        &mut self,
        sent_term: u64,
        voter: usize,
        reply: &RequestVoteReply,
    ) -> Effects {
        if reply.term > self.current_term() {
            return self.become_follower(reply.term);
        }
        if sent_term != self.current_term() || !reply.vote_granted {
            return Effects::default();
        }
        let Some(pre) = self.pre_candidate() else {
            return Effects::default(); // the pre-vote is over
        };
        pre.votes[voter] = true;
        if self.votes_are_quorum() {
            return self.become_candidate();
        }
        Effects::default()
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
        let Some(candidate) = self.candidate_in(sent_term) else {
            return Effects::default(); // a reply to an election already over
        };
        if !reply.vote_granted {
            return Effects::default();
        }
        candidate.votes[voter] = true;
        if self.votes_are_quorum() {
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
