//! Leader election (§5.2, §5.4.1): the election timer, asking for votes, granting them.

use std::sync::Arc;

use super::rpc::{RequestVoteArgs, RequestVoteReply};
use super::state::{Peer, Role, State, new_election_deadline};

impl Peer {
    /// The election timer: a follower or candidate that hears nothing from a leader until
    /// its deadline starts an election. Runs for the server's whole life.
    pub(crate) async fn run_election_timer(self: Arc<Self>) {
        loop {
            let deadline = {
                let mut state = self.state.lock();
                if state.dead {
                    return;
                }
                let now = labrpc::now();
                if state.election_deadline <= now {
                    if !matches!(state.role, Role::Leader(_)) {
                        self.start_election(&mut state);
                    }
                    state.election_deadline = new_election_deadline();
                }
                state.election_deadline
            };
            // The deadline may move later while we sleep (a heartbeat arrived); the loop
            // then just sleeps again until the new one.
            labrpc::sleep_until(deadline).await;
        }
    }

    /// Becomes a candidate for the next term and asks every peer for its vote.
    fn start_election(self: &Arc<Self>, state: &mut State) {
        state.current_term += 1;
        state.voted_for = Some(self.me);
        state.role = Role::Candidate { votes: 1 };
        self.persist(state);
        tracing::debug!(
            term = state.current_term,
            "election timeout: asking for votes"
        );
        let args = RequestVoteArgs {
            term: state.current_term,
            candidate: self.me,
            last_log_index: state.log.last_index(),
            last_log_term: state.log.last_term(),
        };
        if self.peers.len() == 1 {
            self.become_leader(state);
            return;
        }
        for voter in (0..self.peers.len()).filter(|&p| p != self.me) {
            let call = self.peers[voter].call(&args);
            let candidate = self.clone();
            let term = args.term;
            labrpc::spawn(async move {
                if let Ok(reply) = call.await {
                    candidate.handle_vote(term, reply);
                }
            });
        }
    }

    /// Counts a vote; a majority makes this server leader of `term`.
    fn handle_vote(self: &Arc<Self>, term: u64, reply: RequestVoteReply) {
        let mut state = self.state.lock();
        if reply.term > state.current_term {
            self.step_down(&mut state, reply.term);
            return;
        }
        if state.current_term != term || !reply.vote_granted {
            return;
        }
        let majority = self.majority();
        if let Role::Candidate { votes } = &mut state.role {
            *votes += 1;
            if *votes >= majority {
                self.become_leader(&mut state);
            }
        }
    }

    /// The RequestVote handler.
    pub(crate) fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        let mut state = self.state.lock();
        if args.term > state.current_term {
            self.step_down(&mut state, args.term);
        }
        let term = state.current_term;
        if args.term < term {
            return RequestVoteReply {
                term,
                vote_granted: false,
            };
        }
        // §5.4.1: only vote for a candidate whose log is at least as up-to-date as ours.
        let up_to_date = (args.last_log_term, args.last_log_index)
            >= (state.log.last_term(), state.log.last_index());
        let free = state.voted_for.is_none_or(|v| v == args.candidate);
        let vote_granted = free && up_to_date;
        if vote_granted {
            if state.voted_for.is_none() {
                state.voted_for = Some(args.candidate);
                self.persist(&state);
            }
            // Granting a vote resets the timer, so that this server does not start a
            // competing election right away.
            state.election_deadline = new_election_deadline();
        }
        RequestVoteReply { term, vote_granted }
    }

    /// Puts off this server's next election (a valid leader was heard from).
    pub(crate) fn heard_from_leader(&self, state: &mut State) {
        state.election_deadline = new_election_deadline();
    }
}
