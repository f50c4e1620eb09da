//! Ends made on demand, by server name: the course's `make_end`, for lab code that learns
//! whom to call only as it runs (Lab 4: a shard group's servers are named in the shard
//! controller's configurations).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use super::network::{ClientEnd, Network};
use crate::runtime::context::with_world;

/// Makes ends to servers by name. (Lab code and tester: the tester makes a dialer for each
/// server or clerk and hands it over; lab code calls [`Dialer::end`].)
///
/// A dialer keeps one end per server name: asking twice for the same name gives the same
/// end, so a server that calls a group's servers again and again does not pile up ends.
/// Its ends are connected and enabled when made; they reach whatever server holds the
/// name at the moment of each call, so a restarted server is reached through the same
/// end. Cheap to clone; clones share their ends.
#[derive(Clone)]
pub struct Dialer {
    net: Network,
    /// Who dials: the first part of its ends' names (`"server-100-0"` makes
    /// `"server-100-0->server-101-2"`).
    owner: Arc<str>,
    ends: Arc<Mutex<BTreeMap<String, ClientEnd>>>,
}

impl Network {
    /// A dialer whose ends are named after `owner` (which must be unique on this network:
    /// a restarted server gets a new owner name, as it gets new ends). (Tester side.)
    pub fn dialer(&self, owner: impl Into<String>) -> Dialer {
        self.tester_only("Network::dialer");
        Dialer {
            net: self.clone(),
            owner: owner.into().into(),
            ends: Arc::default(),
        }
    }
}

impl Dialer {
    /// The end to the server named `server`: made, connected and enabled the first time.
    pub fn end(&self, server: &str) -> ClientEnd {
        with_world(|w| w.check_handle(self.net.world(), "a Dialer"));
        let mut ends = self.ends.lock();
        if let Some(end) = ends.get(server) {
            return end.clone();
        }
        let name = format!("{}->{server}", self.owner);
        let end = self.net.new_end(name.clone());
        self.net.connect_end(&name, server.to_owned());
        self.net.enable_end(&name, true);
        ends.insert(server.to_owned(), end.clone());
        end
    }

    /// The ends made so far, by server name (tester side: to cut them off).
    pub fn ends(&self) -> Vec<(String, ClientEnd)> {
        self.ends
            .lock()
            .iter()
            .map(|(server, end)| (server.clone(), end.clone()))
            .collect()
    }
}

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dialer")
            .field("owner", &self.owner)
            .field("ends", &self.ends.lock().len())
            .finish()
    }
}
