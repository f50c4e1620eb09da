//! Figure 2, "Persistent state on all servers": what survives a crash, how it is encoded,
//! and saving and restoring it.
//!
//! Persistent are `currentTerm`, `votedFor` and `log[]` (whose compacted prefix is the
//! snapshot, §7). Figure 2 asks that they be "updated on stable storage before responding
//! to RPCs"; here, before anything else can reveal them: a transition that changes one of
//! them returns `Effects::persist`, and the peer saves before it replies to the RPC,
//! sends a message, or lets go of the lock. Every place that must save says so with a
//! comment citing Figure 2.
//!
//! The encoding: `Saved` below, postcard-encoded, in which the log is its snapshot
//! boundary followed by its entries as one byte string (see `log.rs`: the log keeps that
//! byte string up to date as it changes, so that saving is a copy).

use serde::{Deserialize, Serialize};

use super::log::Log;
use super::state::State;
use crate::Persister;

/// The persistent part of [`State`], as saved. Generic over the log so that saving can
/// borrow it (`Saved<&Log>`) while restoring owns it (`Saved<Log>`).
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Saved<L = Log> {
    pub(crate) current_term: u64,
    pub(crate) voted_for: Option<usize>,
    pub(crate) log: L,
}

/// Encodes the persistent part of `state`. `size_hint` is the size of the previous save:
/// the state changes little between saves, so starting from a buffer that size spares the
/// encoder copying a growing log again and again.
pub(crate) fn encode(state: &State, size_hint: usize) -> Vec<u8> {
    let saved = Saved {
        current_term: state.current_term(),
        voted_for: state.voted_for,
        log: &state.log,
    };
    labrpc::codec::encode_into(&saved, Vec::with_capacity(size_hint + 1024))
        .expect("Raft state always encodes")
}

/// Decodes what [`encode`] made; an empty state (a first boot) is term 0, no vote, an
/// empty log.
pub(crate) fn decode(bytes: &[u8]) -> Saved {
    if bytes.is_empty() {
        return Saved::default();
    }
    labrpc::codec::decode(bytes)
        .unwrap_or_else(|e| panic!("raft: cannot read the saved state: {e}"))
}

/// Saves term, vote and log, and the snapshot with them: the persister replaces both at
/// once, so the current snapshot goes along every time (the one restored after a restart
/// included).
pub(crate) fn save(persister: &Persister, state: &State) {
    let raft_state = encode(state, persister.raft_state_size());
    persister.save(raft_state, state.snapshot.clone());
}

/// What server `me` of `servers` restarts with: its saved state and its latest snapshot
/// (nothing on a first boot).
pub(crate) fn restore(persister: &Persister, me: usize, servers: usize) -> State {
    let saved = decode(&persister.read_raft_state());
    State::new(me, servers, saved, persister.read_snapshot())
}
