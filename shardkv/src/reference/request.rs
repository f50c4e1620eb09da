//! Request ids, and the clerks' loop that tries servers until one answers.

use std::time::Duration;

use labrpc::{ClientEnd, Rpc};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// How long a clerk pauses after every server turned it away, before it tries them all
/// again: during an election there is no leader to find, and asking in a tight loop would
/// only load the network.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Which clerk sent a request, and which of its requests it is: servers apply each clerk's
/// writes at most once by remembering the last sequence number they applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestId {
    /// The clerk, chosen at random when it is made.
    pub(crate) client: u64,
    /// The clerk's count of requests so far, this one included. A clerk sends a request
    /// (and its retries) only after the previous one returned, so these only grow.
    pub(crate) seq: u64,
}

/// A clerk's identity and its request counter.
#[derive(Debug)]
pub(crate) struct Requests {
    client: u64,
    seq: u64,
}

impl Requests {
    /// A new clerk's, with a random identity.
    pub(crate) fn new() -> Requests {
        Requests {
            client: labrpc::rng().random(),
            seq: 0,
        }
    }

    /// The id of the next request.
    pub(crate) fn next(&mut self) -> RequestId {
        self.seq += 1;
        RequestId {
            client: self.client,
            seq: self.seq,
        }
    }
}

/// Sends `args` to `servers[*leader]`, then to each server in turn, until one gives a reply
/// that `done` accepts; remembers who answered in `leader`. Gives up after `rounds` full
/// rounds (pausing [`RETRY_PAUSE`] after each), or never if `None`.
pub(crate) async fn call_until<R: Rpc>(
    servers: &[ClientEnd],
    leader: &mut usize,
    args: &R,
    done: impl Fn(&R::Reply) -> bool,
    rounds: Option<usize>,
) -> Option<R::Reply> {
    let mut round = 0;
    loop {
        for _ in 0..servers.len() {
            if let Ok(reply) = servers[*leader].call(args).await
                && done(&reply)
            {
                return Some(reply);
            }
            *leader = (*leader + 1) % servers.len();
        }
        round += 1;
        if rounds.is_some_and(|rounds| round >= rounds) {
            return None;
        }
        labrpc::sleep(RETRY_PAUSE).await;
    }
}
