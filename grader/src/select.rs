//! Which tests and seeds to run: `--part`, `--test`, `--seeds`, `--seed`, `--shard`.

use crate::cli::Shard;
use crate::compile::Implementation;

/// The tests `parts` and `names` select for grading `implementation`.
///
/// On the reference Raft (`--raft-reference`) only Lab 3's and Lab 4's tests (the `KV`
/// suite: RSM, 3A, 3B, 3X, 3C; the `SHARD` suite: 4A, 4B, 4C, 4X) run any of the student's
/// code: Lab 2's would grade the reference Raft alone, and a student must not earn Lab 2's
/// points from it. So with no selection they are Lab 3's and Lab 4's, and a selection with
/// any of Lab 2's (2A–2D, 2X, 2E, 2F) is refused, naming them, rather than scored: a grade
/// of 0 for a test the student never ran would look like a verdict on the student's Raft.
pub fn for_implementation(
    implementation: Implementation,
    parts: &[String],
    names: &[String],
) -> Result<Vec<&'static catalogue::Test>, String> {
    let selected = tests(parts, names)?;
    if implementation != Implementation::RaftReference {
        return Ok(selected);
    }
    if parts.is_empty() && names.is_empty() {
        return Ok(selected
            .into_iter()
            .filter(|t| runs_on_the_raft_reference(t))
            .collect());
    }
    let mut lab2: Vec<&str> = Vec::new();
    for test in selected.iter().filter(|t| !runs_on_the_raft_reference(t)) {
        let what = if parts.iter().any(|p| p.eq_ignore_ascii_case(test.part)) {
            test.part
        } else {
            test.name
        };
        if !lab2.contains(&what) {
            lab2.push(what);
        }
    }
    if lab2.is_empty() {
        Ok(selected)
    } else {
        Err(format!(
            "--raft-reference runs your rsm, KV service and sharded KV service (Labs 3 and 4) \
             on the reference Raft, and {} are Lab 2's, which test the Raft alone: on the \
             reference Raft they would grade no code of yours. Leave them out (with no --part \
             or --test, --raft-reference takes Lab 3's and Lab 4's parts: {}), or grade them on \
             your own Raft, without --raft-reference",
            lab2.join(", "),
            raft_reference_parts().join(", ")
        ))
    }
}

/// The suites whose tests run the student's code on the reference Raft: Lab 3's (the
/// student's rsm and KV service) and Lab 4's (the student's shard controller and sharded KV
/// service, on the student's rsm).
const ON_THE_RAFT_REFERENCE: [&[catalogue::Test]; 2] = [catalogue::KV, catalogue::SHARD];

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

/// The parts `--raft-reference` grades, in catalogue order (`RSM`, `3A`, `3B`, `3X`, `3C`,
/// `4A`, `4B`, `4C`, `4X`).
fn raft_reference_parts() -> Vec<&'static str> {
    let mut parts: Vec<&'static str> = Vec::new();
    for test in ON_THE_RAFT_REFERENCE.iter().flat_map(|suite| suite.iter()) {
        if !parts.contains(&test.part) {
            parts.push(test.part);
        }
    }
    parts
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
