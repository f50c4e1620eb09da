//! Your Raft (6.824 / 6.5840 Lab 2). Start reading here.
//!
//! This skeleton compiles and runs, but elects no leader and replicates nothing, so every
//! test fails, within a second or so, with a message that says what is missing. You fill
//! it in, part by part:
//!
//! - **2A, leader election**: the election timer (`ticker` below), RequestVote (in
//!   `rpc.rs`), heartbeats (AppendEntries without entries), and [`Raft::state`].
//! - **2B, the log**: [`Raft::start`], AppendEntries with entries, committing, and handing
//!   committed commands to the service on the apply channel, in order.
//! - **2C, persistence**: `persist` and `read_persist` below, called at the right moments.
//! - **2D, log compaction**: [`Raft::snapshot`] and the InstallSnapshot RPC.
//! - **2E, beyond the course** (once 2A–2D pass; read `docs/lab-extensions.md`): the
//!   [`Options`] that [`Raft::with_options`] passes (the leader's no-op, Pre-Vote,
//!   CheckQuorum) and [`Raft::transfer_leadership`].
//!
//! Read `docs/lab-raft.md` first, and keep Figure 2 of the extended Raft paper open: it
//! is the specification. Add fields, functions and files (`mod election;` next to
//! `mod rpc;`) as you like; only the public API of [`Raft`] must stay as it is, because
//! the tester calls it.
//!
//! Two conventions in this file:
//!
//! - The stubs never panic (no `todo!()`): `start` says "not the leader" and `state` says
//!   "term 0, not the leader". The tester calls them from the very first test, and an
//!   honest "no" lets each test fail with the tester's own message (no leader elected, no
//!   agreement reached), which says what to look at next.
//! - A few examples are not called yet. They carry `#[expect(dead_code, reason = ...)]`
//!   to keep the build free of warnings; once you use one, the compiler warns "this lint
//!   expectation is unfulfilled" and repeats the reason: delete the attribute then.
//!
//! # How a server runs
//!
//! The tester makes each server on its own simulated machine (a *node*) by calling
//! [`Raft::new`], and adds the handlers from [`Raft::service`] to the network. After that
//! everything a server does happens in tasks: the ones it spawns with `labrpc::spawn` (the
//! election timer, the tasks that send RPCs, the applier) and the ones the network starts
//! for each RPC that arrives (your handlers). They all share the server's state through a
//! clone of [`Raft`]. When the tester crashes a server, its node dies and every one of those
//! tasks is dropped mid-flight, like the threads of a machine that lost power.
//!
//! # Three things that will bite you
//!
//! **1. Holding the lock across an `.await` does not compile.** Tasks must be `Send`, and a
//! `parking_lot::MutexGuard` is not. If a task keeps a guard alive across an `.await`:
//!
//! ```text
//! let state = self.state.lock();
//! let reply = self.peers[1].call(&args).await;   // the guard is still alive here
//! ```
//!
//! then the `labrpc::spawn` (or the `Service::method`) that runs it fails to compile with
//!
//! ```text
//! error: future cannot be sent between threads safely
//!     |         labrpc::spawn(async move {
//!     |         ^ future created by async block is not `Send`
//! note: future is not `Send` as this value is used across an await
//!     |         let state = self.state.lock();
//!     |             ----- has type `parking_lot::lock_api::MutexGuard<'_, parking_lot::RawMutex, State>` which is not `Send`
//!     |         let reply = self.peers[1].call(&args).await;
//!     |                                              ^^^^^ await occurs here, with `state` maybe used later
//! note: required by a bound in `labrpc::spawn`
//! ```
//!
//! The compiler has found a real bug for you: while one task waits for a reply (which can
//! take seconds) holding the lock, no other task of the server can touch the state. Let
//! go of the lock before you await, by ending the guard's scope: copy what you need out
//! of the state in a block, then await outside it, then lock again and check that nothing
//! changed under you (same term, same role) before you use the reply:
//!
//! ```text
//! let args = {
//!     let state = self.state.lock();
//!     RequestVoteArgs { /* ... from state ... */ }
//! };                                              // the guard is gone here
//! let reply = self.peers[1].call(&args).await;
//! ```
//!
//! Calling `drop(state)` before the `.await` is *not* enough: the compiler still counts the
//! guard as alive until the end of its scope. And beware of a lock taken in a `match` or
//! `if let` scrutinee (`match self.state.lock().role { ... }`): it lasts until the end of
//! the `match`.
//!
//! **2. Everything must come from the simulation, or runs stop replaying.** A seed replays
//! a run exactly only if your code draws all its time, randomness and concurrency from
//! labrpc. Use `labrpc::now`, `labrpc::sleep` and `labrpc::rng()`, never
//! `std::time::Instant` or `rand::rng()`; spawn with `labrpc::spawn`, never
//! `std::thread`; use `futures::select_biased!`, not `select!`; and don't iterate over a
//! `HashMap` (a `BTreeMap` or a `Vec` is fine). `LAB_CHECK_DETERMINISM=1` catches mistakes,
//! and runs by itself on the first seed whenever `LAB_RUNS` is more than 1.
//!
//! **3. Only `.await` lets anything else happen.** The simulation runs one task at a time.
//! A loop that waits for something without awaiting (spinning on a flag), or a second
//! `self.state.lock()` while this task already holds the lock, stops the whole world: no
//! other task runs and virtual time stands still. (parking_lot locks are not reentrant:
//! a function that locks must not be called with the lock held; pass it `&mut State`
//! instead.) A watchdog notices after five seconds of CPU time in one step (or five
//! seconds blocked on a lock) and fails the test with a message naming the test, the seed,
//! the node and the task or RPC handler; if the stuck code never returns to the runtime,
//! it ends the test process a few seconds later, with the same message.

mod rpc;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labrpc::{ClientEnd, Service};
use parking_lot::Mutex;
use rand::RngExt;

use self::rpc::RequestVoteArgs;
use crate::{ApplySender, Options, Persister};

/// One Raft server (a "peer" in the paper).
///
/// The tester holds one and calls the methods below from its own task, as this server's
/// node (so anything they spawn belongs to this server); your background tasks and RPC
/// handlers each hold a clone. Cloning is cheap and gives another handle to
/// the same server: the clones share the lock-protected state and the peers.
#[derive(Clone)]
pub struct Raft {
    /// One RPC client end per server: `peers[i]` reaches server `i`. `peers[me]` reaches
    /// this server itself (you will not need to call yourself).
    peers: Arc<[ClientEnd]>,
    /// This server's index into `peers`.
    me: usize,
    /// Where this server saves its persistent state (2C) and snapshots (2D).
    persister: Persister,
    /// Where committed commands go, as `ApplyMsg`s, in index order (2B):
    /// `self.apply_tx.unbounded_send(ApplyMsg::Command { index, term, command })`. Sending
    /// never blocks; it fails only once the service is gone.
    #[expect(
        dead_code,
        reason = "send ApplyMsgs on it in 2B; then delete this attribute"
    )]
    apply_tx: ApplySender,
    /// Everything that changes, behind one lock.
    state: Arc<Mutex<State>>,
    /// Set by [`Raft::kill`]. An atomic rather than a field of `State`, so that
    /// `killed()` can be called anywhere, also while the lock is held.
    dead: Arc<AtomicBool>,
}

/// What a server knows and remembers: the state in Figure 2, and whatever else you need.
///
/// One lock around all of it is the simplest design and the one we recommend: lock it,
/// read and change what you need, and let go before you await anything. More locks would
/// buy no speed (the simulation runs one task at a time) and would invite deadlocks.
struct State {
    /// The latest term this server has seen (Figure 2: `currentTerm`). Persistent.
    current_term: u64,
    /// The candidate this server voted for in `current_term`, if any (`votedFor`).
    /// Persistent.
    voted_for: Option<usize>,
    // Your data here (2A, 2B, 2C).
    // Figure 2 lists the rest: the log (whose entries each hold a command and the term it
    // was received in), commitIndex and lastApplied on every server, and nextIndex[] and
    // matchIndex[] on the leader. You will also want to know whether this server is a
    // follower, a candidate or the leader (an enum), and when its election timer expires
    // (a `labrpc::Instant`).
    //
    // Log indices start at 1 in the paper, and the tester expects the first command to be
    // at index 1. Many solutions put a dummy entry at position 0 to make that easy.
}

impl Raft {
    /// Creates server `me` of a cluster (the service or tester calls this).
    ///
    /// `peers[i]` reaches server `i`, for every `i`, and all servers get their `peers` in
    /// the same order. `persister` holds what this server saved before it crashed, if
    /// anything: start from it. Committed commands go on `apply_tx`.
    ///
    /// Must return at once: start long-running work (the election timer, ...) in tasks.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        apply_tx: ApplySender,
    ) -> Raft {
        let rf = Raft {
            peers: peers.into(),
            me,
            persister,
            apply_tx,
            state: Arc::new(Mutex::new(State {
                current_term: 0,
                voted_for: None,
            })),
            dead: Arc::new(AtomicBool::new(false)),
        };

        // Your initialization code here (2A, 2B, 2C).

        // Start from the state saved before a crash, if there is one (2C).
        rf.read_persist(&rf.persister.read_raft_state());

        // Start the election timer: a task of this server, running until it is killed.
        labrpc::spawn(rf.clone().ticker());

        tracing::debug!(me = rf.me, peers = rf.peers.len(), "started");
        rf
    }

    /// Creates server `me` as [`Raft::new`] does, running the extensions `options` turns
    /// on (2E). The 2A–2D tests call `new`, which is every option off; the 2E tests call
    /// this.
    ///
    /// Keep `options` in your state and let each switch change what Figure 2 does, so
    /// that with every switch off your Raft behaves exactly as it did for 2A–2D:
    ///
    /// - `noop_on_election`: a new leader appends a no-op entry of its term at once; it
    ///   commits like any entry and reaches the service as `ApplyMsg::Noop`.
    /// - `pre_vote`: a follower whose election timer fires first asks the others whether
    ///   they would vote for it (a PreVote RPC, which changes nothing on the receiver),
    ///   and raises its term only once a majority says yes.
    /// - `check_quorum`: a leader that has not heard from a majority for an election
    ///   timeout steps down; a server that heard from a live leader within a minimum
    ///   election timeout ignores RequestVotes for a newer term, keeping its own term and
    ///   vote (unless the leader itself handed over).
    pub fn with_options(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        apply_tx: ApplySender,
        options: Options,
    ) -> Raft {
        // Your code here (2E): pass `options` on to your state.
        tracing::debug!(?options, "options are ignored until 2E");
        Raft::new(peers, me, persister, apply_tx)
    }

    /// Asks this server to start agreement on `command`, the next command to be appended
    /// to Raft's log (the service calls this, e.g. a key/value server in Lab 3).
    ///
    /// If this server is not the leader, returns `None`. Otherwise it appends the command
    /// to its own log, starts replicating it, and returns `Some((index, term))` at once:
    /// the index the command will have if it is ever committed, and the current term.
    /// There is no guarantee that it will be: the leader may fail or lose an election.
    ///
    /// Must return at once, without waiting for anything (it is not `async`, so it cannot):
    /// replication happens in other tasks, which this can wake up. Also return gracefully
    /// after [`kill`](Raft::kill).
    pub fn start(&self, _command: Vec<u8>) -> Option<(u64, u64)> {
        // Your code here (2B).
        // (Rename `_command` to `command` once you use it; the underscore only keeps the
        // compiler from warning about an unused argument.)
        None
    }

    /// Hands leadership to server `to` (2E; dissertation §3.10). If this server leads,
    /// it stops accepting commands (`start` returns `None`), brings `to`'s log up to date,
    /// and then tells `to` to stand for election at once (a TimeoutNow RPC), which `to`
    /// wins. Returns whether the transfer started: `false` if this server does not lead
    /// (or was killed), or `to` is not another server of the cluster. A transfer to
    /// another server replaces one under way. If `to` does not lead within an election
    /// timeout, give up and accept commands again. Must return at once.
    pub fn transfer_leadership(&self, _to: usize) -> bool {
        // Your code here (2E).
        false
    }

    /// Starts adding server `server` to the cluster (2F; dissertation §4.2.1). If this
    /// server leads, it first brings `server`'s log up to date (entries, or its snapshot)
    /// while `server` neither votes nor counts, then appends a configuration entry with it;
    /// the change is done when that entry commits and reaches the service as
    /// `ApplyMsg::Configuration`. Returns whether the change started: `false` if this
    /// server does not lead, another change is under way (one at a time), nothing of this
    /// leader's term has committed yet, a leadership transfer is under way, or `server` is
    /// already a member. Must return at once.
    pub fn add_server(&self, _server: usize) -> bool {
        // Your code here (2F).
        false
    }

    /// Removes server `server` from the cluster (2F; dissertation §4.2): if this server
    /// leads, it appends the configuration without `server`, which is in force at once
    /// (every server uses the latest configuration in its log, committed or not). A leader
    /// that removes itself steps down once that entry commits. Returns whether the change
    /// started (`false` for the reasons of [`Raft::add_server`], or if `server` is not a
    /// member, or the last one). Must return at once.
    pub fn remove_server(&self, _server: usize) -> bool {
        // Your code here (2F).
        false
    }

    /// Starts a read-only query without writing the log (3C; dissertation §6.4, ReadIndex).
    /// If this server leads, it notes its commit index (once an entry of its own term has
    /// committed: its no-op), confirms with a round of heartbeats answered by a majority
    /// that it still leads, and then sends `ApplyMsg::ReadReady { id }` on the apply
    /// channel, after every entry up to the commit index it noted. Returns `Some((id,
    /// term))`, the read's id and this leader's term, or `None` if this server does not
    /// lead. A read whose leader loses its term never becomes ready. Must return at once.
    pub fn read_index(&self) -> Option<(u64, u64)> {
        // Your code here (3C).
        None
    }

    /// The servers of the configuration this server uses now (2F): the latest in its log,
    /// committed or not. Until 2F, every server of the cluster.
    pub fn members(&self) -> Vec<usize> {
        // Your code here (2F).
        (0..self.peers.len()).collect()
    }

    /// Returns `(current_term, is_leader)`: the current term, and whether this server
    /// believes it is the leader.
    pub fn state(&self) -> (u64, bool) {
        let state = self.state.lock();
        // Your code here (2A).
        (state.current_term, false)
    }

    /// The service has made a snapshot of its state that covers every command up to and
    /// including `index` (2D). Raft no longer needs those log entries: trim the log, and
    /// persist the snapshot together with the rest of the state.
    ///
    /// The service calls this from the task that reads the apply channel, right after it
    /// applied `index`. By then Raft may already have a later snapshot (one a leader sent
    /// with InstallSnapshot): ignore an `index` your log has already been trimmed past.
    pub fn snapshot(&self, _index: u64, _snapshot: Vec<u8>) {
        // Your code here (2D).
    }

    /// Stops this server. The tester calls it when it crashes the server, right before it
    /// kills the server's node, and on every server still running when a test ends.
    ///
    /// Killing the node already drops every task the server spawned, so nothing of a
    /// killed server runs on. The flag set here lets your loops stop cleanly, and lets
    /// `start` and `state` answer sensibly if someone still calls them.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        // Your code here, if desired.
    }

    /// The RPC handlers of this server, as a labrpc service named `"Raft"`. The tester
    /// adds it to the server's node; each request that arrives runs its handler in a new
    /// task on that node.
    pub fn service(&self) -> Service {
        let rf = self.clone();
        Service::new("Raft").method(move |args: RequestVoteArgs| {
            // The handler does its work right away (lock, look, change, unlock) and
            // returns a future that is already finished. A handler that needs to await would instead be
            // `let rf = rf.clone(); async move { rf.some_async_handler(args).await }`.
            let reply = rf.request_vote(args);
            async move { reply }
        })
        // Your code here (2A, 2B): register the AppendEntries handler the same way:
        //
        //     .method(move |args: AppendEntriesArgs| { ... })
        //
        // (each `.method` closure needs its own clone of `self`). In 2D, add
        // InstallSnapshot too. A method that is not registered is a loud error at run
        // time, listing the methods that are.
    }

    /// Whether [`Raft::kill`] has been called.
    fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// The election timer: a background task, spawned by `new`, that runs until the
    /// server is killed (or its node dies).
    ///
    /// A follower that hears nothing from a current leader, and grants no vote, for a
    /// whole election timeout starts an election (§5.2). Timeouts are random, so that
    /// servers rarely time out together and split the vote.
    ///
    /// A leader needs another task like this one, which sends heartbeats (AppendEntries)
    /// to every peer, at most ten times a second: the tester counts RPCs. Spawn it when
    /// the server becomes leader, and let it return once the server is no longer leader
    /// of that term.
    async fn ticker(self) {
        while !self.killed() {
            // Your code here (2A)
            // Check whether a leader election should be started: lock the state, decide,
            // update it, and release the lock; then send the RequestVotes, each in a task
            // of its own (see `send_request_vote` in rpc.rs).

            // Pause for a random amount of time between 50 and 350 milliseconds of
            // virtual time. The random number comes from the simulation, so a seed
            // replays it.
            let ms = labrpc::rng().random_range(50..350);
            labrpc::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// Saves the persistent state (Figure 2: `currentTerm`, `votedFor`, `log[]`) on
    /// stable storage, so that a server restarted after a crash finds it again (2C).
    ///
    /// Call it whenever one of these changes, before anyone can learn of the change: before
    /// a handler returns its reply, before RPCs that carry the new state go out. Pass the
    /// state you have locked: `self.persist(&state)`. (Locking again in here, while you
    /// hold the lock, would block the simulation forever: parking_lot locks are not
    /// reentrant.)
    #[expect(
        dead_code,
        reason = "call it wherever the persistent state changes (2C); then delete this attribute"
    )]
    fn persist(&self, state: &State) {
        // Your code here (2C).
        // Example: encode the persistent fields with labrpc's codec (serde + postcard).
        // A tuple is the shortest way; a struct with #[derive(Serialize, Deserialize)]
        // works too. Add the log here (`&state.log`) once you have one, and its entries'
        // type needs the same derive.
        let raft_state = labrpc::codec::encode(&(state.current_term, state.voted_for))
            .expect("the Raft state always encodes");
        // `save` replaces the Raft state and the snapshot together. Until 2D there is no
        // snapshot: pass an empty one. In 2D, keep the latest snapshot in your state (after a
        // restart, the one from `self.persister.read_snapshot()`) and pass it here every
        // time: an empty one would erase it (test snapshot_init_2d checks).
        self.persister.save(raft_state, Vec::new());
    }

    /// Restores the state saved by `persist` before a crash (2C). `data` is empty when
    /// the server boots for the first time.
    fn read_persist(&self, data: &[u8]) {
        if data.is_empty() {
            return; // a first boot: nothing to restore
        }
        // Your code here (2C).
        // Example: decode what `persist` encoded, with exactly the same types in the same
        // order. A mismatch is an error naming the type, and it is a bug: fail loudly.
        let (current_term, voted_for): (u64, Option<usize>) = labrpc::codec::decode(data)
            .unwrap_or_else(|e| panic!("raft: cannot read the saved state: {e}"));
        let mut state = self.state.lock();
        state.current_term = current_term;
        state.voted_for = voted_for;
    }
}
