//! What the timeline page draws: a [`Recording`]'s events turned into lanes of spans and
//! marks, a tester row, client rows and message arrows.
//!
//! The model keeps times in virtual nanoseconds, as recorded. Its JSON form (what
//! [`crate::html`] embeds in the page) is compact, because a long run records a hundred
//! thousand events and the page should stay a few megabytes:
//!
//! ```text
//! { "test": "...", "seed": "123" (a string: seeds exceed JavaScript's exact integers),
//!   "replay": "command that replays the run" or "",
//!   "end": µs, "failure": "..." or null,
//!   "topics": ["role", "vote", ...],             // mark topics, indexed by marks' "k"
//!   "methods": ["Raft.AppendEntries", ...],      // message methods
//!   "lanes": [{ "name": "S0",
//!               "down": [[from, to, unstarted 0/1], ...],
//!               "terms": [[from, to, term, leader 0/1], ...],
//!               "roles": [[from, to, role 0 follower / 1 candidate / 2 leader
//!                          / 3 pre-candidate], ...],
//!               "cut": [[from, to, group, alone 0/1], ...],
//!               "shards": [[from, to, config, [serving shard, ...],
//!                           [waiting shard, ...]], ...],   // only if it has any
//!               "marks": MARKS }],
//!   "tester": { "phases": [[at, text], ...], "checks": [[at, text, passed 0/1], ...],
//!               "net": [[from, to, "unreliable"], ...], "marks": MARKS },
//!   "clients": [{ "name": "C0", "ops": [[call, return, text], ...] }],
//!   "messages": [Δat, at - sent, from lane, to lane, method, reply 0/1, Δat, ...],
//!   "links": [[text, path], ...] }
//! ```
//!
//! `shards` is there only for the lanes of Lab 4's group servers (those with `Shards`
//! events), so the pages of Labs 2 and 3 carry the same data as before it existed.
//!
//! All times are integer microseconds. `MARKS` is column-wise, sorted by time:
//! `{ "t": [Δat, ...], "k": [topic, ...], "x": [text, ...] }`, where each time is the
//! difference from the previous mark's (the first from 0), and a text that repeats an
//! earlier one of the same column may be that earlier entry's index instead. Messages
//! are sorted by arrival, their arrival times likewise differences.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::event::{Kind, Nanos, Recording};

/// The name of the tester's node: never a server lane.
pub const TESTER: &str = "tester";

/// Texts longer than this many characters are cut (log lines can be long), so that the
/// page of a long run stays small.
const MAX_TEXT: usize = 240;

/// The topic of a failed check drawn on a server's lane.
pub const FAILED_CHECK: &str = "failed check";
/// The topic of a log line drawn as a mark.
pub const LOG: &str = "log";
/// The annotation topic whose texts give a server's role.
pub const ROLE: &str = "role";

/// Everything the page draws.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Model {
    /// The test's name.
    pub test: String,
    /// The run's seed.
    #[serde(serialize_with = "as_string")]
    pub seed: u64,
    /// The command that replays the run (empty if unknown).
    pub replay: String,
    /// When the run ended: the recording's end, or its last event if that is later.
    #[serde(serialize_with = "micros")]
    pub end: Nanos,
    /// Why the run failed, if it did.
    pub failure: Option<String>,
    /// How many events the run did not record (it had recorded too many).
    pub dropped: u64,
    /// Mark topics, indexed by [`Mark::topic`].
    pub topics: Vec<String>,
    /// Message methods, indexed by [`Message::method`].
    pub methods: Vec<String>,
    /// One lane per server name, in natural order (S2 before S10).
    pub lanes: Vec<Lane>,
    /// The tester's row.
    pub tester: Tester,
    /// One row per client name, in natural order.
    pub clients: Vec<Client>,
    /// Messages between servers, by arrival time.
    #[serde(serialize_with = "message_columns")]
    pub messages: Vec<Message>,
    /// Files that say more (text, path).
    #[serde(serialize_with = "pairs")]
    pub links: Vec<(String, String)>,
}

/// One server's lane: every node of that name, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lane {
    /// The server's name.
    pub name: String,
    /// When it was down: crashed until restarted, and before its first start.
    pub down: Vec<Down>,
    /// Its terms, as the tester sampled them.
    pub terms: Vec<TermSpan>,
    /// Its roles: from its `role` annotations, or else from its sampled states.
    pub roles: Vec<RoleSpan>,
    /// Partition shading: which group of mutually connected servers it was in, while
    /// the servers were split into more than one.
    pub cut: Vec<CutSpan>,
    /// Its shards (Lab 4 group servers only): the configuration it had applied, the
    /// shards it served and those it waited for, from its `Shards` events. Left out of
    /// the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardSpan>,
    /// Its annotations, log lines and failed checks, by time.
    #[serde(serialize_with = "mark_columns")]
    pub marks: Vec<Mark>,
}

/// A span of time a server was down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Down {
    /// When it crashed (or 0, if it had not started yet).
    pub from: Nanos,
    /// When it (re)started, or the run's end.
    pub to: Nanos,
    /// Whether this is the time before its first start rather than after a crash.
    pub unstarted: bool,
}

/// A span of one term of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermSpan {
    /// Start of the span.
    pub from: Nanos,
    /// End of the span: the server's next state, its crash or the run's end.
    pub to: Nanos,
    /// The term.
    pub term: u64,
    /// Whether the server believed it led.
    pub leader: bool,
}

/// A Raft role.
///
/// The discriminants are the numbers the page's JSON carries (and its `ROLES` array
/// indexes), so a new role takes the next free number rather than its place in Raft's
/// order: pages and recordings made before it keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follower.
    Follower = 0,
    /// Candidate.
    Candidate = 1,
    /// Leader.
    Leader = 2,
    /// Pre-candidate (Pre-Vote, Raft dissertation §9.6): asking whether it could win an
    /// election before starting one, without raising its term.
    PreCandidate = 3,
}

/// A span of one role of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleSpan {
    /// Start of the span.
    pub from: Nanos,
    /// End of the span: the server's next role, its crash or the run's end.
    pub to: Nanos,
    /// The role.
    pub role: Role,
}

/// A span of time a server was in one group of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutSpan {
    /// When the partition began.
    pub from: Nanos,
    /// When the groups changed (or healed), or the run's end.
    pub to: Nanos,
    /// The group: 0 holds the lowest-sorted server, 1 the lowest-sorted server not in
    /// group 0, and so on.
    pub group: u32,
    /// Whether the group is this server alone.
    pub alone: bool,
}

/// A span of time a Lab 4 group server stayed in one state of its shards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSpan {
    /// Start of the span: when its state machine reported this state.
    pub from: Nanos,
    /// End of the span: the server's next report of a different state, its crash or the
    /// run's end.
    pub to: Nanos,
    /// The configuration it had applied (0 before any).
    pub config: u64,
    /// The shards it served, ascending.
    pub serving: Vec<u8>,
    /// The shards that configuration gave its group that it did not serve yet (their data
    /// had still to arrive), ascending.
    pub waiting: Vec<u8>,
}

/// A point event drawn as a small mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at: Nanos,
    /// Index into [`Model::topics`].
    pub topic: u32,
    /// What.
    pub text: String,
}

/// The tester's row.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tester {
    /// Phases (time, text): a test or a step of it begins.
    #[serde(serialize_with = "timed_texts")]
    pub phases: Vec<(Nanos, String)>,
    /// Checks of the tester (and of any node that is not a server).
    pub checks: Vec<Check>,
    /// Network settings that were on: `"unreliable"`, `"long delays"`, `"long reordering"`.
    pub net: Vec<NetSpan>,
    /// Annotations and log lines of nodes that are not servers.
    #[serde(serialize_with = "mark_columns")]
    pub marks: Vec<Mark>,
}

/// A check by the tester.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// When.
    pub at: Nanos,
    /// What was checked, and the result.
    pub text: String,
    /// Whether it passed.
    pub passed: bool,
}

/// A span of time a network setting was on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetSpan {
    /// When it was turned on.
    pub from: Nanos,
    /// When it was turned off, or the run's end.
    pub to: Nanos,
    /// What was on: `"unreliable"` (for reliable = false) or the setting's name.
    pub setting: String,
}

/// One client's row.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Client {
    /// The client's name.
    pub name: String,
    /// Its operations, by call time.
    pub ops: Vec<Op>,
}

/// A client's operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// When it was called.
    pub call: Nanos,
    /// When it returned.
    pub ret: Nanos,
    /// The call and its result.
    pub text: String,
}

/// A message between two servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// When it was sent.
    pub sent: Nanos,
    /// When it arrived.
    pub at: Nanos,
    /// The sender's lane (index into [`Model::lanes`]).
    pub from: u32,
    /// The receiver's lane.
    pub to: u32,
    /// Index into [`Model::methods`].
    pub method: u32,
    /// A reply rather than a request.
    pub reply: bool,
}

impl Model {
    /// The lane of server `name`, if there is one.
    pub fn lane(&self, name: &str) -> Option<&Lane> {
        self.lanes.iter().find(|lane| lane.name == name)
    }

    /// The topic of `mark`.
    pub fn topic(&self, mark: &Mark) -> &str {
        self.topics
            .get(mark.topic as usize)
            .map_or("?", String::as_str)
    }
}

/// Compares names naturally: runs of digits by their number, so `S2 < S10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        if x[i].is_ascii_digit() && y[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < x.len() && x[i].is_ascii_digit() {
                i += 1;
            }
            while j < y.len() && y[j].is_ascii_digit() {
                j += 1;
            }
            let trim = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
            let (nx, ny) = (&x[si..i], &y[sj..j]);
            let (nx, ny) = (&nx[trim(nx)..], &ny[trim(ny)..]);
            // Without leading zeros, a longer number is a greater one.
            let by_number = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
            if by_number != Ordering::Equal {
                return by_number;
            }
        } else {
            if x[i] != y[j] {
                return x[i].cmp(&y[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (x.len() - i).cmp(&(y.len() - j)).then_with(|| a.cmp(b))
}

/// `text`, cut to [`MAX_TEXT`] characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The role a `role` annotation's text begins with.
///
/// Only a text that begins with a role's name changes the role: other `role` texts (such
/// as a leader's "steps down: ..." under CheckQuorum, which a "follower ..." one follows)
/// are marks only.
fn role_of(text: &str) -> Option<Role> {
    let text = text.trim_start().to_ascii_lowercase();
    [
        // First: "pre-candidate" contains "candidate", so it must win before any
        // looser match could read a pre-candidate as a candidate.
        ("pre-candidate", Role::PreCandidate),
        ("follower", Role::Follower),
        ("candidate", Role::Candidate),
        ("leader", Role::Leader),
    ]
    .into_iter()
    .find_map(|(word, role)| text.starts_with(word).then_some(role))
}

/// What is known of one lane while the events are read.
#[derive(Default)]
struct LaneState {
    lane: Lane,
    /// The node of this name that started last: a crash of an older one (after its
    /// replacement started) does not take the server down.
    current: Option<u32>,
    /// Down since this time.
    down_since: Option<Nanos>,
    /// The open term span: (from, term, leader).
    term: Option<(Nanos, u64, bool)>,
    /// The open role span from annotations: (from, role).
    role: Option<(Nanos, Role)>,
    /// Whether any role annotation was seen (else roles come from states).
    annotated_roles: bool,
    /// The open shard span: (from, config, serving, waiting).
    shards: Option<(Nanos, u64, Vec<u8>, Vec<u8>)>,
}

impl LaneState {
    fn close_term(&mut self, at: Nanos) {
        if let Some((from, term, leader)) = self.term.take()
            && at > from
        {
            self.lane.terms.push(TermSpan {
                from,
                to: at,
                term,
                leader,
            });
        }
    }

    fn close_role(&mut self, at: Nanos) {
        if let Some((from, role)) = self.role.take()
            && at > from
        {
            self.lane.roles.push(RoleSpan { from, to: at, role });
        }
    }

    fn close_shards(&mut self, at: Nanos) {
        if let Some((from, config, serving, waiting)) = self.shards.take()
            && at > from
        {
            self.lane.shards.push(ShardSpan {
                from,
                to: at,
                config,
                serving,
                waiting,
            });
        }
    }
}

/// Interns strings as small indexes.
#[derive(Default)]
struct Table {
    names: Vec<String>,
    index: BTreeMap<String, u32>,
}

impl Table {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }
}

/// Turns `rec`'s events into what the page draws (see the [module docs](self)).
pub fn build(rec: &Recording) -> Model {
    let end = rec
        .events
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or(0)
        .max(rec.end);

    // Servers: names of started nodes, except the tester's.
    let mut names: Vec<&str> = rec
        .events
        .iter()
        .filter(|e| matches!(e.kind, Kind::Start))
        .map(|e| rec.node_name(e.node))
        .filter(|&name| name != TESTER)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    names.sort_by(|a, b| natural_cmp(a, b));
    let lane_of: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let node_lane: Vec<Option<usize>> = rec
        .nodes
        .iter()
        .map(|name| lane_of.get(name.as_str()).copied())
        .collect();
    let node_lane = |node: u32| node_lane.get(node as usize).copied().flatten();

    let mut lanes: Vec<LaneState> = names
        .iter()
        .map(|&name| LaneState {
            lane: Lane {
                name: name.to_owned(),
                ..Lane::default()
            },
            // A lane is down until its first start.
            down_since: Some(0),
            ..LaneState::default()
        })
        .collect();
    let mut topics = Table::default();
    let mut methods = Table::default();
    let mut tester = Tester::default();
    let mut net_open: BTreeMap<String, Nanos> = BTreeMap::new();
    let mut clients: BTreeMap<&str, Vec<Op>> = BTreeMap::new();
    let mut messages = Vec::new();
    let mut links = Vec::new();

    for event in &rec.events {
        let at = event.at;
        let lane = node_lane(event.node);
        match &event.kind {
            Kind::Start => {
                if let Some(l) = lane {
                    let state = &mut lanes[l];
                    if let Some(from) = state.down_since.take() {
                        let unstarted = state.current.is_none();
                        // The time before a start at 0 is no time at all.
                        if !(unstarted && at == 0) {
                            state.lane.down.push(Down {
                                from,
                                to: at,
                                unstarted,
                            });
                        }
                    }
                    state.current = Some(event.node);
                }
            }
            Kind::Crash => {
                if let Some(l) = lane {
                    let state = &mut lanes[l];
                    if state.current == Some(event.node) && state.down_since.is_none() {
                        state.down_since = Some(at);
                        state.close_term(at);
                        state.close_role(at);
                        state.close_shards(at);
                    }
                }
            }
            Kind::Annotation { topic, text } => {
                let mark = Mark {
                    at,
                    topic: topics.id(topic),
                    text: shorten(text),
                };
                match lane {
                    Some(l) => {
                        let state = &mut lanes[l];
                        if topic == ROLE
                            && let Some(role) = role_of(text)
                        {
                            state.annotated_roles = true;
                            state.close_role(at);
                            state.role = Some((at, role));
                        }
                        state.lane.marks.push(mark);
                    }
                    None => tester.marks.push(mark),
                }
            }
            Kind::Log {
                level,
                target,
                text,
            } => {
                let mark = Mark {
                    at,
                    topic: topics.id(LOG),
                    text: shorten(&format!("{level} {target}: {text}")),
                };
                match lane {
                    Some(l) => lanes[l].lane.marks.push(mark),
                    None => tester.marks.push(mark),
                }
            }
            Kind::Check { text, passed } => match lane {
                Some(l) => {
                    // A passed check on a server says nothing worth a mark.
                    if !passed {
                        let topic = topics.id(FAILED_CHECK);
                        lanes[l].lane.marks.push(Mark {
                            at,
                            topic,
                            text: shorten(text),
                        });
                    }
                }
                None => tester.checks.push(Check {
                    at,
                    text: shorten(text),
                    passed: *passed,
                }),
            },
            Kind::Phase { text } => tester.phases.push((at, shorten(text))),
            Kind::Net { setting, on } => {
                // What is drawn is the unusual state: unreliable, long delays, ...
                let (name, unusual) = if setting == "reliable" {
                    ("unreliable".to_owned(), !on)
                } else {
                    (setting.clone(), *on)
                };
                if unusual {
                    net_open.entry(name).or_insert(at);
                } else if let Some(from) = net_open.remove(&name) {
                    tester.net.push(NetSpan {
                        from,
                        to: at,
                        setting: name,
                    });
                }
            }
            Kind::State {
                server,
                term,
                leader,
            } => {
                if let Some(&l) = lane_of.get(server.as_str()) {
                    let state = &mut lanes[l];
                    state.close_term(at);
                    state.term = Some((at, *term, *leader));
                }
            }
            Kind::Shards {
                server,
                config,
                serving,
                waiting,
            } => {
                if let Some(&l) = lane_of.get(server.as_str()) {
                    let state = &mut lanes[l];
                    // The same state reported again (a restore that changed nothing)
                    // continues its span.
                    let same = state
                        .shards
                        .as_ref()
                        .is_some_and(|(_, c, s, w)| (c, s, w) == (config, serving, waiting));
                    if !same {
                        state.close_shards(at);
                        state.shards = Some((at, *config, serving.clone(), waiting.clone()));
                    }
                }
            }
            Kind::Message {
                from,
                to,
                method,
                sent,
                reply,
            } => {
                // Only messages between lanes can be drawn.
                if let (Some(&f), Some(&t)) = (lane_of.get(from.as_str()), lane_of.get(to.as_str()))
                {
                    messages.push(Message {
                        sent: *sent,
                        at,
                        from: f as u32,
                        to: t as u32,
                        method: methods.id(method),
                        reply: *reply,
                    });
                }
            }
            Kind::Op { client, call, text } => clients.entry(client).or_default().push(Op {
                call: *call,
                ret: at,
                text: shorten(text),
            }),
            Kind::Link { text, path } => links.push((text.clone(), path.clone())),
            Kind::Links { .. } => {} // Read by `cuts`, which needs them grouped by time.
        }
    }

    let mut cuts = cuts(rec, &names, end).into_iter();
    let lanes = lanes
        .into_iter()
        .map(|mut state| {
            if let Some(from) = state.down_since.take() {
                let unstarted = state.current.is_none();
                state.lane.down.push(Down {
                    from,
                    to: end,
                    unstarted,
                });
            }
            state.close_term(end);
            state.close_role(end);
            state.close_shards(end);
            let mut lane = state.lane;
            if !state.annotated_roles {
                lane.roles = roles_from_terms(&lane.terms);
            }
            lane.cut = cuts.next().unwrap_or_default();
            lane.marks.sort_by_key(|m| m.at);
            lane
        })
        .collect();

    tester
        .net
        .extend(net_open.into_iter().map(|(setting, from)| NetSpan {
            from,
            to: end,
            setting,
        }));
    tester.net.sort_by_key(|span| span.from);
    tester.marks.sort_by_key(|m| m.at);
    tester.phases.sort_by_key(|p| p.0);
    tester.checks.sort_by_key(|c| c.at);

    let mut clients: Vec<Client> = clients
        .into_iter()
        .map(|(name, mut ops)| {
            ops.sort_by_key(|op| op.call);
            Client {
                name: name.to_owned(),
                ops,
            }
        })
        .collect();
    clients.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    messages.sort_by_key(|m| m.at);

    Model {
        test: rec.test.clone(),
        seed: rec.seed,
        replay: rec.replay.clone(),
        end,
        failure: rec.failure.clone(),
        dropped: rec.dropped,
        topics: topics.names,
        methods: methods.names,
        lanes,
        tester,
        clients,
        messages,
        links,
    }
}

/// Roles for a lane without role annotations: leader while its state says so, else
/// follower, merging adjacent spans of one role.
fn roles_from_terms(terms: &[TermSpan]) -> Vec<RoleSpan> {
    let mut roles: Vec<RoleSpan> = Vec::new();
    for span in terms {
        let role = if span.leader {
            Role::Leader
        } else {
            Role::Follower
        };
        match roles.last_mut() {
            Some(last) if last.role == role && last.to == span.from => last.to = span.to,
            _ => roles.push(RoleSpan {
                from: span.from,
                to: span.to,
                role,
            }),
        }
    }
    roles
}

/// The partition shading of every lane (parallel to `names`), from the `Links` events.
///
/// The tester records every server's links at each change, all at one virtual time, so
/// the groups are computed once per distinct time, after its last `Links` event. A
/// server without a `Links` event reaches everyone (the network starts connected).
fn cuts(rec: &Recording, names: &[&str], end: Nanos) -> Vec<Vec<CutSpan>> {
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let n = names.len();
    let mut reaches: Vec<Option<BTreeSet<usize>>> = vec![None; n];
    let mut spans: Vec<Vec<CutSpan>> = vec![Vec::new(); n];
    // The current groups (one entry per lane) and since when, while split.
    let mut open: Option<(Nanos, Vec<u32>)> = None;

    let changes = rec.events.iter().filter_map(|e| match &e.kind {
        Kind::Links { server, reaches } => Some((e.at, server, reaches)),
        _ => None,
    });
    let changes: Vec<_> = changes.collect();
    let mut k = 0;
    while k < changes.len() {
        let at = changes[k].0;
        while k < changes.len() && changes[k].0 == at {
            let (_, server, targets) = changes[k];
            if let Some(&s) = index.get(server.as_str()) {
                reaches[s] = Some(
                    targets
                        .iter()
                        .filter_map(|t| index.get(t.as_str()).copied())
                        .collect(),
                );
            }
            k += 1;
        }
        let groups = groups(&reaches);
        let split = groups.iter().any(|&g| g > 0);
        if open.as_ref().is_some_and(|(_, current)| *current == groups) {
            continue;
        }
        if let Some((from, current)) = open.take() {
            close_cut(&mut spans, from, at, &current);
        }
        if split {
            open = Some((at, groups));
        }
    }
    if let Some((from, current)) = open {
        close_cut(&mut spans, from, end, &current);
    }
    spans
}

fn close_cut(spans: &mut [Vec<CutSpan>], from: Nanos, to: Nanos, groups: &[u32]) {
    for (lane, &group) in groups.iter().enumerate() {
        let alone = groups.iter().filter(|&&g| g == group).count() == 1;
        spans[lane].push(CutSpan {
            from,
            to,
            group,
            alone,
        });
    }
}

/// The group of every server: connected components of the graph where two servers are
/// joined if each reaches the other, numbered by their lowest member.
fn groups(reaches: &[Option<BTreeSet<usize>>]) -> Vec<u32> {
    let n = reaches.len();
    let reach = |a: usize, b: usize| reaches[a].as_ref().is_none_or(|set| set.contains(&b));
    let mut group: Vec<Option<u32>> = vec![None; n];
    let mut next = 0;
    for first in 0..n {
        if group[first].is_some() {
            continue;
        }
        // Lanes are in sorted order, so the lowest unassigned server starts a group.
        group[first] = Some(next);
        let mut stack = vec![first];
        while let Some(a) = stack.pop() {
            let joined: Vec<usize> = (0..n)
                .filter(|&b| group[b].is_none() && reach(a, b) && reach(b, a))
                .collect();
            for b in joined {
                group[b] = Some(next);
                stack.push(b);
            }
        }
        next += 1;
    }
    group.into_iter().map(|g| g.unwrap_or(0)).collect()
}

// ----- compact JSON -----

/// Nanoseconds as whole microseconds, the page's unit.
fn us(at: Nanos) -> u64 {
    at / 1000
}

fn micros<S: Serializer>(at: &Nanos, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(us(*at))
}

fn as_string<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

fn pairs<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(pairs.iter().map(|(a, b)| [a, b]))
}

fn timed_texts<S: Serializer>(items: &[(Nanos, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(|(at, text)| (us(*at), text)))
}

impl Serialize for Down {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.from), us(self.to), u8::from(self.unstarted)).serialize(s)
    }
}

impl Serialize for TermSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.from), us(self.to), self.term, u8::from(self.leader)).serialize(s)
    }
}

impl Serialize for RoleSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.from), us(self.to), self.role as u8).serialize(s)
    }
}

impl Serialize for CutSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.from), us(self.to), self.group, u8::from(self.alone)).serialize(s)
    }
}

impl Serialize for ShardSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (
            us(self.from),
            us(self.to),
            self.config,
            &self.serving,
            &self.waiting,
        )
            .serialize(s)
    }
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.at), &self.text, u8::from(self.passed)).serialize(s)
    }
}

impl Serialize for NetSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.from), us(self.to), &self.setting).serialize(s)
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (us(self.call), us(self.ret), &self.text).serialize(s)
    }
}

/// A mark's text in the `x` column: the text, or the index of an earlier equal one.
#[derive(Serialize)]
#[serde(untagged)]
enum Text<'a> {
    Text(&'a str),
    Same(usize),
}

/// Texts shorter than this are written again rather than referred to: an index would
/// save little.
const MIN_SHARED_TEXT: usize = 8;

fn mark_columns<S: Serializer>(marks: &[Mark], s: S) -> Result<S::Ok, S::Error> {
    let mut previous = 0;
    let times: Vec<u64> = marks
        .iter()
        .map(|m| {
            let at = us(m.at);
            // Sorted by time, so never negative.
            let delta = at.saturating_sub(previous);
            previous = at;
            delta
        })
        .collect();
    let topics: Vec<u32> = marks.iter().map(|m| m.topic).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let texts: Vec<Text> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if m.text.len() < MIN_SHARED_TEXT {
                return Text::Text(&m.text);
            }
            match seen.get(m.text.as_str()) {
                Some(&first) => Text::Same(first),
                None => {
                    seen.insert(&m.text, i);
                    Text::Text(&m.text)
                }
            }
        })
        .collect();
    let mut columns = s.serialize_struct("Marks", 3)?;
    columns.serialize_field("t", &times)?;
    columns.serialize_field("k", &topics)?;
    columns.serialize_field("x", &texts)?;
    columns.end()
}

fn message_columns<S: Serializer>(messages: &[Message], s: S) -> Result<S::Ok, S::Error> {
    let mut previous = 0;
    let mut flat = Vec::with_capacity(messages.len() * 6);
    for m in messages {
        let at = us(m.at);
        flat.extend([
            at.saturating_sub(previous),
            at.saturating_sub(us(m.sent)),
            u64::from(m.from),
            u64::from(m.to),
            u64::from(m.method),
            u64::from(m.reply),
        ]);
        previous = at;
    }
    s.collect_seq(flat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    const MS: Nanos = 1_000_000;

    /// Builds recordings event by event, creating nodes by name.
    struct Rec(Recording);

    impl Rec {
        fn new() -> Rec {
            Rec(Recording {
                test: "test".into(),
                seed: 7,
                nodes: vec![TESTER.into()],
                ..Recording::default()
            })
        }

        fn end(mut self, end: Nanos) -> Recording {
            self.0.end = end;
            self.0
        }

        /// The latest node named `name`.
        fn node(&self, name: &str) -> u32 {
            self.0
                .nodes
                .iter()
                .rposition(|n| n == name)
                .expect("a node of that name") as u32
        }

        fn on(&mut self, at: Nanos, node: u32, kind: Kind) -> &mut Rec {
            self.0.events.push(Event { at, node, kind });
            self
        }

        /// Starts a new node named `name`.
        fn start(&mut self, at: Nanos, name: &str) -> &mut Rec {
            self.0.nodes.push(name.into());
            let node = self.0.nodes.len() as u32 - 1;
            self.on(at, node, Kind::Start)
        }

        fn crash(&mut self, at: Nanos, name: &str) -> &mut Rec {
            let node = self.node(name);
            self.on(at, node, Kind::Crash)
        }

        fn tester(&mut self, at: Nanos, kind: Kind) -> &mut Rec {
            self.on(at, 0, kind)
        }

        fn state(&mut self, at: Nanos, server: &str, term: u64, leader: bool) -> &mut Rec {
            self.tester(
                at,
                Kind::State {
                    server: server.into(),
                    term,
                    leader,
                },
            )
        }

        /// `server`'s shards, recorded on its latest node (as the Lab 4 tester records
        /// them, from inside the server's state machine), or on the tester's if it has
        /// none.
        fn shards(
            &mut self,
            at: Nanos,
            server: &str,
            config: u64,
            serving: &[u8],
            waiting: &[u8],
        ) -> &mut Rec {
            let node = self.0.nodes.iter().rposition(|n| n == server).unwrap_or(0) as u32;
            self.on(
                at,
                node,
                Kind::Shards {
                    server: server.into(),
                    config,
                    serving: serving.to_vec(),
                    waiting: waiting.to_vec(),
                },
            )
        }

        fn note(&mut self, at: Nanos, name: &str, topic: &str, text: &str) -> &mut Rec {
            let node = self.node(name);
            self.on(
                at,
                node,
                Kind::Annotation {
                    topic: topic.into(),
                    text: text.into(),
                },
            )
        }

        fn links(&mut self, at: Nanos, server: &str, reaches: &[&str]) -> &mut Rec {
            self.tester(
                at,
                Kind::Links {
                    server: server.into(),
                    reaches: reaches.iter().map(|&s| s.into()).collect(),
                },
            )
        }

        /// Starts `names` at 0.
        fn servers(names: &[&str]) -> Rec {
            let mut rec = Rec::new();
            for name in names {
                rec.start(0, name);
            }
            rec
        }
    }

    fn down(from: Nanos, to: Nanos) -> Down {
        Down {
            from,
            to,
            unstarted: false,
        }
    }

    fn term(from: Nanos, to: Nanos, term: u64, leader: bool) -> TermSpan {
        TermSpan {
            from,
            to,
            term,
            leader,
        }
    }

    fn role(from: Nanos, to: Nanos, role: Role) -> RoleSpan {
        RoleSpan { from, to, role }
    }

    fn cut(from: Nanos, to: Nanos, group: u32, alone: bool) -> CutSpan {
        CutSpan {
            from,
            to,
            group,
            alone,
        }
    }

    fn shard_span(
        from: Nanos,
        to: Nanos,
        config: u64,
        serving: &[u8],
        waiting: &[u8],
    ) -> ShardSpan {
        ShardSpan {
            from,
            to,
            config,
            serving: serving.to_vec(),
            waiting: waiting.to_vec(),
        }
    }

    fn names(model: &Model) -> Vec<&str> {
        model.lanes.iter().map(|l| l.name.as_str()).collect()
    }

    #[test]
    fn natural_order() {
        let mut names = vec!["S10", "S2", "S1", "S0", "S9", "S11", "A", "S02"];
        names.sort_by(|a, b| natural_cmp(a, b));
        // Equal numbers fall back to plain order, so the order is total.
        assert_eq!(names, ["A", "S0", "S1", "S02", "S2", "S9", "S10", "S11"]);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(natural_cmp("S1a", "S1b"), Ordering::Less);
        assert_eq!(natural_cmp("S1", "S1a"), Ordering::Less);
    }

    #[test]
    fn one_lane_per_server_name_in_natural_order() {
        let mut rec = Rec::new();
        for name in ["S10", "S2", "S0", "S1"] {
            rec.start(0, name);
        }
        rec.crash(MS, "S2").start(2 * MS, "S2");
        // The tester's node has a start too, but is never a lane.
        rec.tester(0, Kind::Start);
        let model = build(&rec.end(3 * MS));
        assert_eq!(names(&model), ["S0", "S1", "S2", "S10"]);
        assert_eq!(model.end, 3 * MS);
        assert_eq!(model.seed, 7);
    }

    #[test]
    fn crash_and_restart_make_down_spans() {
        let mut rec = Rec::servers(&["S0", "S1"]);
        rec.crash(10 * MS, "S0")
            .start(30 * MS, "S0")
            .crash(50 * MS, "S0")
            // Crashing a crashed server again changes nothing.
            .crash(60 * MS, "S0");
        rec.crash(70 * MS, "S1");
        let model = build(&rec.end(100 * MS));
        assert_eq!(
            model.lane("S0").unwrap().down,
            [down(10 * MS, 30 * MS), down(50 * MS, 100 * MS)]
        );
        // A crash right at the end still shows.
        assert_eq!(model.lane("S1").unwrap().down, [down(70 * MS, 100 * MS)]);
    }

    #[test]
    fn crash_of_a_replaced_node_does_not_take_the_server_down() {
        let mut rec = Rec::servers(&["S0"]);
        let old = rec.node("S0");
        rec.start(10 * MS, "S0").on(20 * MS, old, Kind::Crash);
        let model = build(&rec.end(30 * MS));
        assert!(model.lane("S0").unwrap().down.is_empty());
    }

    #[test]
    fn marks_of_every_incarnation_share_the_lane() {
        let mut rec = Rec::servers(&["S0", "S1"]);
        rec.note(10 * MS, "S0", "vote", "before")
            .crash(20 * MS, "S0")
            .start(30 * MS, "S0")
            .note(40 * MS, "S0", "vote", "after")
            .note(50 * MS, "S1", "commit", "other");
        let model = build(&rec.end(100 * MS));
        let texts: Vec<&str> = model
            .lane("S0")
            .unwrap()
            .marks
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(texts, ["before", "after"]);
        assert_eq!(model.lane("S1").unwrap().marks.len(), 1);
        assert!(model.tester.marks.is_empty());
    }

    #[test]
    fn a_server_is_down_before_its_first_start() {
        let mut rec = Rec::servers(&["S0"]);
        rec.start(40 * MS, "S1");
        let model = build(&rec.end(100 * MS));
        assert!(model.lane("S0").unwrap().down.is_empty());
        assert_eq!(
            model.lane("S1").unwrap().down,
            [Down {
                from: 0,
                to: 40 * MS,
                unstarted: true
            }]
        );
    }

    #[test]
    fn term_spans_end_at_the_next_state_a_crash_or_the_end() {
        let mut rec = Rec::servers(&["S0", "S1"]);
        rec.state(10 * MS, "S0", 1, false)
            .state(20 * MS, "S0", 2, true)
            .crash(30 * MS, "S0")
            .start(40 * MS, "S0")
            .state(50 * MS, "S0", 3, false)
            .state(15 * MS, "S1", 1, false);
        // States of unknown servers are ignored.
        rec.state(15 * MS, "S7", 1, true);
        let model = build(&rec.end(100 * MS));
        assert_eq!(
            model.lane("S0").unwrap().terms,
            [
                term(10 * MS, 20 * MS, 1, false),
                term(20 * MS, 30 * MS, 2, true),
                term(50 * MS, 100 * MS, 3, false),
            ]
        );
        assert_eq!(
            model.lane("S1").unwrap().terms,
            [term(15 * MS, 100 * MS, 1, false)]
        );
        assert_eq!(model.lanes.len(), 2);
    }

    #[test]
    fn shard_spans_end_at_the_next_report_a_crash_or_the_end() {
        let mut rec = Rec::servers(&["ctrler0", "server-100-0", "server-101-0"]);
        rec.state(5 * MS, "server-100-0", 1, true)
            .shards(0, "server-100-0", 0, &[], &[])
            .shards(10 * MS, "server-100-0", 1, &[0, 1, 2, 3, 4], &[])
            .shards(20 * MS, "server-100-0", 2, &[0, 1, 2], &[3])
            // The same state reported again (a restore) continues the span.
            .shards(25 * MS, "server-100-0", 2, &[0, 1, 2], &[3])
            .crash(30 * MS, "server-100-0")
            // Reports of unknown servers are ignored.
            .shards(35 * MS, "server-102-0", 2, &[5], &[]);
        rec.start(40 * MS, "server-100-0")
            .shards(40 * MS, "server-100-0", 0, &[], &[])
            // A restore at the same instant: the empty state took no time.
            .shards(40 * MS, "server-100-0", 2, &[0, 1, 2], &[3])
            .shards(60 * MS, "server-100-0", 2, &[0, 1, 2, 3], &[]);
        rec.shards(15 * MS, "server-101-0", 1, &[5, 6, 7, 8, 9], &[]);
        let model = build(&rec.end(100 * MS));
        let lane = model.lane("server-100-0").unwrap();
        assert_eq!(
            lane.shards,
            [
                shard_span(0, 10 * MS, 0, &[], &[]),
                shard_span(10 * MS, 20 * MS, 1, &[0, 1, 2, 3, 4], &[]),
                // Cut by the crash, not by the repeated report.
                shard_span(20 * MS, 30 * MS, 2, &[0, 1, 2], &[3]),
                shard_span(40 * MS, 60 * MS, 2, &[0, 1, 2], &[3]),
                shard_span(60 * MS, 100 * MS, 2, &[0, 1, 2, 3], &[]),
            ]
        );
        // The other bands are as without the shards.
        assert_eq!(lane.terms, [term(5 * MS, 30 * MS, 1, true)]);
        assert_eq!(lane.down, [down(30 * MS, 40 * MS)]);
        assert!(lane.marks.is_empty());
        assert_eq!(
            model.lane("server-101-0").unwrap().shards,
            [shard_span(15 * MS, 100 * MS, 1, &[5, 6, 7, 8, 9], &[])]
        );
        // A server without reports (the controller's) has no strip.
        assert!(model.lane("ctrler0").unwrap().shards.is_empty());
        assert_eq!(model.lanes.len(), 3);
    }

    #[test]
    fn shard_spans_in_json_and_lanes_without_them_unchanged() {
        let mut rec = Rec::servers(&["S0", "server-100-0"]);
        rec.state(MS, "S0", 1, false)
            .shards(2 * MS, "server-100-0", 4, &[0, 1, 2], &[3, 4]);
        let json: serde_json::Value = serde_json::to_value(build(&rec.end(10 * MS))).unwrap();
        // A lane without shards has no "shards" field: its data is as before they existed.
        let s0 = json["lanes"][0].as_object().unwrap();
        assert_eq!(s0["name"], "S0");
        let keys: Vec<&str> = s0.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cut", "down", "marks", "name", "roles", "terms"]);
        assert_eq!(
            json["lanes"][1]["shards"],
            serde_json::json!([[2000, 10000, 4, [0, 1, 2], [3, 4]]])
        );
    }

    #[test]
    fn roles_come_from_role_annotations() {
        let mut rec = Rec::servers(&["S0"]);
        rec.note(10 * MS, "S0", "role", "follower in term 1")
            .note(20 * MS, "S0", "role", "Candidate, term 2")
            // Not a role: a mark only.
            .note(25 * MS, "S0", "role", "stepping down soon")
            .note(30 * MS, "S0", "role", "leader of term 2")
            .state(30 * MS, "S0", 2, true)
            .crash(40 * MS, "S0")
            .start(50 * MS, "S0")
            .note(60 * MS, "S0", "role", "follower");
        let model = build(&rec.end(100 * MS));
        let lane = model.lane("S0").unwrap();
        assert_eq!(
            lane.roles,
            [
                role(10 * MS, 20 * MS, Role::Follower),
                role(20 * MS, 30 * MS, Role::Candidate),
                role(30 * MS, 40 * MS, Role::Leader),
                role(60 * MS, 100 * MS, Role::Follower),
            ]
        );
        // Every annotation is a mark, role ones included.
        assert_eq!(lane.marks.len(), 5);
        assert!(lane.marks.iter().all(|m| model.topic(m) == "role"));
    }

    #[test]
    fn roles_go_through_pre_candidate() {
        let mut rec = Rec::servers(&["S0"]);
        rec.state(10 * MS, "S0", 4, false)
            .note(10 * MS, "S0", "role", "follower in term 4")
            // Pre-Vote: asking for votes for term 5 while still in term 4.
            .note(
                20 * MS,
                "S0",
                "role",
                "pre-candidate in term 4: asking for pre-votes for term 5",
            )
            .note(
                25 * MS,
                "S0",
                "pre-vote",
                "granted S2's pre-vote for term 5",
            )
            .state(30 * MS, "S0", 5, false)
            .note(30 * MS, "S0", "role", "candidate in term 5")
            .state(40 * MS, "S0", 5, true)
            .note(40 * MS, "S0", "role", "leader in term 5");
        let model = build(&rec.end(100 * MS));
        let lane = model.lane("S0").unwrap();
        assert_eq!(
            lane.roles,
            [
                role(10 * MS, 20 * MS, Role::Follower),
                role(20 * MS, 30 * MS, Role::PreCandidate),
                role(30 * MS, 40 * MS, Role::Candidate),
                role(40 * MS, 100 * MS, Role::Leader),
            ]
        );
        // The pre-candidate span neither leads nor changes the term bands.
        assert_eq!(
            lane.terms,
            [
                term(10 * MS, 30 * MS, 4, false),
                term(30 * MS, 40 * MS, 5, false),
                term(40 * MS, 100 * MS, 5, true),
            ]
        );
        // The page reads roles by number: a pre-candidate is 3.
        let json = serde_json::to_value(&lane.roles).unwrap();
        assert_eq!(json[1], serde_json::json!([20_000, 30_000, 3]));
    }

    #[test]
    fn steps_down_alone_changes_no_role() {
        let leader_then_steps_down = || {
            let mut rec = Rec::servers(&["S0"]);
            rec.note(10 * MS, "S0", "role", "leader in term 3").note(
                20 * MS,
                "S0",
                "role",
                "steps down: heard from 1 of 5 servers in an election timeout (CheckQuorum)",
            );
            rec
        };
        let model = build(&leader_then_steps_down().end(100 * MS));
        let lane = model.lane("S0").unwrap();
        assert_eq!(lane.roles, [role(10 * MS, 100 * MS, Role::Leader)]);
        assert_eq!(lane.marks.len(), 2);
        // The "follower" annotation that follows is what ends the leadership.
        let mut rec = leader_then_steps_down();
        rec.note(30 * MS, "S0", "role", "follower in term 3");
        let model = build(&rec.end(100 * MS));
        assert_eq!(
            model.lane("S0").unwrap().roles,
            [
                role(10 * MS, 30 * MS, Role::Leader),
                role(30 * MS, 100 * MS, Role::Follower),
            ]
        );
    }

    #[test]
    fn role_texts_match_by_their_first_word() {
        let cases = [
            (
                "pre-candidate in term 4: asking for pre-votes for term 5",
                Some(Role::PreCandidate),
            ),
            ("  Pre-Candidate", Some(Role::PreCandidate)),
            ("candidate in term 5", Some(Role::Candidate)),
            ("follower in term 5", Some(Role::Follower)),
            ("leader in term 5", Some(Role::Leader)),
            // Role words later in the text do not count.
            ("steps down: heard from 1 of 5 servers (CheckQuorum)", None),
            ("not a candidate", None),
            ("pre-vote for term 5", None),
            ("precandidate", None),
        ];
        for (text, want) in cases {
            assert_eq!(role_of(text), want, "{text:?}");
        }
    }

    #[test]
    fn roles_fall_back_to_states() {
        let mut rec = Rec::servers(&["S0", "S1"]);
        rec.state(10 * MS, "S0", 1, false)
            .state(20 * MS, "S0", 2, false)
            .state(30 * MS, "S0", 2, true)
            .state(40 * MS, "S0", 3, false)
            .crash(50 * MS, "S0")
            .start(60 * MS, "S0")
            .state(70 * MS, "S0", 3, false);
        // S1 has role annotations: its states do not make roles.
        rec.note(5 * MS, "S1", "role", "follower")
            .state(10 * MS, "S1", 1, true);
        let model = build(&rec.end(100 * MS));
        assert_eq!(
            model.lane("S0").unwrap().roles,
            [
                // Two follower terms in a row make one span.
                role(10 * MS, 30 * MS, Role::Follower),
                role(30 * MS, 40 * MS, Role::Leader),
                role(40 * MS, 50 * MS, Role::Follower),
                role(70 * MS, 100 * MS, Role::Follower),
            ]
        );
        assert_eq!(
            model.lane("S1").unwrap().roles,
            [role(5 * MS, 100 * MS, Role::Follower)]
        );
    }

    /// Links for a split into `groups` (each group's members reach each other).
    fn split(rec: &mut Rec, at: Nanos, groups: &[&[&str]]) {
        for group in groups {
            for &server in *group {
                let others: Vec<&str> = group.iter().copied().filter(|&s| s != server).collect();
                rec.links(at, server, &others);
            }
        }
    }

    #[test]
    fn a_partition_shades_two_groups_until_it_heals() {
        let all = ["S0", "S1", "S2", "S3", "S4"];
        let mut rec = Rec::servers(&all);
        split(&mut rec, 10 * MS, &[&["S3", "S4"], &["S0", "S1", "S2"]]);
        split(&mut rec, 50 * MS, &[&all]);
        let model = build(&rec.end(100 * MS));
        for name in ["S0", "S1", "S2"] {
            assert_eq!(
                model.lane(name).unwrap().cut,
                [cut(10 * MS, 50 * MS, 0, false)],
                "{name}"
            );
        }
        for name in ["S3", "S4"] {
            assert_eq!(
                model.lane(name).unwrap().cut,
                [cut(10 * MS, 50 * MS, 1, false)],
                "{name}"
            );
        }
    }

    #[test]
    fn an_isolated_server_is_alone_and_groups_change() {
        let all = ["S0", "S1", "S2"];
        let mut rec = Rec::servers(&all);
        // S1 alone; group numbers follow the lowest member: {S0, S2} is 0, {S1} is 1.
        split(&mut rec, 10 * MS, &[&["S1"], &["S0", "S2"]]);
        // The same split recorded again does not cut the spans.
        split(&mut rec, 20 * MS, &[&["S1"], &["S2", "S0"]]);
        // Then S0 alone: a new span for everyone.
        split(&mut rec, 30 * MS, &[&["S0"], &["S1", "S2"]]);
        let model = build(&rec.end(100 * MS));
        assert_eq!(
            model.lane("S0").unwrap().cut,
            [
                cut(10 * MS, 30 * MS, 0, false),
                cut(30 * MS, 100 * MS, 0, true)
            ]
        );
        assert_eq!(
            model.lane("S1").unwrap().cut,
            [
                cut(10 * MS, 30 * MS, 1, true),
                cut(30 * MS, 100 * MS, 1, false)
            ]
        );
        assert_eq!(
            model.lane("S2").unwrap().cut,
            [
                cut(10 * MS, 30 * MS, 0, false),
                cut(30 * MS, 100 * MS, 1, false)
            ]
        );
    }

    #[test]
    fn one_way_links_do_not_join_groups() {
        let mut rec = Rec::servers(&["S0", "S1", "S2"]);
        // S0 reaches S1 and S2, but neither reaches S0: S0 is cut off.
        rec.links(10 * MS, "S0", &["S1", "S2"])
            .links(10 * MS, "S1", &["S2"])
            .links(10 * MS, "S2", &["S1"]);
        let model = build(&rec.end(20 * MS));
        assert_eq!(
            model.lane("S0").unwrap().cut,
            [cut(10 * MS, 20 * MS, 0, true)]
        );
        assert_eq!(
            model.lane("S1").unwrap().cut,
            [cut(10 * MS, 20 * MS, 1, false)]
        );
    }

    #[test]
    fn a_server_without_links_reaches_everyone() {
        let mut rec = Rec::servers(&["S0", "S1", "S2"]);
        // S2 has no links recorded: it joins whoever reaches it.
        rec.links(10 * MS, "S0", &["S2"]).links(10 * MS, "S1", &[]);
        let model = build(&rec.end(20 * MS));
        assert_eq!(
            model.lane("S0").unwrap().cut,
            [cut(10 * MS, 20 * MS, 0, false)]
        );
        assert_eq!(
            model.lane("S1").unwrap().cut,
            [cut(10 * MS, 20 * MS, 1, true)]
        );
        assert_eq!(
            model.lane("S2").unwrap().cut,
            [cut(10 * MS, 20 * MS, 0, false)]
        );
    }

    #[test]
    fn links_recorded_one_server_at_a_time_count_once_per_instant() {
        let mut rec = Rec::servers(&["S0", "S1"]);
        // Halfway through the first instant S0 and S1 do not reach each other mutually,
        // but at its end they do: no partition.
        rec.links(10 * MS, "S0", &[]).links(10 * MS, "S1", &[]);
        rec.links(10 * MS, "S0", &["S1"])
            .links(10 * MS, "S1", &["S0"]);
        let model = build(&rec.end(20 * MS));
        assert!(model.lanes.iter().all(|l| l.cut.is_empty()));
    }

    #[test]
    fn marks_tester_row_and_net_spans() {
        let mut rec = Rec::servers(&["S0"]);
        let s0 = rec.node("S0");
        rec.note(5 * MS, "S0", "vote", "voted for S1 in term 1")
            .on(
                6 * MS,
                s0,
                Kind::Log {
                    level: "WARN".into(),
                    target: "raft".into(),
                    text: "slow".into(),
                },
            )
            .on(
                7 * MS,
                s0,
                Kind::Check {
                    text: "S0 applied out of order".into(),
                    passed: false,
                },
            )
            .on(
                7 * MS,
                s0,
                Kind::Check {
                    text: "fine".into(),
                    passed: true,
                },
            )
            .tester(
                MS,
                Kind::Phase {
                    text: "begin".into(),
                },
            )
            .tester(
                8 * MS,
                Kind::Check {
                    text: "one leader".into(),
                    passed: true,
                },
            )
            .tester(
                2 * MS,
                Kind::Annotation {
                    topic: "tester".into(),
                    text: "hello".into(),
                },
            )
            .tester(
                3 * MS,
                Kind::Net {
                    setting: "reliable".into(),
                    on: false,
                },
            )
            .tester(
                4 * MS,
                Kind::Net {
                    setting: "long delays".into(),
                    on: true,
                },
            )
            .tester(
                9 * MS,
                Kind::Net {
                    setting: "reliable".into(),
                    on: true,
                },
            )
            .tester(
                9 * MS,
                Kind::Link {
                    text: "history".into(),
                    path: "/tmp/h.html".into(),
                },
            );
        let mut rec = rec.end(20 * MS);
        rec.failure = Some("boom".into());
        let model = build(&rec);
        let lane = model.lane("S0").unwrap();
        let marks: Vec<(Nanos, &str, &str)> = lane
            .marks
            .iter()
            .map(|m| (m.at, model.topic(m), m.text.as_str()))
            .collect();
        assert_eq!(
            marks,
            [
                (5 * MS, "vote", "voted for S1 in term 1"),
                (6 * MS, "log", "WARN raft: slow"),
                (7 * MS, "failed check", "S0 applied out of order"),
            ]
        );
        assert_eq!(model.tester.phases, [(MS, "begin".to_owned())]);
        assert_eq!(
            model.tester.checks,
            [Check {
                at: 8 * MS,
                text: "one leader".into(),
                passed: true
            }]
        );
        assert_eq!(model.tester.marks.len(), 1);
        assert_eq!(model.topic(&model.tester.marks[0]), "tester");
        let net: Vec<(Nanos, Nanos, &str)> = model
            .tester
            .net
            .iter()
            .map(|s| (s.from, s.to, s.setting.as_str()))
            .collect();
        assert_eq!(
            net,
            [
                (3 * MS, 9 * MS, "unreliable"),
                (4 * MS, 20 * MS, "long delays")
            ]
        );
        assert_eq!(
            model.links,
            [("history".to_owned(), "/tmp/h.html".to_owned())]
        );
        assert_eq!(model.failure.as_deref(), Some("boom"));
    }

    #[test]
    fn clients_have_rows_of_ops() {
        let mut rec = Rec::servers(&["S0"]);
        for (client, call, ret, text) in [
            ("C10", 1, 2, "Get(a) -> 1"),
            ("C2", 5, 9, "Put(a, 2)"),
            ("C2", 1, 4, "Append(a, 1)"),
        ] {
            rec.tester(
                ret * MS,
                Kind::Op {
                    client: client.into(),
                    call: call * MS,
                    text: text.into(),
                },
            );
        }
        let model = build(&rec.end(10 * MS));
        type Row<'a> = (&'a str, Vec<(Nanos, Nanos, &'a str)>);
        let rows: Vec<Row> = model
            .clients
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.ops
                        .iter()
                        .map(|o| (o.call, o.ret, o.text.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "C2",
                    vec![(MS, 4 * MS, "Append(a, 1)"), (5 * MS, 9 * MS, "Put(a, 2)")]
                ),
                ("C10", vec![(MS, 2 * MS, "Get(a) -> 1")]),
            ]
        );
        assert!(model.lanes.iter().all(|l| l.marks.is_empty()));
    }

    #[test]
    fn messages_join_lanes() {
        let mut rec = Rec::servers(&["S1", "S0"]);
        for (from, to, method, sent, at, reply) in [
            ("S0", "S1", "Raft.RequestVote", 1, 2, false),
            ("S1", "S0", "Raft.RequestVote", 2, 3, true),
            ("S0", "C0", "KV.Get", 2, 3, true),
            ("S1", "S0", "Raft.AppendEntries", 4, 6, false),
        ] {
            rec.tester(
                at * MS,
                Kind::Message {
                    from: from.into(),
                    to: to.into(),
                    method: method.into(),
                    sent: sent * MS,
                    reply,
                },
            );
        }
        let model = build(&rec.end(10 * MS));
        assert_eq!(model.methods, ["Raft.RequestVote", "Raft.AppendEntries"]);
        assert_eq!(
            model.messages,
            [
                Message {
                    sent: MS,
                    at: 2 * MS,
                    from: 0,
                    to: 1,
                    method: 0,
                    reply: false
                },
                Message {
                    sent: 2 * MS,
                    at: 3 * MS,
                    from: 1,
                    to: 0,
                    method: 0,
                    reply: true
                },
                Message {
                    sent: 4 * MS,
                    at: 6 * MS,
                    from: 1,
                    to: 0,
                    method: 1,
                    reply: false
                },
            ]
        );
    }

    #[test]
    fn the_end_covers_late_events_and_an_empty_recording_works() {
        let mut rec = Rec::servers(&["S0"]);
        rec.crash(50 * MS, "S0");
        let model = build(&rec.end(10 * MS));
        assert_eq!(model.end, 50 * MS);
        let empty = build(&Recording::default());
        assert!(empty.lanes.is_empty() && empty.clients.is_empty());
        assert_eq!(empty.end, 0);
    }

    #[test]
    fn json_is_compact_and_in_microseconds() {
        let mut rec = Rec::servers(&["S0"]);
        rec.state(1_500_000, "S0", 4, true)
            .note(2 * MS, "S0", "commit", "commit index 10")
            .note(5 * MS, "S0", "commit", "commit index 10")
            .note(6 * MS, "S0", "vote", "short")
            .crash(7 * MS, "S0");
        let mut rec = rec.end(10 * MS);
        rec.seed = u64::MAX;
        let json: serde_json::Value = serde_json::to_value(build(&rec)).unwrap();
        assert_eq!(json["seed"], "18446744073709551615");
        assert_eq!(json["end"], 10_000);
        let lane = &json["lanes"][0];
        assert_eq!(lane["name"], "S0");
        assert_eq!(lane["terms"], serde_json::json!([[1500, 7000, 4, 1]]));
        assert_eq!(lane["down"], serde_json::json!([[7000, 10000, 0]]));
        assert_eq!(lane["roles"], serde_json::json!([[1500, 7000, 2]]));
        // Times as differences, the repeated text as the index of its first occurrence.
        assert_eq!(
            lane["marks"],
            serde_json::json!({
                "t": [2000, 3000, 1000],
                "k": [0, 0, 1],
                "x": ["commit index 10", 0, "short"],
            })
        );
        assert_eq!(json["topics"], serde_json::json!(["commit", "vote"]));
    }

    #[test]
    fn long_texts_are_cut() {
        let mut rec = Rec::servers(&["S0"]);
        let long = "x".repeat(1000);
        rec.note(MS, "S0", "log", &long);
        let model = build(&rec.end(2 * MS));
        let text = &model.lane("S0").unwrap().marks[0].text;
        assert_eq!(text.chars().count(), MAX_TEXT + 1);
        assert!(text.ends_with('…'));
    }
}
