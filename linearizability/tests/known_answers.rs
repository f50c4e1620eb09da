//! Small histories whose answer is known by hand.

use linearizability::kv::{KvInput, KvModel, KvOutput};
use linearizability::register::{RegisterInput, RegisterModel};
use linearizability::{Budget, Operation, Options, Verdict, check, check_verbose, check_with};

const BUDGET: Budget = Budget::Steps(1_000_000);

fn get(client: usize, key: &str, value: &str, call: u64, ret: u64) -> Operation<KvInput, KvOutput> {
    Operation {
        client,
        input: KvInput::Get { key: key.into() },
        output: KvOutput {
            value: value.into(),
        },
        call,
        ret,
    }
}

fn put(client: usize, key: &str, value: &str, call: u64, ret: u64) -> Operation<KvInput, KvOutput> {
    Operation {
        client,
        input: KvInput::Put {
            key: key.into(),
            value: value.into(),
        },
        output: KvOutput::default(),
        call,
        ret,
    }
}

fn append(
    client: usize,
    key: &str,
    value: &str,
    call: u64,
    ret: u64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client,
        input: KvInput::Append {
            key: key.into(),
            value: value.into(),
        },
        output: KvOutput::default(),
        call,
        ret,
    }
}

fn write(client: usize, value: i64, call: u64, ret: u64) -> Operation<RegisterInput, i64> {
    Operation {
        client,
        input: RegisterInput::Write(value),
        output: 0,
        call,
        ret,
    }
}

fn read(client: usize, value: i64, call: u64, ret: u64) -> Operation<RegisterInput, i64> {
    Operation {
        client,
        input: RegisterInput::Read,
        output: value,
        call,
        ret,
    }
}

fn kv(history: &[Operation<KvInput, KvOutput>]) -> Verdict {
    let verdict = check(&KvModel, history, BUDGET).verdict;
    // The verbose check must always agree.
    assert_eq!(check_verbose(&KvModel, history, BUDGET).0, verdict);
    verdict
}

fn register(history: &[Operation<RegisterInput, i64>]) -> Verdict {
    let verdict = check(&RegisterModel, history, BUDGET).verdict;
    assert_eq!(check_verbose(&RegisterModel, history, BUDGET).0, verdict);
    verdict
}

#[test]
fn an_empty_history_is_linearizable() {
    assert_eq!(kv(&[]), Verdict::Ok);
    let (verdict, explanation) = check_verbose(&KvModel, &[], BUDGET);
    assert_eq!(verdict, Verdict::Ok);
    assert!(explanation.partitions.is_empty());
}

#[test]
fn a_sequential_run_is_linearizable() {
    let history = [
        get(0, "x", "", 0, 1),
        put(1, "x", "a", 2, 3),
        append(0, "x", "b", 4, 5),
        get(2, "x", "ab", 6, 7),
        append(1, "y", "c", 8, 9),
        get(0, "y", "c", 10, 11),
        get(1, "x", "ab", 12, 13),
    ];
    assert_eq!(kv(&history), Verdict::Ok);
}

#[test]
fn a_stale_read_is_illegal() {
    let history = [put(0, "x", "1", 0, 10), get(1, "x", "", 20, 30)];
    assert_eq!(kv(&history), Verdict::Illegal);
}

#[test]
fn a_lost_append_is_illegal() {
    let history = [
        append(0, "x", "a", 0, 10),
        append(1, "x", "b", 20, 30),
        get(2, "x", "a", 40, 50),
    ];
    assert_eq!(kv(&history), Verdict::Illegal);
}

#[test]
fn a_duplicated_append_is_illegal() {
    let history = [append(0, "x", "a", 0, 10), get(1, "x", "aa", 20, 30)];
    assert_eq!(kv(&history), Verdict::Illegal);
}

#[test]
fn touching_intervals_may_be_ordered_either_way() {
    // The put returns at the very instant the get is called: either may come first.
    assert_eq!(
        kv(&[put(0, "x", "1", 0, 10), get(1, "x", "", 10, 20)]),
        Verdict::Ok
    );
    assert_eq!(
        kv(&[put(0, "x", "1", 0, 10), get(1, "x", "1", 10, 20)]),
        Verdict::Ok
    );
    // Listed the other way round, the same holds.
    assert_eq!(
        kv(&[get(1, "x", "", 10, 20), put(0, "x", "1", 0, 10)]),
        Verdict::Ok
    );
}

#[test]
fn a_read_strictly_after_a_write_must_see_it() {
    assert_eq!(
        kv(&[put(0, "x", "1", 0, 10), get(1, "x", "", 11, 20)]),
        Verdict::Illegal
    );
    assert_eq!(
        kv(&[put(0, "x", "1", 0, 10), get(1, "x", "1", 11, 20)]),
        Verdict::Ok
    );
}

#[test]
fn concurrent_operations_are_reordered_when_needed() {
    // The write called last must take effect first.
    let history = [
        write(0, 1, 0, 100),
        write(1, 2, 10, 90),
        read(2, 1, 95, 120),
    ];
    assert_eq!(register(&history), Verdict::Ok);
    // Two concurrent writes, read in the order opposite to their calls.
    let history = [
        write(0, 1, 0, 100),
        write(1, 2, 0, 100),
        read(2, 2, 50, 60),
        read(2, 1, 70, 80),
    ];
    assert_eq!(register(&history), Verdict::Ok);
    // ...but a value cannot come back once overwritten.
    let history = [
        write(0, 1, 0, 100),
        write(1, 2, 0, 100),
        read(2, 1, 50, 60),
        read(2, 2, 70, 80),
        read(2, 1, 85, 95),
    ];
    assert_eq!(register(&history), Verdict::Illegal);
}

#[test]
fn concurrent_appends_take_effect_in_one_order_for_everyone() {
    let history = [
        append(0, "x", "a", 0, 100),
        append(1, "x", "b", 0, 100),
        get(2, "x", "ba", 50, 150),
        get(3, "x", "b", 10, 60),
    ];
    assert_eq!(kv(&history), Verdict::Ok);
    let history = [
        append(0, "x", "a", 0, 100),
        append(1, "x", "b", 0, 100),
        get(2, "x", "ba", 110, 150),
        get(3, "x", "ab", 110, 150),
    ];
    assert_eq!(kv(&history), Verdict::Illegal);
}

#[test]
fn appends_that_return_before_the_read_of_their_order_are_not_tried_in_every_order() {
    // Ten overlapping appends, all returned before the Get that reads them in an order
    // other than their calls': every other order must be ruled out as soon as it departs
    // from the Get's value (as the lab's histories need), not once all ten are placed
    // (10! orders, far past the budget).
    let mut history: Vec<_> = (0..10)
        .map(|i| append(i, "x", &format!("[{i}]"), 0, 1000 + i as u64))
        .collect();
    let read: String = (0..10).rev().map(|i| format!("[{i}]")).collect();
    history.push(get(10, "x", &read, 2000, 2010));
    let report = check(&KvModel, &history, Budget::default());
    assert_eq!(report, Verdict::Ok);
    assert!(report.max_steps < 1_000, "{report}");
    // Without the first append's value (it returned before the Get was called), no order
    // fits, and that is found just as fast.
    let missing_first: String = (1..10).rev().map(|i| format!("[{i}]")).collect();
    history.last_mut().expect("the Get").output.value = missing_first;
    let report = check(&KvModel, &history, Budget::default());
    assert_eq!(report, Verdict::Illegal);
    assert!(report.max_steps < 1_000, "{report}");
}

#[test]
fn one_bad_key_makes_the_history_illegal_and_is_named() {
    let history = [
        put(0, "a", "1", 0, 10),
        get(1, "a", "1", 20, 30),
        put(0, "b", "1", 0, 10),
        get(1, "b", "", 20, 30),
        append(2, "c", "z", 5, 15),
        get(2, "c", "z", 16, 17),
    ];
    assert_eq!(kv(&history), Verdict::Illegal);
    let (_, explanation) = check_verbose(&KvModel, &history, BUDGET);
    let names: Vec<&str> = explanation
        .partitions
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, [r#"key "a""#, r#"key "b""#, r#"key "c""#]);
    let illegal: Vec<_> = explanation.illegal_partitions().collect();
    assert_eq!(illegal.len(), 1);
    let bad = illegal[0];
    assert_eq!(bad.name, r#"key "b""#);
    assert_eq!(bad.ops, [2, 3]);
    // The put fits; the stale get cannot follow it.
    let longest = bad.longest().expect("the search ran");
    assert_eq!(longest.steps.iter().map(|s| s.op).collect::<Vec<_>>(), [2]);
    assert_eq!(longest.steps[0].state_after, r#""1""#);
    assert_eq!(bad.blocked(), Some(3));
    assert_eq!(bad.longest_for_op, [Some(0), None]);
}

#[test]
fn a_legal_partition_is_explained_by_a_complete_linearization() {
    let history = [
        write(0, 1, 0, 100),
        write(1, 2, 10, 90),
        read(2, 1, 95, 120),
    ];
    let (verdict, explanation) = check_verbose(&RegisterModel, &history, BUDGET);
    assert_eq!(verdict, Verdict::Ok);
    let part = &explanation.partitions[0];
    assert_eq!(part.name, "partition 0");
    assert_eq!(part.linearizations.len(), 1);
    let order: Vec<usize> = part.linearizations[0].steps.iter().map(|s| s.op).collect();
    assert_eq!(order, [1, 0, 2]);
    let states: Vec<&str> = part.linearizations[0]
        .steps
        .iter()
        .map(|s| s.state_after.as_str())
        .collect();
    assert_eq!(states, ["2", "1", "1"]);
    assert_eq!(part.blocked(), None);
}

/// Many concurrent appends, then a read that no order of them explains, while a Put called
/// after them is still in flight: refuting the read means trying every order of the
/// appends. (The read returns the Put's value followed by all the appended values but the
/// last, so only the search can refute it; and since the Put may come before the read and
/// begins the value read, no order of the appends can be ruled out before it is tried.)
fn hard_history(key: &str, appends: usize) -> Vec<Operation<KvInput, KvOutput>> {
    hard_history_reading(key, appends, |appended| {
        appended[..appended.len() - 1].concat()
    })
}

/// [`hard_history`], with the read returning the Put's value followed by `tail` of the
/// appended values.
fn hard_history_reading(
    key: &str,
    appends: usize,
    tail: impl Fn(&[String]) -> String,
) -> Vec<Operation<KvInput, KvOutput>> {
    let appended: Vec<String> = (0..appends).map(|i| format!("[{i}]")).collect();
    let mut history: Vec<_> = appended
        .iter()
        .enumerate()
        .map(|(i, value)| append(i, key, value, 0, 1000))
        .collect();
    history.push(put(appends, key, "#", 1500, 3000));
    history.push(get(
        appends + 1,
        key,
        &format!("#{}", tail(&appended)),
        2000,
        2010,
    ));
    history
}

#[test]
fn a_step_budget_gives_the_same_unknown_every_time() {
    let history = hard_history("x", 14);
    let first = check_verbose(&KvModel, &history, Budget::Steps(2_000));
    assert_eq!(first.0, Verdict::Unknown);
    for _ in 0..20 {
        assert_eq!(
            check(&KvModel, &history, Budget::Steps(2_000)),
            Verdict::Unknown
        );
        assert_eq!(
            check_verbose(&KvModel, &history, Budget::Steps(2_000)),
            first
        );
    }
}

#[test]
fn a_step_budget_is_per_partition_whatever_the_thread_timing() {
    // A hard key beside an easy illegal one: always illegal.
    let mut history = hard_history("hard", 14);
    history.extend([put(0, "easy", "1", 0, 10), get(1, "easy", "", 20, 30)]);
    // A hard key beside easy legal ones: always unknown.
    let mut unsettled = hard_history("hard", 14);
    unsettled.extend([put(0, "easy", "1", 0, 10), get(1, "easy", "1", 20, 30)]);
    for _ in 0..20 {
        assert_eq!(
            check(&KvModel, &history, Budget::Steps(2_000)),
            Verdict::Illegal
        );
        assert_eq!(
            check(&KvModel, &unsettled, Budget::Steps(2_000)),
            Verdict::Unknown
        );
    }
    let (_, explanation) = check_verbose(&KvModel, &unsettled, Budget::Steps(2_000));
    let verdicts: Vec<Verdict> = explanation.partitions.iter().map(|p| p.verdict).collect();
    assert_eq!(verdicts, [Verdict::Ok, Verdict::Unknown]);
}

#[test]
fn a_small_hard_history_is_settled_without_a_budget() {
    assert_eq!(
        check(&KvModel, &hard_history("x", 6), Budget::Unlimited),
        Verdict::Illegal
    );
}

#[test]
fn a_time_budget_settles_easy_histories_and_gives_up_on_hard_ones() {
    let easy = [put(0, "x", "1", 0, 10), get(1, "x", "1", 20, 30)];
    assert_eq!(
        check(
            &KvModel,
            &easy,
            Budget::Time(std::time::Duration::from_secs(60))
        ),
        Verdict::Ok
    );
    let hard = hard_history("x", 16);
    assert_eq!(
        check(&KvModel, &hard, Budget::Time(std::time::Duration::ZERO)),
        Verdict::Unknown
    );
}

#[test]
#[should_panic(expected = "returns (5) before its call (10)")]
fn an_operation_returning_before_its_call_is_rejected() {
    check(&KvModel, &[get(0, "x", "", 10, 5)], BUDGET);
}

#[test]
fn a_report_gives_the_steps_and_an_unknown_says_how_to_raise_the_budget() {
    let history = hard_history("x", 14);
    let report = check(&KvModel, &history, Budget::Steps(2_000));
    assert_eq!(report, Verdict::Unknown);
    // The budget bounds each partition's steps; the search stops on the step past it.
    assert_eq!(report.max_steps, 2_001);
    assert_eq!(report.total_steps, 2_001);
    assert_eq!(report.partitions, 1);
    assert_eq!(report.exhausted, [r#"key "x""#]);
    let text = report.to_string();
    assert!(
        text.contains("budget of 2000 steps per partition ran out on key \"x\""),
        "{text}"
    );
    assert!(text.contains("Budget::Steps(20000)"), "{text}");

    // A settled check reports the steps it took, the same every time.
    let easy = [put(0, "x", "1", 0, 10), get(1, "x", "1", 20, 30)];
    let report = check(&KvModel, &easy, Budget::default());
    assert_eq!(report, Verdict::Ok);
    assert!(report.max_steps >= 1 && report.max_steps <= 10, "{report}");
    assert_eq!(check(&KvModel, &easy, Budget::default()), report);
    assert_eq!(Budget::default(), Budget::Steps(Budget::DEFAULT_STEPS));
}

#[test]
fn the_verbose_check_stops_like_the_check_once_a_partition_is_illegal() {
    // Without a budget, the hard key alone would take very long to refute: the easy
    // illegal key must settle the verdict and stop it, as in `check`.
    let mut history = hard_history("hard", 18);
    history.extend([put(0, "easy", "1", 0, 10), get(1, "easy", "", 20, 30)]);
    let (verdict, explanation) = check_verbose(&KvModel, &history, Budget::Unlimited);
    assert_eq!(verdict, Verdict::Illegal);
    let by_name = |name: &str| {
        explanation
            .partitions
            .iter()
            .find(|p| p.name == name)
            .expect("the partition is listed")
    };
    let easy = by_name(r#"key "easy""#);
    assert!(easy.searched);
    assert_eq!(easy.blocked(), Some(history.len() - 1));
    let hard = by_name(r#"key "hard""#);
    assert!(!hard.searched);
    assert!(hard.linearizations.is_empty());
}

#[test]
fn the_thread_count_never_changes_a_report_under_a_step_budget() {
    // Enough operations (on 201 keys) for the check to start threads.
    let mut history = hard_history("hard", 14);
    for key in 0..200 {
        let key = format!("k{key}");
        history.extend([append(0, &key, "x", 0, 10), get(1, &key, "x", 20, 30)]);
    }
    let reports: Vec<_> = [1, 2, 3, 0]
        .into_iter()
        .map(|threads| {
            check_with(
                &KvModel,
                &history,
                Options {
                    budget: Budget::Steps(2_000),
                    threads,
                },
            )
        })
        .collect();
    assert_eq!(reports[0], Verdict::Unknown);
    assert_eq!(reports[0].partitions, 201);
    for report in &reports[1..] {
        assert_eq!(report, &reports[0]);
    }
}

#[test]
fn a_read_of_a_value_never_written_is_illegal_even_when_the_budget_runs_out() {
    // The same concurrent appends, but the read returns a value no order of them can
    // make: once the search runs out of budget, that read settles the verdict.
    let history = hard_history_reading("x", 14, |appended| {
        format!("{}{}#fresh#", appended[0], appended[1])
    });
    let read = history.len() - 1;
    let report = check(&KvModel, &history, Budget::Steps(2_000));
    assert_eq!(report, Verdict::Illegal);
    assert_eq!(report.max_steps, 2_001);
    // The explanation names that read as the one that cannot be placed.
    let (verdict, explanation) = check_verbose(&KvModel, &history, Budget::Steps(2_000));
    assert_eq!(verdict, Verdict::Illegal);
    assert_eq!(explanation.partitions[0].blocked(), Some(read));
}

/// A key-value model whose Get on key "boom" panics.
struct Exploding;

impl linearizability::Model for Exploding {
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        assert_ne!(input, &KvInput::Get { key: "boom".into() }, "boom");
        KvModel.step(state, input, output)
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        linearizability::Model::partition(&KvModel, history)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        KvModel.describe_operation(input, output)
    }

    fn describe_state(&self, state: &String) -> String {
        KvModel.describe_state(state)
    }
}

#[test]
#[should_panic(expected = "boom")]
fn a_model_that_panics_on_a_worker_thread_fails_the_check_instead_of_hanging_it() {
    // Enough operations (on 201 keys) for the check to start threads.
    let mut history = vec![put(0, "boom", "1", 0, 10), get(1, "boom", "1", 20, 30)];
    for key in 0..200 {
        let key = format!("k{key}");
        history.extend([append(0, &key, "x", 0, 10), get(1, &key, "x", 20, 30)]);
    }
    check_with(
        &Exploding,
        &history,
        Options {
            budget: BUDGET,
            threads: 2,
        },
    );
}
