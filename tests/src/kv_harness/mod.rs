//! The Lab 3 tester: a cluster of servers, clerks whose every call is recorded with its
//! exact virtual call and return times, and the checks the rsm, 3A and 3B tests are made
//! of. A port of the course's `kvraft/config.go` and `test_test.go` helpers (and
//! `kvraft1/rsm`'s for the rsm layer), with the same numbers.
//!
//! One job per file:
//!
//! - `cluster.rs`: the group of servers, generic over what it runs; partitions, restarts,
//!   clients' ends, sizes of what servers saved;
//! - `kv.rs`: the key/value cluster, its clerks, the summary line;
//! - `history.rs`: the recorded history and its linearizability check;
//! - `generic.rs`: `GenericTest` and `GenericTestSpeed`, and the append checks;
//! - `counter.rs`: the rsm tests' counter server and their helpers.
//!
//! Every failure panics with the course's message, or a more helpful one; the runner adds
//! the seed and the command that replays it.

/// Fails the test: logs the message under the target `tester`, then panics with it,
/// after what the harness's failure notes say (e.g. that no server was ever leader).
macro_rules! fail {
    ($($message:tt)*) => {{
        let message = format!("{}{}", labrpc::tester::failure_notes(), format!($($message)*));
        $crate::events::failed(message.as_str());
        panic!("{message}")
    }};
}
pub(crate) use fail;

pub mod cluster;
pub mod counter;
pub mod generic;
pub mod history;
pub mod kv;

use std::time::Duration;

/// The course's `electionTimeout` for the KV tests: a new leader within a second.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The time every request and reply spends on the wire in the Lab 3 tests.
///
/// The course's reliable network delivers at once; in Go an operation still takes the real
/// time its code runs, so a client that loops for 5 s makes a few thousand calls. In
/// virtual time nothing takes time by itself, and clients looping on a service that
/// answers at once would never let the clock move. With this latency an operation on the
/// reference takes about 8 ms (the clerk's request, the leader's AppendEntries and its
/// reply, the answer), as in the course's runs (a client makes some 1 800 calls in
/// `basic_3a`), and a whole KV suite stays well under 2 s of CPU time.
pub const NETWORK_LATENCY: Duration = Duration::from_millis(2);

/// The `maxraftstate` of the 3B tests: the course's 1000 bytes of gob, rescaled to this
/// encoding so that a server snapshots after as many operations as in the course.
///
/// A typical course KV log entry (an `Op` with its type, key, value, client id and sequence
/// number, in a `LogEntry` with its term) takes 42–52 bytes of gob; the reference's takes
/// 20–26 bytes here (`docs/fault-model.md`, difference 25, has the measurements). 1000
/// bytes of gob hold about 20 entries; 500 bytes here hold about as many. With 1000, a
/// server here would snapshot half as often as the course's, and a test such as
/// `snapshot_rpc_3b` could end without the snapshot it is about.
pub const MAXRAFTSTATE: usize = 500;
