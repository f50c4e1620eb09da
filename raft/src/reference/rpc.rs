//! The three Raft RPCs (Figure 2, and Figure 13 for InstallSnapshot), and the two of part
//! 2E: PreVote (dissertation §9.6) and TimeoutNow (§3.10).

use labrpc::Rpc;
use serde::ser::SerializeTuple as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::config::Configuration;
use super::log::{Entry, WireEntry};

/// RequestVote arguments: a candidate asks for a vote (§5.2).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct RequestVoteArgs {
    pub(crate) term: u64,
    pub(crate) candidate: usize,
    /// With `last_log_term`, lets the voter refuse a candidate whose log is behind its own
    /// (the election restriction, §5.4.1).
    pub(crate) last_log_index: u64,
    pub(crate) last_log_term: u64,
    /// The candidate stands because the leader handed leadership to it (TimeoutNow,
    /// §3.10): voters grant the vote even if they heard from that leader a moment ago
    /// (leader stickiness, §4.2.3, does not apply).
    pub(crate) leadership_transfer: bool,
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

/// PreVote arguments (part 2E, dissertation §9.6): "would you vote for me in `term`?",
/// asked before a server raises its term to stand. The same fields as a RequestVote, with
/// `term` the term the candidate would stand in; the reply is a RequestVote reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct PreVoteArgs(pub(crate) RequestVoteArgs);

impl Rpc for PreVoteArgs {
    type Reply = RequestVoteReply;
    const METHOD: &'static str = "Raft.PreVote";
}

/// TimeoutNow arguments (part 2E, dissertation §3.10): the leader of `term` hands
/// leadership to the receiver, whose log it has brought up to date: stand for election at
/// once.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct TimeoutNowArgs {
    pub(crate) term: u64,
    pub(crate) leader: usize,
}

/// TimeoutNow reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct TimeoutNowReply {
    pub(crate) term: u64,
}

impl Rpc for TimeoutNowArgs {
    type Reply = TimeoutNowReply;
    const METHOD: &'static str = "Raft.TimeoutNow";
}

/// AppendEntries arguments: replicate entries, or just assert leadership (§5.3).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct AppendEntriesArgs {
    pub(crate) term: u64,
    pub(crate) leader: usize,
    pub(crate) prev_log_index: u64,
    pub(crate) prev_log_term: u64,
    pub(crate) entries: Entries,
    pub(crate) leader_commit: u64,
}

/// The entries an AppendEntries carries. A follower receives them decoded. A leader sends
/// a copy of the part of its log's encoded shadow (see `log.rs`) that holds them, which
/// puts on the wire exactly the bytes the decoded entries would encode to: without it the
/// leader cloned every entry of every AppendEntries and encoded each again, and a leader
/// resending a long suffix to a lagging follower spent most of its time doing so (two
/// thirds of `figure8_unreliable_2c`'s instructions).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Entries {
    /// As received.
    Decoded(Vec<Entry>),
    /// As sent: `count` entries, encoded back to back.
    Encoded { count: usize, bytes: Vec<u8> },
}

impl Entries {
    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        match self {
            Entries::Decoded(entries) => entries.len(),
            Entries::Encoded { count, .. } => *count,
        }
    }

    /// The entries, decoded.
    pub(crate) fn into_decoded(self) -> Vec<Entry> {
        match self {
            Entries::Decoded(entries) => entries,
            Entries::Encoded { count, bytes } => {
                let mut rest = &bytes[..];
                let entries: Vec<Entry> = (0..count)
                    .map(|_| {
                        let (entry, after) = labrpc::codec::decode_prefix(rest)
                            .expect("a log's encoded entries decode");
                        rest = after;
                        entry
                    })
                    .collect();
                assert!(
                    rest.is_empty(),
                    "encoded entries end where their count says"
                );
                entries
            }
        }
    }
}

impl Serialize for Entries {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Entries::Decoded(entries) => entries.serialize(serializer),
            Entries::Encoded { count, bytes } => {
                // postcard writes a sequence as its length (a varint) and then its
                // elements, and a tuple as its elements alone: either way below is the
                // same bytes as the decoded entries (a unit test checks both).
                if bytes.len() <= count * COPIED_BYTE_BY_BYTE {
                    // Short entries: byte by byte, cheaper than reading each entry back.
                    let mut tuple = serializer.serialize_tuple(1 + bytes.len())?;
                    tuple.serialize_element(&(*count as u64))?;
                    for byte in bytes {
                        tuple.serialize_element(byte)?;
                    }
                    tuple.end()
                } else {
                    // Long commands: each entry read back borrowing its command, which
                    // then goes out in one copy.
                    let mut tuple = serializer.serialize_tuple(1 + count)?;
                    tuple.serialize_element(&(*count as u64))?;
                    let mut rest = &bytes[..];
                    for _ in 0..*count {
                        let (entry, after): (WireEntry<'_>, _) =
                            labrpc::codec::decode_prefix_borrowed(rest)
                                .map_err(serde::ser::Error::custom)?;
                        tuple.serialize_element(&entry)?;
                        rest = after;
                    }
                    tuple.end()
                }
            }
        }
    }
}

/// The average encoded entry size up to which encoded entries are written byte by byte
/// rather than entry by entry (whichever costs fewer instructions: about 10 a byte against
/// about 80 an entry plus a copy).
const COPIED_BYTE_BY_BYTE: usize = 16;

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        Vec::deserialize(deserializer).map(Entries::Decoded)
    }
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
    /// The configuration in force at `last_included_index` (part 2F): the receiver may
    /// discard the entry that held it.
    pub(crate) config: Configuration,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_entries_travel_as_the_same_bytes_as_decoded_ones() {
        for longest in [4, 40, 400] {
            entries_travel_as_the_same_bytes(longest);
        }
    }

    fn entries_travel_as_the_same_bytes(longest: u64) {
        let entries: Vec<Entry> = (0..300u64)
            .map(|i| match i % 11 {
                5 => Entry {
                    term: i / 7 + 1,
                    payload: super::super::log::Payload::Noop,
                },
                _ => Entry::command(i / 7 + 1, vec![i as u8; (i % longest) as usize]),
            })
            .collect();
        let mut bytes = Vec::new();
        for entry in &entries {
            bytes = labrpc::codec::encode_into(entry, bytes).unwrap();
        }
        let args = |entries| AppendEntriesArgs {
            term: 9,
            leader: 2,
            prev_log_index: 17,
            prev_log_term: 3,
            entries,
            leader_commit: 12,
        };
        let decoded = args(Entries::Decoded(entries.clone()));
        let encoded = args(Entries::Encoded {
            count: entries.len(),
            bytes: bytes.clone(),
        });
        let wire = labrpc::codec::encode(&decoded).unwrap();
        assert_eq!(labrpc::codec::encode(&encoded).unwrap(), wire);
        let received: AppendEntriesArgs = labrpc::codec::decode(&wire).unwrap();
        assert_eq!(received, decoded);
        let again = Entries::Encoded {
            count: entries.len(),
            bytes,
        };
        assert_eq!(again.into_decoded(), entries);
    }
}
