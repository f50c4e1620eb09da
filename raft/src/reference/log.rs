//! Figure 2's `log[]`, with a prefix compacted into a snapshot (§7).
//!
//! Indices are global and start at 1, as in the paper. The entries up to and including
//! `snapshot_index` have been discarded in favour of a snapshot; the log keeps the index
//! and term of the last of them so that the consistency check of AppendEntries still
//! works at that boundary. Index 0 (term 0) is the empty snapshot every server starts with.
//!
//! # The encoded shadow
//!
//! Figure 2 wants the log on stable storage before every reply that reveals a change to
//! it, so a busy server saves its whole log many times a second. Encoding thousands of
//! entries for each save would cost more than everything else a server does. So the log
//! keeps, beside `entries`, the same entries already encoded back to back (`encoded`, with
//! `encoded_ends[k]` where entry `k` ends): appending encodes just the new entry,
//! truncating and compacting cut the byte string at an entry boundary, and saving copies
//! it whole ([`Serialize`] for [`Log`] writes it as one byte string). Reading the log back
//! decodes the entries one by one. The shadow is private to this file.

use serde::{Deserialize, Serialize};

use super::config::Configuration;

/// One log entry: what it holds, and the term in which a leader appended it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Entry {
    pub(crate) term: u64,
    pub(crate) payload: Payload,
}

/// What a log entry holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Payload {
    /// A command of the service.
    Command(Vec<u8>),
    /// The empty entry a new leader appends (`Options::noop_on_election`).
    Noop,
    /// A new configuration (part 2F), in force from the moment a server has the entry.
    Configuration(Configuration),
}

impl Entry {
    /// An entry holding `command`.
    pub(crate) fn command(term: u64, command: Vec<u8>) -> Entry {
        Entry {
            term,
            payload: Payload::Command(command),
        }
    }
}

/// An entry as it is encoded (in the log's shadow, in the saved state, on the wire): a
/// code, the term shifted left by one with the low bit set for an entry that holds no
/// command, then one byte string, the command or the encoded [`Special`] payload.
///
/// Folding the kind into the term's varint, rather than writing an enum's tag, keeps a
/// command's entry as short as a bare (term, command) pair for terms below 64: every entry
/// of the course's tests is a command, and a leader writes each one to the wire byte by
/// byte (see `rpc.rs`), so a tag byte on each would cost them all.
#[derive(Serialize, Deserialize)]
pub(crate) struct WireEntry<'a> {
    pub(crate) code: u64,
    #[serde(borrow, with = "serde_bytes")]
    pub(crate) body: &'a [u8],
}

/// [`WireEntry`], owning its byte string (what decoding makes).
#[derive(Deserialize)]
struct OwnedWireEntry {
    code: u64,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

/// The payload of an entry that holds no command, encoded as its byte string.
#[derive(Serialize, Deserialize)]
enum Special<C> {
    Noop,
    Configuration(C),
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.payload {
            Payload::Command(command) => WireEntry {
                code: self.term << 1,
                body: command,
            }
            .serialize(serializer),
            Payload::Noop => self.serialize_special(Special::Noop, serializer),
            Payload::Configuration(config) => {
                self.serialize_special(Special::Configuration(config), serializer)
            }
        }
    }
}

impl Entry {
    fn serialize_special<S: serde::Serializer>(
        &self,
        special: Special<&Configuration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let body = labrpc::codec::encode(&special).map_err(serde::ser::Error::custom)?;
        WireEntry {
            code: self.term << 1 | 1,
            body: &body,
        }
        .serialize(serializer)
    }

    /// The configuration this entry holds, if it holds one.
    pub(crate) fn configuration(&self) -> Option<&Configuration> {
        match &self.payload {
            Payload::Configuration(config) => Some(config),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Entry, D::Error> {
        let OwnedWireEntry { code, body } = OwnedWireEntry::deserialize(deserializer)?;
        let term = code >> 1;
        if code & 1 == 0 {
            return Ok(Entry::command(term, body));
        }
        let special: Special<Configuration> =
            labrpc::codec::decode(&body).map_err(serde::de::Error::custom)?;
        let payload = match special {
            Special::Noop => Payload::Noop,
            Special::Configuration(config) => Payload::Configuration(config),
        };
        Ok(Entry { term, payload })
    }
}

/// The log of one server.
///
/// Invariant: `entries[k]` has index `snapshot_index + 1 + k`, and `encoded` holds exactly
/// `entries`, encoded (see the module docs).
#[derive(Clone, Default, Debug)]
pub(crate) struct Log {
    /// The last index covered by the snapshot (0 if there is none).
    snapshot_index: u64,
    /// The term of the entry at `snapshot_index`.
    snapshot_term: u64,
    /// The entries after the snapshot.
    entries: Vec<Entry>,
    /// `entries`, encoded back to back: the shadow that makes saving a copy.
    encoded: Vec<u8>,
    /// Where each entry's encoding ends in `encoded`.
    encoded_ends: Vec<usize>,
    /// The configuration in force at `snapshot_index`, if an entry up to there held one
    /// (part 2F): compacting the entry must not lose it.
    snapshot_config: Option<Configuration>,
}

/// The log as saved: the snapshot boundary, its configuration, and the encoded entries.
#[derive(Serialize, Deserialize)]
struct SavedLog<B, C> {
    snapshot_index: u64,
    snapshot_term: u64,
    snapshot_config: Option<C>,
    entries: B,
}

impl Serialize for Log {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SavedLog {
            snapshot_index: self.snapshot_index,
            snapshot_term: self.snapshot_term,
            snapshot_config: self.snapshot_config.as_ref(),
            entries: serde_bytes::Bytes::new(&self.encoded),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Log {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Log, D::Error> {
        let saved = SavedLog::<serde_bytes::ByteBuf, Configuration>::deserialize(deserializer)?;
        let mut log = Log {
            snapshot_index: saved.snapshot_index,
            snapshot_term: saved.snapshot_term,
            snapshot_config: saved.snapshot_config,
            ..Log::default()
        };
        let mut rest = &saved.entries[..];
        while !rest.is_empty() {
            let (entry, after) =
                labrpc::codec::decode_prefix::<Entry>(rest).map_err(serde::de::Error::custom)?;
            rest = after;
            log.push(entry);
        }
        Ok(log)
    }
}

impl Log {
    pub(crate) fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    pub(crate) fn snapshot_term(&self) -> u64 {
        self.snapshot_term
    }

    pub(crate) fn last_index(&self) -> u64 {
        self.snapshot_index + self.entries.len() as u64
    }

    pub(crate) fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The term of the entry at `index`, if the log still knows it (the snapshot boundary
    /// counts; entries inside the snapshot do not).
    pub(crate) fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.position(index).map(|k| self.entries[k].term)
    }

    /// The entry at `index`, if it is in the log (after the snapshot).
    pub(crate) fn entry(&self, index: u64) -> Option<&Entry> {
        self.position(index).map(|k| &self.entries[k])
    }

    /// The entries from `index` on. `index` must be after the snapshot. (The leader sends
    /// them with [`Log::encoded_from`].)
    #[cfg(test)]
    pub(crate) fn entries_from(&self, index: u64) -> &[Entry] {
        assert!(
            index > self.snapshot_index,
            "entries_from inside the snapshot"
        );
        let start = ((index - self.snapshot_index - 1) as usize).min(self.entries.len());
        &self.entries[start..]
    }

    /// How many entries there are from `index` on, and their encoding, back to back (what
    /// an AppendEntries sends). `index` must be after the snapshot.
    pub(crate) fn encoded_from(&self, index: u64) -> (usize, &[u8]) {
        assert!(
            index > self.snapshot_index,
            "encoded_from inside the snapshot"
        );
        let start = ((index - self.snapshot_index - 1) as usize).min(self.entries.len());
        let from = match start {
            0 => 0,
            k => self.encoded_ends[k - 1],
        };
        (self.entries.len() - start, &self.encoded[from..])
    }

    /// Appends one entry; returns its index.
    pub(crate) fn push(&mut self, entry: Entry) -> u64 {
        self.encoded = labrpc::codec::encode_into(&entry, std::mem::take(&mut self.encoded))
            .expect("log entries always encode");
        self.encoded_ends.push(self.encoded.len());
        self.entries.push(entry);
        self.last_index()
    }

    /// Discards every entry from `index` on (a conflicting suffix, §5.3).
    pub(crate) fn truncate_from(&mut self, index: u64) {
        assert!(
            index > self.snapshot_index,
            "cannot truncate inside the snapshot"
        );
        let keep = ((index - self.snapshot_index - 1) as usize).min(self.entries.len());
        self.entries.truncate(keep);
        self.encoded_ends.truncate(keep);
        self.encoded
            .truncate(self.encoded_ends.last().copied().unwrap_or(0));
    }

    /// Discards every entry up to and including `index`, which a snapshot now covers.
    /// If the log does not reach `index` with an entry of `term`, the whole log goes
    /// (§7: "if existing log entry has same index and term as snapshot's last included
    /// entry, retain log entries following it").
    pub(crate) fn compact_to(&mut self, index: u64, term: u64) {
        if index <= self.snapshot_index {
            return;
        }
        if self.term_at(index) == Some(term) {
            let dropped = (index - self.snapshot_index) as usize;
            if let Some(config) = self.entries[..dropped]
                .iter()
                .rev()
                .find_map(Entry::configuration)
            {
                self.snapshot_config = Some(config.clone());
            }
            let dropped_bytes = self.encoded_ends[dropped - 1];
            self.entries.drain(..dropped);
            self.encoded.drain(..dropped_bytes);
            self.encoded_ends.drain(..dropped);
            for end in &mut self.encoded_ends {
                *end -= dropped_bytes;
            }
        } else {
            self.entries.clear();
            self.encoded.clear();
            self.encoded_ends.clear();
            // Unknown: the snapshot's sender says (`set_snapshot_configuration`).
            self.snapshot_config = None;
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// The configuration in force at the snapshot's last index, as its sender knew it.
    pub(crate) fn set_snapshot_configuration(&mut self, config: Option<Configuration>) {
        self.snapshot_config = config;
    }

    /// The configuration in force at the snapshot's last index, if any entry held one.
    pub(crate) fn snapshot_configuration(&self) -> Option<&Configuration> {
        self.snapshot_config.as_ref()
    }

    /// The latest configuration in the log, committed or not, and its index; else the
    /// snapshot's (at the snapshot's index); `None` if neither holds one (the cluster's
    /// initial configuration is in force).
    pub(crate) fn latest_configuration(&self) -> Option<(u64, &Configuration)> {
        match self
            .entries
            .iter()
            .rposition(|e| e.configuration().is_some())
        {
            Some(k) => {
                let config = self.entries[k].configuration().expect("found above");
                Some((self.snapshot_index + 1 + k as u64, config))
            }
            None => self
                .snapshot_config
                .as_ref()
                .map(|config| (self.snapshot_index, config)),
        }
    }

    /// The first index of the run of entries with `term` that ends at `index`.
    pub(crate) fn first_index_of_term_run(&self, index: u64, term: u64) -> u64 {
        let mut first = index;
        while first - 1 > self.snapshot_index && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first
    }

    /// The last index holding an entry of `term`, if any.
    pub(crate) fn last_index_of_term(&self, term: u64) -> Option<u64> {
        let k = self.entries.iter().rposition(|e| e.term == term)?;
        Some(self.snapshot_index + 1 + k as u64)
    }

    fn position(&self, index: u64) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        Some((index - self.snapshot_index - 1) as usize)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An entry of `term` (its command is the term, as one byte).
    pub(crate) fn entry(term: u64) -> Entry {
        Entry::command(term, vec![term as u8])
    }

    /// A log holding entries of `terms`, at indices 1, 2, ...
    pub(crate) fn log_of(terms: &[u64]) -> Log {
        let mut log = Log::default();
        for &t in terms {
            log.push(entry(t));
        }
        log
    }

    #[test]
    fn indices_start_at_one_after_the_empty_snapshot() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(1), Some(1));
        assert_eq!(log.term_at(4), None);
    }

    #[test]
    fn compaction_keeps_the_suffix_when_the_boundary_matches() {
        let mut log = log_of(&[1, 1, 2, 3]);
        log.compact_to(2, 1);
        assert_eq!(log.snapshot_index(), 2);
        assert_eq!(log.term_at(2), Some(1));
        assert_eq!(log.term_at(1), None);
        assert_eq!(log.entry(3).map(|e| e.term), Some(2));
        assert_eq!(log.last_index(), 4);
        assert_eq!(log.entries_from(3).len(), 2);
    }

    #[test]
    fn compaction_drops_everything_when_the_boundary_conflicts() {
        let mut log = log_of(&[1, 1, 2]);
        log.compact_to(5, 4);
        assert_eq!(log.last_index(), 5);
        assert_eq!(log.last_term(), 4);
        assert_eq!(log.entries_from(6).len(), 0);
    }

    #[test]
    fn a_saved_log_reads_back_the_same() {
        let mut log = log_of(&[1, 1, 2, 3, 3]);
        log.truncate_from(5);
        log.compact_to(2, 1);
        log.push(entry(4));
        let bytes = labrpc::codec::encode(&log).unwrap();
        let back: Log = labrpc::codec::decode(&bytes).unwrap();
        assert_eq!(back.snapshot_index(), 2);
        assert_eq!(back.snapshot_term(), 1);
        assert_eq!(back.last_index(), 5);
        assert_eq!(back.entries_from(3), log.entries_from(3));
        assert_eq!(labrpc::codec::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn term_runs_for_fast_backup() {
        let log = log_of(&[1, 2, 2, 2, 3]);
        assert_eq!(log.first_index_of_term_run(4, 2), 2);
        assert_eq!(log.last_index_of_term(2), Some(4));
        assert_eq!(log.last_index_of_term(9), None);
        let mut log = log;
        log.truncate_from(3);
        assert_eq!(log.last_index(), 2);
    }
}
