//! The three Raft RPCs (Figure 2, and Figure 13 for InstallSnapshot).

use labrpc::Rpc;
use serde::{Deserialize, Serialize};

use super::log::Entry;

/// RequestVote arguments: a candidate asks for a vote (§5.2).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct RequestVoteArgs {
    pub(crate) term: u64,
    pub(crate) candidate: usize,
    /// With `last_log_term`, lets the voter refuse a candidate whose log is behind its own
    /// (the election restriction, §5.4.1).
    pub(crate) last_log_index: u64,
    pub(crate) last_log_term: u64,
}

/// RequestVote reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct RequestVoteReply {
    pub(crate) term: u64,
    pub(crate) vote_granted: bool,
}

impl Rpc for RequestVoteArgs {
    type Reply = RequestVoteReply;
    const METHOD: &'static str = "Raft.RequestVote";
}

/// AppendEntries arguments: replicate entries, or just assert leadership (§5.3).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct AppendEntriesArgs {
    pub(crate) term: u64,
    pub(crate) leader: usize,
    pub(crate) prev_log_index: u64,
    pub(crate) prev_log_term: u64,
    pub(crate) entries: Vec<Entry>,
    pub(crate) leader_commit: u64,
}

/// AppendEntries reply, with the hints that let the leader back up over a whole term of
/// conflicting entries in one round trip (the optimization at the end of §5.3).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct AppendEntriesReply {
    pub(crate) term: u64,
    pub(crate) success: bool,
    /// On failure: the term of the conflicting entry at `prev_log_index`, if there is one.
    pub(crate) conflict_term: Option<u64>,
    /// On failure: the first index of `conflict_term` in the follower's log, or, if the
    /// follower's log is too short, the index just after its last entry.
    pub(crate) conflict_index: u64,
}

impl Rpc for AppendEntriesArgs {
    type Reply = AppendEntriesReply;
    const METHOD: &'static str = "Raft.AppendEntries";
}

/// InstallSnapshot arguments: the leader sends its snapshot to a follower that needs
/// entries the leader has already discarded (§7).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct InstallSnapshotArgs {
    pub(crate) term: u64,
    pub(crate) leader: usize,
    pub(crate) last_included_index: u64,
    pub(crate) last_included_term: u64,
    #[serde(with = "serde_bytes")]
    pub(crate) data: Vec<u8>,
}

/// InstallSnapshot reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct InstallSnapshotReply {
    pub(crate) term: u64,
}

impl Rpc for InstallSnapshotArgs {
    type Reply = InstallSnapshotReply;
    const METHOD: &'static str = "Raft.InstallSnapshot";
}
