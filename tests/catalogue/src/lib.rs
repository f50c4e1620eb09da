//! The catalogue of graded tests: for each test its part, name, the course's name, points,
//! time limit and a one-line description, and nothing else.
//!
//! The list is written once, in [`raft_suite!`], as tokens that other macros consume:
//!
//! - this crate turns it into data, [`RAFT`], which the grader reads (it must not link the
//!   lab code it grades, so the list cannot live beside the test bodies);
//! - the `tests` crate turns the same tokens into its registry, binding each name to its body
//!   and generating the `#[test]` functions, so a listed test without a body does not compile.
//!
//! The points are the rubric. Each lab is worth 100 points, and every test of a part is worth
//! the same, in whole points:
//!
//! - Lab 2 (Raft): the parts come out about equal, since the course hands each part out as an
//!   assignment of its own: 2A 3 × 6 = 18, 2B 10 × 3 = 30, 2C 8 × 3 = 24, 2D 7 × 4 = 28.
//! - 2X (beyond the course): Raft tests that put faults at the worst moments (a crash right
//!   after a reply, stale duplicate requests, long partitions against compacted logs), listed
//!   in [`strict_suite!`], 4 points each, on top of Lab 2's 100. They have no course name.
//! - 2E (beyond the course): the production extensions of Raft that do not disrupt
//!   elections (the leader's no-op, Pre-Vote, CheckQuorum with leader stickiness,
//!   leadership transfer), also in [`strict_suite!`], 4 points each: 9 × 4 = 36.
//! - 2F (beyond the course): single-server membership changes (adding a server once it has
//!   caught up, removing a follower or the leader, one change at a time, removed servers
//!   that cannot disrupt), also in [`strict_suite!`], 4 points each: 9 × 4 = 36.
//! - Lab 3 (KV): RSM 8 × 1 = 8 (the layer the service is built on, which 3A and 3B exercise
//!   again), 3A 14 × 4 = 56, 3B 9 × 4 = 36.
//! - 3X (beyond the course): key/value tests with faults at the worst moments (stale
//!   duplicate requests, crashes right after replies, restarts while clerks retry) and a
//!   bound on how long a deposed leader keeps clerks waiting, 4 points each, on top of Lab
//!   3's 100. They have no course name.
//! - 3C (beyond the course): the key/value service on the Raft of 2E and 2F (Gets by
//!   ReadIndex, a cluster that changes its members), 4 points each: 5 × 4 = 20.
//! - Lab 4 (sharded KV), listed in [`shard_suite!`]: 4A 2 × 10 = 20 (the shard controller:
//!   two long tests, each a series of the course's sub-tests), 4B 10 × 8 = 80 (the sharded
//!   service). The 2022 course names these tests without a part (`TestBasic`,
//!   `TestStaticShards`).
//! - 4C: the course's two challenges (shard deletion; serving shards during a migration),
//!   its three optional tests, 5 points each, on top of Lab 4's 100.
//! - 4X (beyond the course): the sharded service with faults at the worst moments (stale
//!   duplicate requests and crashes right after replies during migrations, a group that
//!   misses several configurations, the controller's leader lost mid-rebalancing, clients
//!   retrying across a shard move) and minimal transfers checked for real, 4 points each:
//!   6 × 4 = 24, on top of Lab 4's 100.

use std::time::Duration;

/// The course's limit for one test: 120 s (virtual, in the simulation).
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// A seed's CPU budget is this many times the reference's slowest seed of the test...
pub const CPU_BUDGET_MULTIPLE: u32 = 100;

/// ... and never less than this.
pub const CPU_BUDGET_FLOOR: Duration = Duration::from_secs(10);

/// How much CPU time one seed of `test` may take before it fails as too slow:
/// [`CPU_BUDGET_MULTIPLE`] times the reference's slowest seed, at least
/// [`CPU_BUDGET_FLOOR`]. CPU time, unlike wall time, hardly depends on how loaded the
/// grading machine is or how many tests run at once, so the same code gets the same
/// verdict on any machine; the budget is generous enough that only code that is orders of
/// magnitude slower than the reference (a busy loop, work quadratic in the log) meets it.
pub fn cpu_budget(test: &str) -> Duration {
    let slowest = REFERENCE_SLOWEST_CPU_MS
        .iter()
        .find(|(name, _)| *name == test)
        .map_or(0, |&(_, ms)| ms);
    (Duration::from_millis(slowest) * CPU_BUDGET_MULTIPLE).max(CPU_BUDGET_FLOOR)
}

/// The CPU time of the reference's slowest seed of each test, in milliseconds (rounded
/// up), on the machine CI runs on (2 cores, load average about 2), over seeds 1..=200,
/// each run once (2026-12-06). Only the Lab 3 tests that take more than 100 ms are above
/// the floor.
// instructors: how it was measured (the students' tree has no reference to measure)
///
/// Measured with `cargo run --release -p grader -- --reference --seeds 200
/// --no-check-determinism --json ref.json`, then the largest `cpu_ns` of each test's
/// seeds; see BENCHMARKS.md.
// /instructors
const REFERENCE_SLOWEST_CPU_MS: &[(&str, u64)] = &[
    ("initial_election_2a", 1),
    ("re_election_2a", 1),
    ("many_elections_2a", 4),
    ("basic_agree_2b", 1),
    ("rpc_bytes_2b", 3),
    ("follower_failure_2b", 2),
    ("leader_failure_2b", 2),
    ("fail_agree_2b", 1),
    ("fail_no_agree_2b", 2),
    ("concurrent_starts_2b", 1),
    ("rejoin_2b", 2),
    ("backup_2b", 17),
    ("count_2b", 1),
    ("persist1_2c", 2),
    ("persist2_2c", 6),
    ("persist3_2c", 1),
    ("figure8_2c", 9),
    ("unreliable_agree_2c", 6),
    ("figure8_unreliable_2c", 108),
    ("reliable_churn_2c", 176),
    ("unreliable_churn_2c", 49),
    ("snapshot_basic_2d", 3),
    ("snapshot_install_2d", 10),
    ("snapshot_install_unreliable_2d", 13),
    ("snapshot_install_crash_2d", 7),
    ("snapshot_install_uncrash_2d", 8),
    ("snapshot_all_crash_2d", 3),
    ("snapshot_init_2d", 1),
    ("old_term_entries_commit_through_new_ones_2x", 2),
    ("minority_leader_rejoins_compacted_majority_2x", 10),
    ("votes_survive_crash_after_reply_2x", 10),
    ("acknowledged_entries_survive_crash_after_reply_2x", 5),
    ("stale_append_entries_do_not_truncate_2x", 10),
    ("stale_snapshots_do_not_roll_back_2x", 13),
    ("deposed_leader_learns_term_from_replies_2x", 5),
    ("followers_hear_new_leader_at_once_2x", 7),
    ("lagging_servers_catch_up_within_a_second_2x", 14),
    ("late_vote_replies_do_not_count_2x", 5),
    ("snapshot_keeps_matching_suffix_through_crash_2x", 8),
    (
        "rejoining_candidate_delays_next_leader_less_than_a_second_2x",
        3,
    ),
    // 2E: seeds 1..=1000, 2026-12-07.
    ("noop_commits_earlier_terms_2e", 2),
    ("prevote_rejoining_server_does_not_disrupt_2e", 8),
    ("prevote_terms_stay_put_under_flapping_link_2e", 6),
    ("check_quorum_cut_off_leader_steps_down_2e", 4),
    (
        "stickiness_partially_cut_off_server_cannot_depose_leader_2e",
        8,
    ),
    ("transfer_to_up_to_date_follower_2e", 3),
    ("transfer_catches_up_lagging_target_2e", 10),
    ("transfer_to_unreachable_target_is_abandoned_2e", 4),
    ("transfers_under_faults_unreliable_2e", 9),
    // 2F: seeds 1..=1000, 2026-12-07.
    ("add_server_catches_up_then_counts_2f", 20),
    ("removed_follower_does_not_count_2f", 6),
    ("removed_leader_steps_down_2f", 4),
    ("one_change_at_a_time_2f", 5),
    (
        "no_change_before_an_entry_of_the_leaders_term_commits_2f",
        20,
    ),
    ("uncommitted_configuration_is_used_and_dropped_2f", 4),
    ("configuration_survives_restart_and_snapshot_2f", 5),
    ("removed_servers_cannot_disrupt_2f", 9),
    ("membership_changes_under_faults_unreliable_2f", 18),
    ("basic_rsm", 1),
    ("concurrent_rsm", 4),
    ("leader_failure_rsm", 1),
    ("leader_partition_rsm", 3),
    ("restart_replay_rsm", 4),
    ("shutdown_rsm", 1),
    ("restart_submit_rsm", 5),
    ("snapshot_rsm", 2),
    ("basic_3a", 83),
    ("speed_3a", 28),
    ("concurrent_3a", 325),
    ("unreliable_3a", 38),
    ("unreliable_one_key_3a", 2),
    ("one_partition_3a", 2),
    ("many_partitions_one_client_3a", 68),
    ("many_partitions_many_clients_3a", 219),
    ("persist_one_client_3a", 97),
    ("persist_concurrent_3a", 343),
    ("persist_concurrent_unreliable_3a", 51),
    ("persist_partition_3a", 265),
    ("persist_partition_unreliable_3a", 38),
    ("persist_partition_unreliable_linearizable_3a", 98),
    ("snapshot_rpc_3b", 2),
    ("snapshot_size_3b", 16),
    ("speed_3b", 26),
    ("snapshot_recover_3b", 87),
    ("snapshot_recover_many_clients_3b", 791),
    ("snapshot_unreliable_3b", 39),
    ("snapshot_unreliable_recover_3b", 37),
    ("snapshot_unreliable_recover_concurrent_partition_3b", 30),
    (
        "snapshot_unreliable_recover_concurrent_partition_linearizable_3b",
        92,
    ),
    ("stale_requests_take_effect_once_3x", 231),
    ("replies_survive_crash_after_reply_3x", 20),
    ("retries_straddle_snapshot_and_restart_3x", 19),
    ("deposed_leader_releases_clerks_3x", 295),
    // 3C: seeds 1..=1000, 2026-12-07.
    ("reads_do_not_grow_the_log_3c", 19),
    ("deposed_leader_serves_no_stale_read_3c", 5),
    ("reads_under_partitions_linearizable_3c", 54),
    ("reads_with_restarts_and_snapshots_linearizable_3c", 48),
    ("membership_changes_while_clients_run_3c", 256),
    // Lab 4: seeds 1..=200, 2026-12-07.
    ("basic_4a", 6),
    ("multi_4a", 3),
    ("static_shards_4b", 10),
    ("join_leave_4b", 5),
    ("snapshot_4b", 12),
    ("miss_change_4b", 10),
    ("concurrent1_4b", 37),
    ("concurrent2_4b", 75),
    ("concurrent3_4b", 245),
    ("unreliable1_4b", 13),
    ("unreliable2_4b", 33),
    ("unreliable3_4b", 34),
    ("challenge1_delete_4c", 32),
    ("challenge2_unaffected_4c", 8),
    ("challenge2_partial_4c", 5),
    ("stale_requests_during_migrations_4x", 141),
    ("replies_survive_crash_after_reply_4x", 90),
    ("group_misses_several_configurations_4x", 10),
    ("controller_leader_change_mid_rebalance_4x", 41),
    ("clients_retry_across_a_shard_move_4x", 47),
    ("minimal_transfers_4x", 2),
];

/// One graded test, as listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Test {
    /// The part it belongs to, as the course writes it (`"2A"`).
    pub part: &'static str,
    /// The name of its `#[test]` function: its own name with the part as a suffix
    /// (`"initial_election_2a"`).
    pub name: &'static str,
    /// The course's name for it (`"TestInitialElection2A"`); empty for a test beyond the
    /// course.
    pub course_name: &'static str,
    /// The cargo test target that holds its `#[test]` function (`"raft_2a"`, i.e.
    /// `tests/tests/raft_2a.rs`).
    pub target: &'static str,
    /// What passing it is worth.
    pub points: u32,
    /// Its limit in virtual time.
    pub time_limit: Duration,
    /// One line on what it checks, for people reading a grade report.
    pub description: &'static str,
}

/// Hands the list of Raft tests to the macro `callback`, as
///
/// ```text
/// callback! {
///     /// Every Raft test, in the course's order.
///     pub const RAFT;
///     /// 2A: leader election.
///     part raft_2a "2A", 6 points each {
///         initial_election_2a "TestInitialElection2A"
///             "A leader is elected with no failures, and stays leader while nothing fails.";
///         ...
///     }
///     ...
/// }
/// ```
///
/// `raft_2a` names the part's test target (`tests/tests/raft_2a.rs`) and, in the `tests`
/// crate, the module that holds the part's bodies. This is the one place a test is listed.
///
/// A test's name is its course name in snake case without the leading `Test` and the
/// course's part, with our part as a suffix (`TestInitialElection2A` is
/// `initial_election_2a`); [`check_names`] checks it at compile time.
#[macro_export]
macro_rules! raft_suite {
    ($($callback:ident)::+) => {
        $($callback)::+! {
        /// Every Raft test, in the course's order.
        pub const RAFT;

        /// 2A: leader election.
        part raft_2a "2A", 6 points each {
            initial_election_2a "TestInitialElection2A"
                "A leader is elected with no failures, and stays leader while nothing fails.";
            re_election_2a "TestReElection2A"
                "A new leader is elected when the old one is cut off; no leader without a majority.";
            many_elections_2a "TestManyElections2A"
                "Seven servers; nine rounds of cutting off three at random: a leader each time.";
        }

        /// 2B: log replication.
        part raft_2b "2B", 3 points each {
            basic_agree_2b "TestBasicAgree2B"
                "Three commands agreed on in order, none committed before it was started.";
            rpc_bytes_2b "TestRPCBytes2B"
                "Each command is sent to each peer just once, judging by the bytes on the wire.";
            follower_failure_2b "TestFollowerFailure2B"
                "Followers fail one by one: agreement continues with a majority, and stops without.";
            leader_failure_2b "TestLeaderFailure2B"
                "Leaders fail one by one: a new leader takes over, until no majority is left.";
            fail_agree_2b "TestFailAgree2B"
                "Agreement goes on while one follower is disconnected; it catches up when it returns.";
            fail_no_agree_2b "TestFailNoAgree2B"
                "With three of five followers gone, nothing commits; after repair, agreement resumes.";
            concurrent_starts_2b "TestConcurrentStarts2B"
                "Five Start()s issued concurrently in one term all commit.";
            rejoin_2b "TestRejoin2B"
                "A partitioned leader's uncommitted entries are replaced when it rejoins.";
            backup_2b "TestBackup2B"
                "A leader backs up quickly over long runs of conflicting follower entries.";
            count_2b "TestCount2B"
                "Elections and agreement use few RPCs, and an idle leader sends few heartbeats.";
        }

        /// 2C: persistence.
        part raft_2c "2C", 3 points each {
            persist1_2c "TestPersist12C"
                "Agreement survives restarting every server, then the leader, then a follower.";
            persist2_2c "TestPersist22C"
                "Five servers, five rounds of partitioning and restarting minorities and majorities.";
            persist3_2c "TestPersist32C"
                "A partitioned leader and a follower crash; the leader restarts and loses nothing committed.";
            figure8_2c "TestFigure82C"
                "Figure 8 of the paper: leaders crash soon after taking commands; no old-term entry commits by counting replicas.";
            unreliable_agree_2c "TestUnreliableAgree2C"
                "Many concurrent agreements on an unreliable network, then all servers agree.";
            figure8_unreliable_2c "TestFigure8Unreliable2C"
                "Figure 8 on an unreliable network with long reordering: leaders cut off, old messages arriving late.";
            reliable_churn_2c "TestReliableChurn2C"
                "Servers disconnect, crash and restart at random while clients start commands; every commit survives.";
            unreliable_churn_2c "TestUnreliableChurn2C"
                "Churn as in reliable_churn_2c, on an unreliable network.";
        }

        /// 2D: log compaction.
        part raft_2d "2D", 4 points each {
            snapshot_basic_2d "TestSnapshotBasic2D"
                "Snapshots with no faults: the log stays small and every server keeps up.";
            snapshot_install_2d "TestSnapshotInstall2D"
                "A disconnected server catches up through InstallSnapshot.";
            snapshot_install_unreliable_2d "TestSnapshotInstallUnreliable2D"
                "A disconnected server catches up through InstallSnapshot on an unreliable network.";
            snapshot_install_crash_2d "TestSnapshotInstallCrash2D"
                "A crashed server restarts from its snapshot and catches up.";
            snapshot_install_uncrash_2d "TestSnapshotInstallUnCrash2D"
                "A crashed server restarts from its snapshot and catches up on an unreliable network.";
            snapshot_all_crash_2d "TestSnapshotAllCrash2D"
                "All servers crash and restart from their snapshots plus log tails; no index is lost.";
            snapshot_init_2d "TestSnapshotInit2D"
                "A server restarted from a snapshot persists it again, so a second restart still finds it.";
        }
        }
    };
}

/// Hands the list of Raft tests beyond the course (parts 2X, 2E and 2F) to the macro
/// `callback`, in the same form as [`raft_suite!`]. Each has `""` for its course name: the
/// course has no such test. They are Raft tests, for the same student code as 2A–2D: 2X's
/// run it with faults at the worst moments, and each one's rustdoc (in
/// `tests/src/suites/raft_2x.rs`) says which rule of the paper it protects; 2E's and 2F's
/// run it with the extensions of `raft::Options` on (`tests/src/suites/raft_2e.rs` and
/// `raft_2f.rs`, handout `docs/lab-extensions.md`).
#[macro_export]
macro_rules! strict_suite {
    ($($callback:ident)::+) => {
        $($callback)::+! {
        /// Every Raft test beyond the course.
        pub const STRICT;

        /// 2X: faults at the worst moments.
        part raft_2x "2X", 4 points each {
            old_term_entries_commit_through_new_ones_2x ""
                "Figure 8 played move by move: an entry of an old term on a majority is not committed until an entry of the leader's own term is.";
            minority_leader_rejoins_compacted_majority_2x ""
                "A leader cut off with one follower keeps taking commands, then rejoins a majority that moved terms ahead and compacted its log.";
            votes_survive_crash_after_reply_2x ""
                "Two candidates contest one term; voters crash the instant their vote leaves and restart at once: no server votes twice in a term.";
            acknowledged_entries_survive_crash_after_reply_2x ""
                "A follower crashes the instant its AppendEntries acknowledgement leaves: what it acknowledged survives, and commits stay committed.";
            stale_append_entries_do_not_truncate_2x ""
                "Old AppendEntries arrive again after newer ones: a follower never cuts entries it acknowledged.";
            stale_snapshots_do_not_roll_back_2x ""
                "Old InstallSnapshots arrive again after newer entries: a server never goes back to an older snapshot.";
            deposed_leader_learns_term_from_replies_2x ""
                "A deposed leader that hears only replies to its own heartbeats adopts their newer term and steps down.";
            followers_hear_new_leader_at_once_2x ""
                "After each of ten leader changes on a reliable network, nobody leaves the new leader's term for 2 s.";
            lagging_servers_catch_up_within_a_second_2x ""
                "Two servers 50 conflicting entries behind apply a command offered as the partition heals within 1 s.";
            late_vote_replies_do_not_count_2x ""
                "Vote replies arrive up to 2 s late, after their election: no candidate counts them in a later term.";
            snapshot_keeps_matching_suffix_through_crash_2x ""
                "A stale InstallSnapshot reaches a follower holding later entries, then the leader crashes: none is lost.";
            rejoining_candidate_delays_next_leader_less_than_a_second_2x ""
                "A follower cut off for 2 s (its term ahead, its log behind) rejoins: within 1 s a server other than it leads, and it follows.";
        }

        /// 2E: elections that do not disrupt (the leader's no-op, Pre-Vote, CheckQuorum,
        /// leadership transfer).
        part raft_2e "2E", 4 points each {
            noop_commits_earlier_terms_2e ""
                "A command committed just before its leader crashed reaches every server through the new leader's no-op, with no new command.";
            prevote_rejoining_server_does_not_disrupt_2e ""
                "Pre-Vote: a follower cut off for 5 s keeps its term, and rejoins without deposing the leader.";
            prevote_terms_stay_put_under_flapping_link_2e ""
                "Pre-Vote: for 20 s a follower's link flaps; the leader and every term stay as they were.";
            check_quorum_cut_off_leader_steps_down_2e ""
                "CheckQuorum: a leader cut off from a majority (alone, or with one follower) steps down within 2 s.";
            stickiness_partially_cut_off_server_cannot_depose_leader_2e ""
                "Leader stickiness: a follower cut off from the leader alone cannot raise the others' terms or depose it.";
            transfer_to_up_to_date_follower_2e ""
                "Leadership transfer: the target leads within 1 s, and the old leader accepts no command meanwhile.";
            transfer_catches_up_lagging_target_2e ""
                "Leadership transfer to a follower 30 entries behind: the leader catches it up first, and it leads within 1 s.";
            transfer_to_unreachable_target_is_abandoned_2e ""
                "A transfer to an unreachable server is abandoned within 1 s, and the leader takes commands again.";
            transfers_under_faults_unreliable_2e ""
                "Twenty transfers on an unreliable network with crashes: every round commits, nothing committed changes.";
        }

        /// 2F: single-server membership changes.
        part raft_2f "2F", 4 points each {
            add_server_catches_up_then_counts_2f ""
                "A fresh server far behind catches up by snapshot, then joins; one cut off while being added is not counted, and is given up if it never returns.";
            removed_follower_does_not_count_2f ""
                "After a follower is removed, the leader, it and one member cannot commit: it counts toward no majority.";
            removed_leader_steps_down_2f ""
                "A leader that removes itself steps down once the change commits, and never leads or disrupts again.";
            one_change_at_a_time_2f ""
                "A second change is refused while the first is uncommitted.";
            no_change_before_an_entry_of_the_leaders_term_commits_2f ""
                "A new leader cut off before its no-op commits refuses a configuration change (the errata's rule).";
            uncommitted_configuration_is_used_and_dropped_2f ""
                "An uncommitted configuration is in force at once, and dropped with its entry when a new leader cuts it off.";
            configuration_survives_restart_and_snapshot_2f ""
                "After two removals, snapshots and a restart of every server, the members use the three-server configuration.";
            removed_servers_cannot_disrupt_2f ""
                "Two removed servers left running, unaware of their removal, cannot disrupt the three members for 5 s.";
            membership_changes_under_faults_unreliable_2f ""
                "Thirty rounds of removals and additions with crashes on an unreliable network: every round commits.";
        }
        }
    };
}

/// Hands the list of key/value tests (Lab 3, and the rsm layer under it) to the macro
/// `callback`, in the same form as [`raft_suite!`].
///
/// The rsm tests carry the names of the 2025 course's `kvraft1/rsm` tests (`TestBasic4A`:
/// that course numbers the labs differently); 3A and 3B carry the 2022–2024 course's names.
#[macro_export]
macro_rules! kv_suite {
    ($($callback:ident)::+) => {
        $($callback)::+! {
        /// Every key/value test, in the course's order.
        pub const KV;

        /// RSM: the replicated state machine layer, with a counter as the state machine.
        part rsm "RSM", 1 points each {
            basic_rsm "TestBasic4A"
                "Ten increments submitted one by one; each returns the next count, on every server.";
            concurrent_rsm "TestConcurrent4A"
                "Fifty increments submitted at once all apply, once each, on every server.";
            leader_failure_rsm "TestLeaderFailure4A"
                "The leader is cut off: the rest go on; when it returns it catches up.";
            leader_partition_rsm "TestLeaderPartition4A"
                "A leader in the minority never returns OK for what it is given; after healing every submit returns.";
            restart_replay_rsm "TestRestartReplay4A"
                "After 100 increments every server restarts and replays its log to the same count.";
            shutdown_rsm "TestShutdown4A"
                "Submits pending when every server is shut down return promptly.";
            restart_submit_rsm "TestRestartSubmit4A"
                "Operations submitted before and after restarts are not confused with each other.";
            snapshot_rsm "TestSnapshot4C"
                "Every server snapshots, its log stays small, and it restarts from its snapshot (maxraftstate 64: the course's 1000 bytes of gob).";
        }

        /// 3A: a key/value service without snapshots.
        part kv_3a "3A", 4 points each {
            basic_3a "TestBasic3A"
                "One client, five servers, no faults: every Get sees the client's own Appends.";
            speed_3a "TestSpeed3A"
                "1000 Appends by one client take at most 33.3 ms each on average (virtual time).";
            concurrent_3a "TestConcurrent3A"
                "Five clients at once, no faults.";
            unreliable_3a "TestUnreliable3A"
                "Five clients on an unreliable network: retried requests take effect once.";
            unreliable_one_key_3a "TestUnreliableOneKey3A"
                "Five clients append to one key on an unreliable network: every append appears once, in each client's order.";
            one_partition_3a "TestOnePartition3A"
                "The majority makes progress; a leader in the minority serves nothing until the partition heals.";
            many_partitions_one_client_3a "TestManyPartitionsOneClient3A"
                "One client while the servers are split at random every second or so.";
            many_partitions_many_clients_3a "TestManyPartitionsManyClients3A"
                "Five clients while the servers are split at random every second or so.";
            persist_one_client_3a "TestPersistOneClient3A"
                "One client; all servers restart after each round.";
            persist_concurrent_3a "TestPersistConcurrent3A"
                "Five clients; all servers restart after each round.";
            persist_concurrent_unreliable_3a "TestPersistConcurrentUnreliable3A"
                "Five clients on an unreliable network; all servers restart after each round.";
            persist_partition_3a "TestPersistPartition3A"
                "Five clients, random partitions, all servers restart after each round.";
            persist_partition_unreliable_3a "TestPersistPartitionUnreliable3A"
                "Five clients, unreliable network, random partitions, restarts.";
            persist_partition_unreliable_linearizable_3a "TestPersistPartitionUnreliableLinearizable3A"
                "Fifteen clients on random keys, seven servers, every fault: the history must be linearizable.";
        }

        /// 3B: the key/value service with snapshots.
        part kv_3b "3B", 4 points each {
            snapshot_rpc_3b "TestSnapshotRPC3B"
                "A server that fell behind catches up through InstallSnapshot; the majority trims its log.";
            snapshot_size_3b "TestSnapshotSize3B"
                "400 writes to one key: the log stays under 8 × maxraftstate and the snapshot under 190 bytes (the course's 500 of gob).";
            speed_3b "TestSpeed3B"
                "1000 Appends with snapshots on take at most 33.3 ms each on average (virtual time).";
            snapshot_recover_3b "TestSnapshotRecover3B"
                "One client; all servers restart from their snapshots after each round.";
            snapshot_recover_many_clients_3b "TestSnapshotRecoverManyClients3B"
                "Twenty clients; all servers restart from their snapshots after each round.";
            snapshot_unreliable_3b "TestSnapshotUnreliable3B"
                "Five clients on an unreliable network, with snapshots.";
            snapshot_unreliable_recover_3b "TestSnapshotUnreliableRecover3B"
                "Five clients, unreliable network, restarts from snapshots.";
            snapshot_unreliable_recover_concurrent_partition_3b "TestSnapshotUnreliableRecoverConcurrentPartition3B"
                "Five clients, unreliable network, random partitions, restarts from snapshots.";
            snapshot_unreliable_recover_concurrent_partition_linearizable_3b "TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B"
                "Fifteen clients on random keys, seven servers, every fault, snapshots: the history must be linearizable.";
        }

        /// 3X (beyond the course): the key/value service with faults at the worst moments.
        part kv_3x "3X", 4 points each {
            stale_requests_take_effect_once_3x ""
                "Clerk requests reach their server again up to 2 s later, after newer ones: each takes effect once.";
            replies_survive_crash_after_reply_3x ""
                "Servers crash the instant a reply to a clerk leaves and restart from their persisters: what they answered stays done, once.";
            retries_straddle_snapshot_and_restart_3x ""
                "Every server restarts every second while clerks retry lost replies: a retry is recognised from the restored snapshot.";
            deposed_leader_releases_clerks_3x ""
                "A leader cut off from the servers but not the clerks is replaced: every operation waiting on it completes within 1 s.";
        }

        /// 3C (beyond the course): the key/value service on the Raft of 2E and 2F: Gets by
        /// ReadIndex, and a cluster that changes its members.
        part kv_3c "3C", 4 points each {
            reads_do_not_grow_the_log_3c ""
                "500 Gets and no write: the saved Raft state grows by at most 100 bytes (Gets by ReadIndex write no log entry).";
            deposed_leader_serves_no_stale_read_3c ""
                "A leader cut off after a new one committed a Put answers no Get for 2 s: never the stale value.";
            reads_under_partitions_linearizable_3c ""
                "Five clients on random keys, unreliable network, random partitions, Gets by ReadIndex: the history must be linearizable.";
            reads_with_restarts_and_snapshots_linearizable_3c ""
                "As the partitions test, with snapshots and all servers restarting after each round: linearizable.";
            membership_changes_while_clients_run_3c ""
                "Ten additions, removals and replacements of servers while five clients run: every change in force within 5 s, linearizable.";
        }
        }
    };
}

/// Hands the list of sharded key/value tests (Lab 4) to the macro `callback`, in the same
/// form as [`raft_suite!`]. The course's names are the 2022 course's, which carry no part.
#[macro_export]
macro_rules! shard_suite {
    ($($callback:ident)::+) => {
        $($callback)::+! {
        /// Every sharded key/value test, in the course's order.
        pub const SHARD;

        /// 4A: the shard controller.
        part shardctrler_4a "4A", 10 points each {
            basic_4a "TestBasic"
                "Joins and leaves, historical queries across restarts, Move, concurrent joins and leaves, minimal transfers: configurations are right and balanced.";
            multi_4a "TestMulti"
                "As basic, with several groups per Join and Leave; a new leader answers with the same configuration.";
        }

        /// 4B: the sharded key/value service.
        part shardkv_4b "4B", 8 points each {
            static_shards_4b "TestStaticShards"
                "Two groups, no movement: with one group down exactly the Gets of its five shards hang.";
            join_leave_4b "TestJoinLeave"
                "Data follows its shards as a second group joins and the first leaves; the first can then be shut down.";
            snapshot_4b "TestSnapshot"
                "Joins and leaves with snapshots on; every group restarts from its snapshots and still has everything.";
            miss_change_4b "TestMissChange"
                "A server of each group is down while configurations change; it catches up when it restarts.";
            concurrent1_4b "TestConcurrent1"
                "Ten clients append while groups join, leave, shut down and restart.";
            concurrent2_4b "TestConcurrent2"
                "Ten clients append while groups join and leave three times and two groups restart: data comes from every source.";
            concurrent3_4b "TestConcurrent3"
                "Ten clients append without pause for 12 s of joins, leaves and whole-system restarts.";
            unreliable1_4b "TestUnreliable1"
                "Joins and leaves on an unreliable network, one client checking and appending.";
            unreliable2_4b "TestUnreliable2"
                "Ten clients append on an unreliable network while groups join and leave.";
            unreliable3_4b "TestUnreliable3"
                "Ten clients on random keys, unreliable network, joins and leaves: the history must be linearizable.";
        }

        /// 4C: the course's challenges.
        part shardkv_4c "4C", 5 points each {
            challenge1_delete_4c "TestChallenge1Delete"
                "Groups delete the shards they gave away: after many moves of 30 kB of values, all persisters together hold under 117 kB.";
            challenge2_unaffected_4c "TestChallenge2Unaffected"
                "Shards a group already had are served while the rest of its migration is stuck on a dead group.";
            challenge2_partial_4c "TestChallenge2Partial"
                "Shards a group has received are served before the rest of its migration completes.";
        }

        /// 4X (beyond the course): the sharded service with faults at the worst moments.
        part shardkv_4x "4X", 4 points each {
            stale_requests_during_migrations_4x ""
                "Requests of every kind reach their server again up to 2 s later while shards move: each takes effect once.";
            replies_survive_crash_after_reply_4x ""
                "Servers crash the instant a reply leaves, during migrations, and restart from their persisters: nothing answered is lost or done twice.";
            group_misses_several_configurations_4x ""
                "A group down during four configuration changes goes through each, in order, when it returns.";
            controller_leader_change_mid_rebalance_4x ""
                "The controller's leader is shut down during each Join and Leave: each change takes effect once, and the groups follow.";
            clients_retry_across_a_shard_move_4x ""
                "Clients retry lost writes while single shards move between groups: each write is applied once.";
            minimal_transfers_4x ""
                "Joins and Leaves of up to twelve groups: shards move only to joining groups or from leaving ones, and stay balanced.";
        }
        }
    };
}

/// Turns a suite's list (see [`raft_suite!`]) into a `const` slice of [`Test`]s, checking
/// every name at compile time.
#[doc(hidden)]
#[macro_export]
macro_rules! catalogue_const {
    (
        $(#[$catalogue_doc:meta])*
        pub const $catalogue:ident;
        $(
            $(#[$part_doc:meta])*
            part $target:ident $part:literal, $points:literal points each {
                $( $name:ident $course_name:literal $description:literal; )*
            }
        )*
    ) => {
        $(#[$catalogue_doc])*
        pub const $catalogue: &[$crate::Test] = &[
            $($(
                $crate::Test {
                    part: $part,
                    name: stringify!($name),
                    course_name: $course_name,
                    target: stringify!($target),
                    points: $points,
                    time_limit: $crate::TEST_TIME_LIMIT,
                    description: $description,
                },
            )*)*
        ];

        $($(
            const _: () = $crate::check_names(stringify!($name), $part, $course_name);
        )*)*
    };
}

raft_suite!(catalogue_const);
strict_suite!(catalogue_const);
kv_suite!(catalogue_const);
shard_suite!(catalogue_const);

/// Every listed test of every suite, in order: Lab 2, the Raft tests beyond the course,
/// Lab 3, then Lab 4.
pub fn all() -> impl Iterator<Item = &'static Test> {
    RAFT.iter().chain(STRICT).chain(KV).chain(SHARD)
}

/// The listed test named `name` (e.g. `"initial_election_2a"`), if any.
pub fn find(name: &str) -> Option<&'static Test> {
    all().find(|test| test.name == name)
}

/// The parts, in the order their tests are listed (`["2A", "2B", "2C", "2D", "2X", "2E",
/// "2F", "RSM", "3A", "3B", "3X", "3C", "4A", "4B", "4C", "4X"]`).
pub fn parts() -> Vec<&'static str> {
    let mut parts: Vec<&'static str> = Vec::new();
    for test in all() {
        if !parts.contains(&test.part) {
            parts.push(test.part);
        }
    }
    parts
}

/// Fails the build unless `name` ends with `_<part>` and, ignoring case and underscores, the
/// rest of it is `course_name` without its leading `Test` and its trailing course part
/// (`initial_election_2a` and `TestInitialElection2A`, `rpc_bytes_2b` and `TestRPCBytes2B`,
/// `basic_rsm` and `TestBasic4A`), or all of it after `Test` if it has no part
/// (`concurrent1_4b` and `TestConcurrent1`). A test beyond the course has no course name
/// (`""`): only its suffix is checked.
pub const fn check_names(name: &str, part: &str, course_name: &str) {
    let (name, part, course) = (name.as_bytes(), part.as_bytes(), course_name.as_bytes());
    // The suffix `_<part>`.
    assert!(
        name.len() > part.len() + 1 && name[name.len() - part.len() - 1] == b'_',
        "a registered test's name must end with _<part>, e.g. initial_election_2a"
    );
    let mut k = 0;
    while k < part.len() {
        assert!(
            name[name.len() - part.len() + k].eq_ignore_ascii_case(&part[k]),
            "a registered test's name must end with its part, e.g. initial_election_2a in 2A"
        );
        k += 1;
    }
    if course.is_empty() {
        return;
    }
    let stem_len = name.len() - part.len() - 1;
    // The course's name: `Test`, the stem, then its part (a digit and a letter).
    let prefix = b"Test";
    assert!(
        course.len() > prefix.len() + 2,
        "a course name is Test<Name><part>"
    );
    let mut k = 0;
    while k < prefix.len() {
        assert!(course[k] == prefix[k], "a course name starts with Test");
        k += 1;
    }
    let mut course_end = course.len();
    // A course part is one digit and one capital letter (`2A`): `TestPersist12C` is
    // `persist1` in part 2C. The 2022 course's Lab 4 names carry none (`TestBasic`,
    // `TestConcurrent1`).
    if course[course_end - 1].is_ascii_uppercase() && course[course_end - 2].is_ascii_digit() {
        course_end -= 2;
    }
    let (mut i, mut j) = (0, prefix.len());
    while i < stem_len {
        if name[i] == b'_' {
            i += 1;
            continue;
        }
        assert!(
            j < course_end && name[i].eq_ignore_ascii_case(&course[j]),
            "a registered test's name must be its course name in snake case, e.g. \
             initial_election_2a for TestInitialElection2A"
        );
        i += 1;
        j += 1;
    }
    assert!(
        j == course_end,
        "a registered test's name must be its course name in snake case, e.g. \
         initial_election_2a for TestInitialElection2A"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_has_a_measured_cpu_budget() {
        for test in all() {
            assert!(
                REFERENCE_SLOWEST_CPU_MS
                    .iter()
                    .any(|(name, ms)| *name == test.name && *ms > 0),
                "{} has no measured CPU time in REFERENCE_SLOWEST_CPU_MS",
                test.name
            );
        }
        assert_eq!(REFERENCE_SLOWEST_CPU_MS.len(), all().count());
        assert_eq!(cpu_budget("initial_election_2a"), CPU_BUDGET_FLOOR);
        assert_eq!(
            cpu_budget("snapshot_recover_many_clients_3b"),
            Duration::from_millis(791) * CPU_BUDGET_MULTIPLE
        );
    }
}
