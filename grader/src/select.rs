//! Which tests and seeds to run: `--part`, `--test`, `--seeds`, `--seed`, `--shard`.

use crate::cli::Shard;
use crate::compile::Implementation;

/// The tests `parts` and `names` select for grading `implementation`.
///
/// On the reference Raft (`--raft-reference`) only Lab 3's and Lab 4's tests (the `KV`
/// suite: RSM, 3A, 3B, 3X, 3C; the `SHARD` suite: 4A, 4B, 4C, 4X) run any of the student's
/// code: Lab 2's would grade the reference Raft alone, and a student must not earn Lab 2's
/// points from it. On the reference rsm and Raft (`--rsm-reference`) only Lab 4's do: Lab
/// 3's would grade the reference rsm. So with no selection they are the parts that grade the
/// student's code, and a selection with any other is refused, naming them, rather than
/// scored: a grade of 0 for a test the student never ran would look like a verdict on the
/// student's code.
pub fn for_implementation(
    implementation: Implementation,
    parts: &[String],
    names: &[String],
) -> Result<Vec<&'static catalogue::Test>, String> {
    let selected = tests(parts, names)?;
    let (graded, flag, what, lent): (&[&[catalogue::Test]], &str, &str, &str) = match implementation
    {
        Implementation::Student | Implementation::Reference => return Ok(selected),
        Implementation::RaftReference => (
            &ON_THE_RAFT_REFERENCE,
            "--raft-reference",
            "your rsm, KV service and sharded KV service (Labs 3 and 4) on the reference Raft",
            "Lab 2's, which test the Raft alone: on the reference Raft",
        ),
        Implementation::RsmReference => (
            &ON_THE_RSM_REFERENCE,
            "--rsm-reference",
            "your shard controller and sharded KV service (Lab 4) on the reference rsm and \
                 Raft",
            "Lab 2's or Lab 3's, which test the Raft, the rsm or the KV service: on the \
                 reference rsm and Raft",
        ),
    };
    let runs_student_code = |test: &catalogue::Test| {
        graded
            .iter()
            .any(|suite| suite.iter().any(|t| t.name == test.name))
    };
    if parts.is_empty() && names.is_empty() {
        return Ok(selected
            .into_iter()
            .filter(|t| runs_student_code(t))
            .collect());
    }
    let mut refused: Vec<&str> = Vec::new();
    for test in selected.iter().filter(|t| !runs_student_code(t)) {
        let named = if parts.iter().any(|p| p.eq_ignore_ascii_case(test.part)) {
            test.part
        } else {
            test.name
        };
        if !refused.contains(&named) {
            refused.push(named);
        }
    }
    if refused.is_empty() {
        return Ok(selected);
    }
    let mut graded_parts: Vec<&'static str> = Vec::new();
    for test in graded.iter().flat_map(|suite| suite.iter()) {
        if !graded_parts.contains(&test.part) {
            graded_parts.push(test.part);
        }
    }
    let without = if implementation == Implementation::RsmReference {
        "without --rsm-reference"
    } else {
        "without --raft-reference"
    };
    Err(format!(
        "{flag} runs {what}, and {} are {lent} they would grade no code of yours. Leave them \
         out (with no --part or --test, {flag} takes these parts: {}), or grade them on your \
         own code, {without}",
        refused.join(", "),
        graded_parts.join(", ")
    ))
}

/// The suites whose tests run the student's code on the reference Raft: Lab 3's (the
/// student's rsm and KV service) and Lab 4's (the student's shard controller and sharded KV
/// service, on the student's rsm).
const ON_THE_RAFT_REFERENCE: [&[catalogue::Test]; 2] = [catalogue::KV, catalogue::SHARD];

/// The suites whose tests run the student's code on the reference rsm and Raft: Lab 4's.
const ON_THE_RSM_REFERENCE: [&[catalogue::Test]; 1] = [catalogue::SHARD];

/// Whether `test` is one of Lab 3's (it runs the student's rsm or KV service).
pub fn is_lab3(test: &catalogue::Test) -> bool {
    catalogue::KV.iter().any(|kv| kv.name == test.name)
}

/// Whether `test` is one of Lab 4's (it runs the student's shard controller or sharded KV
/// service).
pub fn is_lab4(test: &catalogue::Test) -> bool {
    catalogue::SHARD.iter().any(|shard| shard.name == test.name)
}

/// Whether `test` grades the student's code on the reference Raft (`--raft-reference`):
/// Lab 3's and Lab 4's tests do; Lab 2's test the Raft alone.
pub fn runs_on_the_raft_reference(test: &catalogue::Test) -> bool {
    ON_THE_RAFT_REFERENCE
        .iter()
        .any(|suite| suite.iter().any(|t| t.name == test.name))
}

/// The tests `parts` and `names` select (all, if both are empty), in catalogue order.
pub fn tests(parts: &[String], names: &[String]) -> Result<Vec<&'static catalogue::Test>, String> {
    let known_parts = catalogue::parts();
    for part in parts {
        if !known_parts.iter().any(|p| p.eq_ignore_ascii_case(part)) {
            return Err(format!(
                "no part {part:?}; the parts are {}",
                known_parts.join(", ")
            ));
        }
    }
    for name in names {
        if catalogue::find(name).is_none() {
            let names: Vec<&str> = catalogue::all().map(|t| t.name).collect();
            return Err(format!(
                "no test {name:?}; the tests are {}",
                names.join(", ")
            ));
        }
    }
    Ok(catalogue::all()
        .filter(|test| {
            (parts.is_empty() && names.is_empty())
                || parts.iter().any(|p| p.eq_ignore_ascii_case(test.part))
                || names.iter().any(|n| n == test.name)
        })
        .collect())
}

/// The seeds of a test that `shard` takes from `first .. first + count`: a contiguous,
/// deterministic share, so that the shards together run each seed exactly once. Each test
/// is split the same way, so every shard gets a fair share of the slow tests.
pub fn shard_seeds(first: u64, count: u64, shard: Option<Shard>) -> (u64, u64) {
    let Some(Shard {
        index,
        count: shards,
    }) = shard
    else {
        return (first, count);
    };
    let start = count * (index - 1) / shards;
    let end = count * index / shards;
    (first + start, end - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_raft_grades_labs_3_and_4_alone() {
        let none: &[String] = &[];
        let all = for_implementation(Implementation::RaftReference, none, none).unwrap();
        assert_eq!(all.len(), catalogue::KV.len() + catalogue::SHARD.len());
        assert!(all.iter().all(|t| is_lab3(t) || is_lab4(t)));
        assert!(all.iter().all(|t| runs_on_the_raft_reference(t)));
        // Every test of Lab 3 and Lab 4 (4C and 4X included), in catalogue order.
        let expected: Vec<&str> = catalogue::KV
            .iter()
            .chain(catalogue::SHARD)
            .map(|t| t.name)
            .collect();
        let names: Vec<&str> = all.iter().map(|t| t.name).collect();
        assert_eq!(names, expected);
        for part in ["4A", "4B", "4C", "4X"] {
            assert!(all.iter().any(|t| t.part == part), "{part}");
        }
        // No Lab 2 test, of the course's parts or beyond.
        assert!(
            !all.iter().any(|t| catalogue::RAFT
                .iter()
                .chain(catalogue::STRICT)
                .any(|r| r.name == t.name)),
            "{names:?}"
        );
        let kv = ["3a".to_owned(), "rsm".to_owned()];
        let chosen = for_implementation(Implementation::RaftReference, &kv, none).unwrap();
        assert!(!chosen.is_empty() && chosen.iter().all(|t| t.part == "3A" || t.part == "RSM"));
        let shard = [
            "4a".to_owned(),
            "4b".to_owned(),
            "4c".to_owned(),
            "4x".to_owned(),
        ];
        let chosen = for_implementation(Implementation::RaftReference, &shard, none).unwrap();
        assert_eq!(chosen.len(), catalogue::SHARD.len());
        assert!(chosen.iter().all(|t| is_lab4(t)));
        let one = for_implementation(
            Implementation::RaftReference,
            none,
            &["join_leave_4b".to_owned()],
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        // A Lab 2 part or test is refused, named in the message.
        let err = for_implementation(
            Implementation::RaftReference,
            &["2a".to_owned(), "3b".to_owned(), "4b".to_owned()],
            &["figure8_2c".to_owned()],
        )
        .unwrap_err();
        assert!(
            err.contains("2A, figure8_2c") && err.contains("RSM, 3A, 3B, 3X, 3C, 4A, 4B, 4C, 4X"),
            "{err}"
        );
        for lab2 in ["2e", "2f", "2x"] {
            let err = for_implementation(Implementation::RaftReference, &[lab2.to_owned()], none)
                .unwrap_err();
            assert!(err.contains("are Lab 2's"), "{err}");
        }
        // On the reference rsm too, Lab 4 alone.
        let lab4 = for_implementation(Implementation::RsmReference, none, none).unwrap();
        let names: Vec<&str> = lab4.iter().map(|t| t.name).collect();
        let expected: Vec<&str> = catalogue::SHARD.iter().map(|t| t.name).collect();
        assert_eq!(names, expected);
        let err = for_implementation(
            Implementation::RsmReference,
            &["rsm".to_owned(), "4b".to_owned()],
            &["basic_3a".to_owned()],
        )
        .unwrap_err();
        assert!(
            err.contains("RSM, basic_3a are Lab 2's or Lab 3's")
                && err.contains("takes these parts: 4A, 4B, 4C, 4X"),
            "{err}"
        );
        // The student's own Raft, or the reference, grades every part as before.
        let every = for_implementation(Implementation::Student, none, none).unwrap();
        assert_eq!(every.len(), catalogue::all().count());
        let two_a = ["2a".to_owned()];
        assert!(for_implementation(Implementation::Reference, &two_a, none).is_ok());
    }

    #[test]
    fn shards_cover_every_seed_once() {
        for count in [0, 1, 7, 100, 2000] {
            for shards in 1..=5 {
                let mut next = 10;
                for index in 1..=shards {
                    let (first, n) = shard_seeds(
                        10,
                        count,
                        Some(Shard {
                            index,
                            count: shards,
                        }),
                    );
                    assert_eq!(first, next);
                    next += n;
                }
                assert_eq!(next, 10 + count);
            }
        }
    }

    #[test]
    fn parts_and_names_select() {
        let selected = tests(&["2a".into()], &["figure8_2c".into()]).expect("known");
        let names: Vec<&str> = selected.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "initial_election_2a",
                "re_election_2a",
                "many_elections_2a",
                "figure8_2c"
            ]
        );
        assert!(tests(&["2z".into()], &[]).is_err());
        assert!(tests(&[], &["nope".into()]).is_err());
        assert_eq!(
            tests(&[], &[]).expect("all").len(),
            catalogue::RAFT.len()
                + catalogue::STRICT.len()
                + catalogue::KV.len()
                + catalogue::SHARD.len()
        );
        assert_eq!(tests(&[], &[]).expect("all").len(), 119);
        let kv = tests(&["3a".into(), "rsm".into()], &[]).expect("known");
        assert_eq!(kv.len(), 14 + 8);
        let shard =
            tests(&["4A".into(), "4b".into(), "4c".into(), "4x".into()], &[]).expect("known");
        assert_eq!(shard.len(), 2 + 10 + 3 + 6);
    }
}
