//! Which tests and seeds to run: `--part`, `--test`, `--seeds`, `--seed`, `--shard`.

use crate::cli::Shard;

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
            catalogue::RAFT.len() + catalogue::STRICT.len() + catalogue::KV.len()
        );
        let kv = tests(&["3a".into(), "rsm".into()], &[]).expect("known");
        assert_eq!(kv.len(), 14 + 8);
    }
}
