//! Stable storage for a Raft server: what survives a crash.

use std::sync::Arc;

use parking_lot::Mutex;

/// A server's stable storage: its Raft state and its latest snapshot.
///
/// Raft saves its persistent state (Figure 2: `currentTerm`, `votedFor`, `log[]`) here
/// before it answers an RPC, and reads it back when it restarts. The tester keeps the
/// persister of each server across crashes, and hands a restarted server a *copy*
/// ([`Persister::copy`]), so that anything the crashed instance might still write goes
/// nowhere.
///
/// Cloning a `Persister` gives another handle to the same storage.
#[derive(Clone, Default, Debug)]
pub struct Persister {
    stored: Arc<Mutex<Stored>>,
}

#[derive(Clone, Default, Debug)]
struct Stored {
    raft_state: Vec<u8>,
    snapshot: Vec<u8>,
}

impl Persister {
    /// Empty storage, as on a server's first boot.
    pub fn new() -> Persister {
        Persister::default()
    }

    /// Independent storage holding the same bytes.
    pub fn copy(&self) -> Persister {
        Persister {
            stored: Arc::new(Mutex::new(self.stored.lock().clone())),
        }
    }

    /// Saves the Raft state and the snapshot together, atomically, replacing both.
    ///
    /// There is no way to save one without the other (as in the course since 2023): every
    /// save must pass the latest snapshot (empty until there is one), or the snapshot is
    /// lost. In particular a server restarted from a snapshot must keep it, from
    /// [`Persister::read_snapshot`], and save it again with its next state.
    pub fn save(&self, raft_state: Vec<u8>, snapshot: Vec<u8>) {
        let mut stored = self.stored.lock();
        stored.raft_state = raft_state;
        stored.snapshot = snapshot;
    }

    /// The last Raft state saved (empty on first boot).
    pub fn read_raft_state(&self) -> Vec<u8> {
        self.stored.lock().raft_state.clone()
    }

    /// The last snapshot saved (empty if none).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.stored.lock().snapshot.clone()
    }

    /// Size in bytes of the saved Raft state. 2D and 3B check it stays small.
    pub fn raft_state_size(&self) -> usize {
        self.stored.lock().raft_state.len()
    }

    /// Size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.stored.lock().snapshot.len()
    }
}
