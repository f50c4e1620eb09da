//! What Raft hands to the service above it.

use futures::channel::mpsc;

/// A message on the apply channel: a committed command, a committed no-op or configuration
/// entry, or a snapshot to install.
///
/// Raft sends these in log order. Each `Command` (or `Noop`, or `Configuration`) has the
/// index right after the previous one (or after the last `Snapshot`); a `Snapshot` replaces
/// every command up to its index. A `ReadReady` takes no index: it comes after the entries
/// its read must see.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ApplyMsg {
    /// A log entry that has been committed.
    Command {
        /// Its log index (the first entry has index 1).
        index: u64,
        /// The term in which a leader created it.
        term: u64,
        /// The command, as given to [`start`](crate::Raft::start).
        command: Vec<u8>,
    },
    /// The no-op entry a new leader appended (part 2E, with
    /// [`Options::noop_on_election`](crate::Options::noop_on_election)), now committed. It
    /// holds no command: the service has nothing to apply, but learns that the index is
    /// taken (a command it submitted may have lost its place to it).
    Noop {
        /// Its log index.
        index: u64,
        /// The term of the leader that appended it.
        term: u64,
    },
    /// A configuration entry (part 2F: `add_server`, `remove_server`), now committed: from
    /// this index on, `servers` are the cluster. Like a no-op, it holds no command.
    Configuration {
        /// Its log index.
        index: u64,
        /// The term of the leader that appended it.
        term: u64,
        /// The servers of the new configuration, in increasing order.
        servers: Vec<usize>,
    },
    /// A read-only query started with `read_index` (part 3C, dissertation §6.4) may be
    /// served now: this server led its term after the query came, and every entry up to
    /// the commit index of that moment has come on this channel before this message.
    /// Holds no index: it takes none in the log.
    ReadReady {
        /// The id `read_index` returned.
        id: u64,
    },
    /// A snapshot received from the leader (2D), which the service must install.
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of that entry.
        term: u64,
        /// The snapshot, as the leader's service made it.
        data: Vec<u8>,
    },
}

/// The sending half of the apply channel. Sending never blocks.
pub type ApplySender = mpsc::UnboundedSender<ApplyMsg>;

/// The receiving half of the apply channel.
pub type ApplyReceiver = mpsc::UnboundedReceiver<ApplyMsg>;

/// A new apply channel.
pub fn apply_channel() -> (ApplySender, ApplyReceiver) {
    mpsc::unbounded()
}
