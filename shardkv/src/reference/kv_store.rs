//! A group's replicated state: the configuration it has applied, and each shard's data,
//! duplicate table and place in a migration.
//!
//! Everything that changes it goes through the group's log, so every server of the group
//! goes through the same states: clients' operations, and the group's own steps of a
//! configuration change (`Reconfigure`, `Install`, `Delete`, `Confirmed`).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::kv_rpc::{ShardData, Status, WriteKind};
use super::request::RequestId;
use crate::{Config, Gid, NSHARDS, key2shard};

/// Where a shard stands for this group, in the configuration it has applied.
///
/// A configuration change takes a shard from its previous owner to its new one in four
/// steps, each an entry in one group's log:
///
/// 1. both groups apply the configuration: the previous owner's copy becomes `Offering`
///    (frozen: no more writes), the new owner's `Pulling`;
/// 2. the new owner pulls the frozen copy and installs it (`Install`): `Confirming`, and
///    serving;
/// 3. it tells the previous owner, which deletes its copy (`Delete`): `Absent`;
/// 4. the new owner learns the copy is gone (`Confirmed`): `Serving`.
///
/// A group applies the next configuration only when every shard is `Serving` or `Absent`,
/// so the copies of one configuration are all settled before the next moves them again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ShardState {
    /// Not this group's, and no copy here.
    Absent,
    /// This group's, and served.
    Serving,
    /// This group's, but its data is still with the previous owner.
    Pulling,
    /// No longer this group's: the copy waits, frozen, for the new owner to pull it.
    Offering,
    /// This group's and served, but the previous owner has not yet confirmed that it
    /// deleted its copy.
    Confirming,
}

impl ShardState {
    /// Whether clients' operations on the shard are served.
    pub(crate) fn serves(self) -> bool {
        matches!(self, ShardState::Serving | ShardState::Confirming)
    }
}

/// An operation in a group's log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum ShardOp {
    /// A client's Get.
    Get { key: String },
    /// A client's Put or Append, request `id` (which it may have sent more than once).
    Write {
        key: String,
        value: String,
        kind: WriteKind,
        id: RequestId,
    },
    /// Move to the next configuration.
    Reconfigure(Config),
    /// Shards pulled from their previous owner, for configuration `num`.
    Install {
        num: u64,
        shards: Vec<(usize, ShardData)>,
    },
    /// The new owner has the shards of configuration `num`: delete the copies offered.
    Delete { num: u64, shards: Vec<usize> },
    /// The previous owner deleted the shards of configuration `num`.
    Confirmed { num: u64, shards: Vec<usize> },
    /// Nothing: a new leader's first entry, which commits (and so applies) the entries of
    /// earlier terms (see `kv_server`'s background task).
    Noop,
}

/// What applying an operation gives back.
#[derive(Clone, Debug)]
pub(crate) struct OpResult {
    pub(crate) status: Status,
    pub(crate) value: String,
}

impl OpResult {
    fn status(status: Status) -> OpResult {
        OpResult {
            status,
            value: String::new(),
        }
    }
}

/// The group's state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Shards {
    gid: Gid,
    /// The configuration applied.
    pub(crate) config: Config,
    /// The configuration before it: who owned each shard, to pull it from.
    pub(crate) prev: Config,
    pub(crate) states: [ShardState; NSHARDS],
    data: Vec<ShardData>,
}

impl Shards {
    fn new(gid: Gid) -> Shards {
        Shards {
            gid,
            config: Config::default(),
            prev: Config::default(),
            states: [ShardState::Absent; NSHARDS],
            data: vec![ShardData::default(); NSHARDS],
        }
    }

    /// Whether every shard is settled (`Serving` or `Absent`): the next configuration may
    /// be applied.
    pub(crate) fn settled(&self) -> bool {
        self.states
            .iter()
            .all(|s| matches!(s, ShardState::Serving | ShardState::Absent))
    }

    /// The shards in `state`, by the group that owned them in the previous configuration.
    pub(crate) fn by_previous_owner(&self, state: ShardState) -> BTreeMap<Gid, Vec<usize>> {
        let mut groups: BTreeMap<Gid, Vec<usize>> = BTreeMap::new();
        for s in (0..NSHARDS).filter(|&s| self.states[s] == state) {
            groups.entry(self.prev.shards[s]).or_default().push(s);
        }
        groups
    }

    /// Whether a client's operation on `key` is served now.
    pub(crate) fn serves(&self, key: &str) -> bool {
        self.states[key2shard(key)].serves()
    }

    /// The copies of `shards` offered in configuration `num`, if this group is there and
    /// still holds them all.
    pub(crate) fn offered(&self, num: u64, shards: &[usize]) -> Option<Vec<(usize, ShardData)>> {
        if self.config.num != num
            || !shards
                .iter()
                .all(|&s| s < NSHARDS && self.states[s] == ShardState::Offering)
        {
            return None;
        }
        Some(shards.iter().map(|&s| (s, self.data[s].clone())).collect())
    }

    fn apply(&mut self, op: ShardOp) -> OpResult {
        match op {
            ShardOp::Get { key } => {
                if !self.serves(&key) {
                    return OpResult::status(Status::ErrWrongGroup);
                }
                match self.data[key2shard(&key)].data.get(&key) {
                    Some(value) => OpResult {
                        status: Status::Ok,
                        value: value.clone(),
                    },
                    None => OpResult::status(Status::ErrNoKey),
                }
            }
            ShardOp::Write {
                key,
                value,
                kind,
                id,
            } => {
                if !self.serves(&key) {
                    return OpResult::status(Status::ErrWrongGroup);
                }
                let shard = &mut self.data[key2shard(&key)];
                let last = shard.last_write.entry(id.client).or_insert(0);
                if id.seq > *last {
                    *last = id.seq;
                    match kind {
                        WriteKind::Put => {
                            shard.data.insert(key, value);
                        }
                        WriteKind::Append => shard.data.entry(key).or_default().push_str(&value),
                    }
                }
                OpResult::status(Status::Ok)
            }
            ShardOp::Reconfigure(next) => {
                if next.num == self.config.num + 1 && self.settled() {
                    self.reconfigure(next);
                }
                OpResult::status(Status::Ok)
            }
            ShardOp::Install { num, shards } => {
                if num == self.config.num {
                    for (s, data) in shards {
                        if self.states[s] == ShardState::Pulling {
                            self.data[s] = data;
                            self.states[s] = ShardState::Confirming;
                        }
                    }
                    self.note("installed");
                }
                OpResult::status(Status::Ok)
            }
            ShardOp::Delete { num, shards } => {
                if num > self.config.num {
                    return OpResult::status(Status::ErrNotReady);
                }
                // At an older configuration the copies are gone already: this group
                // moved on, which it does only once nothing is offered.
                if num == self.config.num {
                    for s in shards {
                        if self.states[s] == ShardState::Offering {
                            self.data[s] = ShardData::default();
                            self.states[s] = ShardState::Absent;
                        }
                    }
                    self.note("deleted");
                }
                OpResult::status(Status::Ok)
            }
            ShardOp::Noop => OpResult::status(Status::Ok),
            ShardOp::Confirmed { num, shards } => {
                if num == self.config.num {
                    for s in shards {
                        if self.states[s] == ShardState::Confirming {
                            self.states[s] = ShardState::Serving;
                        }
                    }
                    self.note("confirmed");
                }
                OpResult::status(Status::Ok)
            }
        }
    }

    /// Applies configuration `next`: shards this group gains wait for their data (or are
    /// served at once if nobody had them); shards it loses are frozen and offered.
    fn reconfigure(&mut self, next: Config) {
        for s in 0..NSHARDS {
            let had = self.config.shards[s] == self.gid;
            let has = next.shards[s] == self.gid;
            self.states[s] = match (had, has) {
                (true, true) => ShardState::Serving,
                (false, true) if self.config.shards[s] == 0 => ShardState::Serving,
                (false, true) => ShardState::Pulling,
                // Nobody to give it to (every group left): the data goes with the groups.
                (true, false) if next.shards[s] == 0 => {
                    self.data[s] = ShardData::default();
                    ShardState::Absent
                }
                (true, false) => ShardState::Offering,
                (false, false) => ShardState::Absent,
            };
        }
        self.prev = std::mem::replace(&mut self.config, next);
        self.note("applied");
    }

    /// Notes the shards' states for the run's timeline: `applied config 4: serving [0 1],
    /// pulling [2] ...`.
    fn note(&self, what: &str) {
        let mut text = format!("{what}: config {}", self.config.num);
        for (state, name) in [
            (ShardState::Serving, "serving"),
            (ShardState::Confirming, "confirming"),
            (ShardState::Pulling, "pulling"),
            (ShardState::Offering, "offering"),
        ] {
            let shards: Vec<String> = (0..NSHARDS)
                .filter(|&s| self.states[s] == state)
                .map(|s| s.to_string())
                .collect();
            if !shards.is_empty() {
                text.push_str(&format!(", {name} [{}]", shards.join(" ")));
            }
        }
        labrpc::annotate("shards", text);
    }
}

/// The state machine the rsm replicates: the group's [`Shards`], shared with the server,
/// whose handlers and background task read it (never write it: only the log does).
#[derive(Clone)]
pub(crate) struct Machine {
    shards: Arc<Mutex<Shards>>,
}

impl Machine {
    /// Group `gid`'s state before any configuration.
    pub(crate) fn new(gid: Gid) -> Machine {
        Machine {
            shards: Arc::new(Mutex::new(Shards::new(gid))),
        }
    }

    /// Reads the state as this server has applied it so far.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Shards) -> R) -> R {
        read(&self.shards.lock())
    }
}

impl Serialize for Machine {
    /// The group's state, for the tester's digests (see [`crate::Observed`]).
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        self.shards.lock().serialize(serializer)
    }
}

impl crate::GroupState for Machine {
    fn applied_config(&self) -> (u64, [Gid; NSHARDS]) {
        let shards = self.shards.lock();
        (shards.config.num, shards.config.shards)
    }

    fn serves(&self, shard: usize) -> bool {
        self.shards.lock().states[shard].serves()
    }
}

impl kvraft::StateMachine for Machine {
    type Op = ShardOp;
    type Output = OpResult;

    fn apply(&mut self, op: ShardOp) -> OpResult {
        self.shards.lock().apply(op)
    }

    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(&*self.shards.lock()).expect("shardkv: the shards encode")
    }

    fn restore(&mut self, snapshot: &[u8]) {
        let restored: Shards = labrpc::codec::decode(snapshot)
            .unwrap_or_else(|e| panic!("shardkv: a snapshot is not a group's shards: {e}"));
        *self.shards.lock() = restored;
    }
}
