//! Operations whose outcome is unknown (`ret` = NEVER_RETURNED) and the register with
//! compare-and-swap: the checker's verdicts against a brute-force search over every order
//! of small random histories. The search tries such operations last and prunes
//! configurations that only add some of them to one already explored; this checks that
//! neither ever changes a verdict.

use linearizability::kv::{KvInput, KvModel, KvOutput};
use linearizability::register::{CasInput, CasOutput, CasRegisterModel};
use linearizability::{Budget, Model, NEVER_RETURNED, Operation, Verdict, check, check_verbose};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Whether some order of `history` respects real time (an operation that returned before
/// another was called comes first) and the model: tries every order.
fn brute_force<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> bool {
    fn extend<M: Model>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        state: &M::State,
        used: &mut Vec<bool>,
        placed: usize,
    ) -> bool {
        if placed == history.len() {
            return true;
        }
        for i in 0..history.len() {
            if used[i] {
                continue;
            }
            // `i` may go next only if no pending operation returned before its call.
            let blocked =
                (0..history.len()).any(|j| !used[j] && j != i && history[j].ret < history[i].call);
            if blocked {
                continue;
            }
            if let Some(next) = model.step(state, &history[i].input, &history[i].output) {
                used[i] = true;
                let found = extend(model, history, &next, used, placed + 1);
                used[i] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    extend(
        model,
        history,
        &model.init(),
        &mut vec![false; history.len()],
        0,
    )
}

/// A random register history: up to 7 operations of 3 clients over a few values, some
/// timing out. The outputs are random too, so that about half the histories are illegal.
fn register_history(rng: &mut Xoshiro256PlusPlus) -> Vec<Operation<CasInput, CasOutput>> {
    let len = rng.random_range(1..=7);
    let mut free_at = [0u64; 3];
    let mut history = Vec::new();
    for _ in 0..len {
        let client = rng.random_range(0..3);
        let call = free_at[client] + rng.random_range(0..4);
        let value = |rng: &mut Xoshiro256PlusPlus| rng.random_range(0..3);
        let input = match rng.random_range(0..3) {
            0 => CasInput::Read,
            1 => CasInput::Write(value(rng)),
            _ => CasInput::Cas {
                from: value(rng),
                to: value(rng),
            },
        };
        let unknown = !matches!(input, CasInput::Read) && rng.random_ratio(1, 4);
        let output = if unknown {
            CasOutput::Unknown
        } else {
            match input {
                CasInput::Read if rng.random_ratio(1, 4) => CasOutput::Value(None),
                CasInput::Read => CasOutput::Value(Some(value(rng))),
                CasInput::Write(_) => CasOutput::Written,
                CasInput::Cas { .. } => CasOutput::Swapped(rng.random_ratio(1, 2)),
            }
        };
        let ret = if unknown {
            // The client gave up: it is free again, but the operation never returned.
            free_at[client] = call + rng.random_range(1..6);
            NEVER_RETURNED
        } else {
            let ret = call + rng.random_range(0..6);
            free_at[client] = ret + 1;
            ret
        };
        history.push(Operation {
            client,
            input,
            output,
            call,
            ret,
        });
    }
    history
}

#[test]
fn cas_register_verdicts_match_a_brute_force_search() {
    let mut seen = [0usize; 2];
    for seed in 0..3000 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let history = register_history(&mut rng);
        let expected = if brute_force(&CasRegisterModel, &history) {
            Verdict::Ok
        } else {
            Verdict::Illegal
        };
        let report = check(&CasRegisterModel, &history, Budget::default());
        assert_eq!(report.verdict, expected, "seed {seed}: {history:?}");
        assert_eq!(
            check_verbose(&CasRegisterModel, &history, Budget::default()).0,
            expected,
            "seed {seed}"
        );
        seen[usize::from(expected == Verdict::Ok)] += 1;
    }
    // Both verdicts are well represented, so the comparison means something.
    assert!(seen[0] > 300 && seen[1] > 300, "illegal/legal: {seen:?}");
}

#[test]
fn appends_of_unknown_outcome_match_a_brute_force_search() {
    let mut seen = [0usize; 2];
    for seed in 0..2000 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xa99e);
        let len = rng.random_range(1..=7);
        let mut history = Vec::new();
        let mut appended = String::new();
        for i in 0..len {
            let call = rng.random_range(0..12);
            let client = i;
            if rng.random_ratio(1, 2) {
                let token = ["a", "b", "c"][rng.random_range(0..3)];
                appended.push_str(token);
                let ret = if rng.random_ratio(1, 3) {
                    NEVER_RETURNED
                } else {
                    call + rng.random_range(0..6)
                };
                history.push(Operation {
                    client,
                    input: KvInput::Append {
                        key: "k".into(),
                        value: token.into(),
                    },
                    output: KvOutput::default(),
                    call,
                    ret,
                });
            } else {
                // A prefix of what was appended so far, sometimes mangled.
                let mut value: String = appended
                    .chars()
                    .take(rng.random_range(0..=appended.len()))
                    .collect();
                if rng.random_ratio(1, 4) {
                    value.push('a');
                }
                history.push(Operation {
                    client,
                    input: KvInput::Get { key: "k".into() },
                    output: KvOutput { value },
                    call,
                    ret: call + rng.random_range(0..6),
                });
            }
        }
        let expected = if brute_force(&KvModel, &history) {
            Verdict::Ok
        } else {
            Verdict::Illegal
        };
        assert_eq!(
            check(&KvModel, &history, Budget::default()).verdict,
            expected,
            "seed {seed}: {history:?}"
        );
        seen[usize::from(expected == Verdict::Ok)] += 1;
    }
    assert!(seen[0] > 200 && seen[1] > 200, "illegal/legal: {seen:?}");
}

#[test]
fn a_read_explained_only_by_a_write_that_timed_out_is_legal() {
    let history = [
        Operation {
            client: 0,
            input: CasInput::Write(1),
            output: CasOutput::Unknown,
            call: 0,
            ret: NEVER_RETURNED,
        },
        Operation {
            client: 1,
            input: CasInput::Read,
            output: CasOutput::Value(Some(1)),
            call: 10,
            ret: 20,
        },
        Operation {
            client: 1,
            input: CasInput::Cas { from: 1, to: 2 },
            output: CasOutput::Swapped(true),
            call: 30,
            ret: 40,
        },
    ];
    assert_eq!(
        check(&CasRegisterModel, &history, Budget::default()),
        Verdict::Ok
    );
    // Without the write, the read of 1 is impossible: the register is absent.
    assert_eq!(
        check(&CasRegisterModel, &history[1..], Budget::default()),
        Verdict::Illegal
    );
    // A failed compare-and-swap is legal only if the value was not the expected one.
    let failed = [Operation {
        client: 0,
        input: CasInput::Cas { from: 5, to: 6 },
        output: CasOutput::Swapped(false),
        call: 0,
        ret: 1,
    }];
    assert_eq!(
        check(&CasRegisterModel, &failed, Budget::default()),
        Verdict::Ok
    );
}
