//! The switches of the production extensions (part 2E): each one off unless a test turns
//! it on, so that the course's tests (2A–2D, 3A/3B) run the Raft of the paper's Figure 2.

/// Which extensions of Figure 2 a server runs (part 2E; see `docs/lab-extensions.md`).
///
/// [`Raft::new`](crate::Raft::new) starts a server with every switch off, as the course's
/// tests want; [`Raft::with_options`](crate::Raft::with_options) turns them on. The other
/// extensions (leadership transfer, membership changes, ReadIndex) are calls, not
/// switches: a server does them only when asked. `joining` is not an extension either, but
/// how a server added to a running cluster (part 2F) starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Options {
    /// Pre-Vote (dissertation §9.6): before it raises its term to stand for election, a
    /// server asks whether a majority would vote for it, and stands only if so. A server
    /// cut off from the others then never raises its term, and cannot depose a healthy
    /// leader when it comes back.
    pub pre_vote: bool,
    /// CheckQuorum (dissertation §6.2 and §4.2.3): a leader that has not heard from a
    /// majority for an election timeout steps down; and a server that heard from a live
    /// leader less than a minimum election timeout ago neither grants its vote nor raises
    /// its term for a candidate (leader stickiness).
    pub check_quorum: bool,
    /// The leader's no-op (dissertation §6.4; the paper's §8): a new leader appends an
    /// empty entry of its own term at once, so that the entries of earlier terms commit
    /// without waiting for a new command. The no-op reaches the service as
    /// [`ApplyMsg::Noop`](crate::ApplyMsg::Noop).
    pub noop_on_election: bool,
    /// Part 2F: this server joins a running cluster, which will add it with
    /// [`Raft::add_server`](crate::Raft::add_server). With nothing saved it starts with no
    /// configuration (instead of one holding every server), so it neither stands for
    /// election nor counts anyone's vote until it learns the cluster's configuration from
    /// the leader. (A server that has saved a configuration, in its log or snapshot, uses
    /// that one either way.)
    pub joining: bool,
}

impl Options {
    /// Every switch off: the Raft of Figure 2, which the course's tests run.
    pub const FIGURE_2: Options = Options {
        pre_vote: false,
        check_quorum: false,
        noop_on_election: false,
        joining: false,
    };

    /// Every switch on: what a production Raft runs.
    pub const ALL: Options = Options {
        pre_vote: true,
        check_quorum: true,
        noop_on_election: true,
        joining: false,
    };
}
