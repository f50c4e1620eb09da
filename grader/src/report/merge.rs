//! `grader merge`: the reports of the shards of one grade (`--shard i/n --json FILE`)
//! combined into the report one run would have made.
//!
//! Strict, because a wrong merge is a wrong grade that looks right: two shards of three
//! would earn a test its points on a third of its seeds under a title that claims them all;
//! one shard given twice counts its seeds twice, which fails an honest test; shards of two
//! submissions would grade a mixture under the first one's name. So every shard 1..n must
//! be given exactly once, all split the same way, and all must have graded the same thing:
//! the same code (implementation, commit, submission path and the contents of every file
//! taken from it), the same seeds, tests and points (rubric), the same way
//! (`--check-determinism`, cargo's arguments). Anything else is refused, naming what is
//! missing, repeated or different.

use std::collections::{BTreeMap, BTreeSet};

use super::{Header, Report, SeedSpan, Submission, TestReport, TestResults, score_test};
use crate::cli::Shard;

/// At most this many missing shards are named in an error.
const NAMED_MISSING: usize = 10;

/// Combines the reports of the shards of one grade, naming each by its place in `reports`
/// in errors (`report #2`); [`merge_named`] names them by their files.
pub fn merge(reports: Vec<Report>) -> Result<Report, String> {
    merge_named(
        reports
            .into_iter()
            .enumerate()
            .map(|(i, report)| (format!("report #{}", i + 1), report))
            .collect(),
    )
}

/// Combines the reports of the shards of one grade, each given with the name errors call
/// it by (its file's path). Refuses, with what is wrong, unless every shard `1..=n` of the
/// same `n` is there exactly once and all graded the same code, seeds, tests and points
/// the same way (see the module's documentation).
pub fn merge_named(reports: Vec<(String, Report)>) -> Result<Report, String> {
    let shards = every_shard_once(reports)?;
    for shard in &shards {
        shard.check_consistent()?;
    }
    let (first, rest) = shards.split_first().ok_or("nothing to merge")?;
    for other in rest {
        same_grade(first, other)?;
    }
    combine(shards)
}

/// A shard's report, with the name it was given by and its share.
struct Given {
    name: String,
    shard: Shard,
    report: Report,
}

impl Given {
    /// `shard 2/3 (b.json)`.
    fn label(&self) -> String {
        format!(
            "shard {}/{} ({})",
            self.shard.index, self.shard.count, self.name
        )
    }

    /// The seeds of each test that this shard was to run, as `(first, count)`.
    fn share(&self) -> (u64, u64) {
        let seeds = self.report.header.seeds;
        crate::select::shard_seeds(seeds.first, seeds.count, Some(self.shard))
    }

    /// Checks that the report agrees with itself: every test planned its share of the
    /// seeds, no result is outside that share, no test is listed twice, and a
    /// submission's files all have their hashes.
    fn check_consistent(&self) -> Result<(), String> {
        let (first, count) = self.share();
        let mut names = BTreeSet::new();
        for test in &self.report.tests {
            if !names.insert(test.name.as_str()) {
                return Err(format!("{} lists {} twice", self.label(), test.name));
            }
            if test.planned != count {
                return Err(format!(
                    "{} planned {} seeds of {}, but its share of {} is {count} seeds",
                    self.label(),
                    test.planned,
                    test.name,
                    span(self.report.header.seeds)
                ));
            }
            if let Some(record) = test
                .seeds
                .iter()
                .find(|r| r.seed < first || r.seed - first >= count)
            {
                return Err(format!(
                    "{} has a result for seed {} of {}, outside its share ({})",
                    self.label(),
                    record.seed,
                    test.name,
                    span(SeedSpan { first, count })
                ));
            }
        }
        if let Some(submission) = &self.report.header.submission
            && submission.hashes.len() != submission.taken.len()
        {
            return Err(format!(
                "{} does not record what the files it took from submission {} held (a hash \
                 of each file, which graders before this one did not write): grade that \
                 shard again",
                self.label(),
                submission.path
            ));
        }
        Ok(())
    }
}

/// The reports as shards, in shard order, if every shard 1..=n of one n is there once.
fn every_shard_once(reports: Vec<(String, Report)>) -> Result<Vec<Given>, String> {
    if reports.is_empty() {
        return Err("nothing to merge".into());
    }
    let mut shards = Vec::new();
    for (name, report) in reports {
        let Some(shard) = report.header.shard else {
            return Err(format!(
                "{name} is the report of a whole run (graded without --shard), not of a \
                 shard: merge combines the reports of `--shard i/n` runs, each i from 1 to n \
                 once"
            ));
        };
        if shard.index == 0 || shard.index > shard.count {
            return Err(format!(
                "{name} says it is shard {}/{}, which no run is (a shard is i/n with \
                 1 <= i <= n)",
                shard.index, shard.count
            ));
        }
        // Cleaned now, as what the errors below quote from it is shown on a terminal.
        let mut report = report;
        report.clean_text();
        shards.push(Given {
            name,
            shard,
            report,
        });
    }
    let count = shards[0].shard.count;
    if let Some(other) = shards.iter().find(|g| g.shard.count != count) {
        return Err(format!(
            "{} is shard {}/{} but {} is shard {}/{}: the shards of one grade split the \
             seeds into the same number of shares",
            shards[0].name,
            shards[0].shard.index,
            count,
            other.name,
            other.shard.index,
            other.shard.count
        ));
    }
    let mut by_index: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for given in &shards {
        by_index
            .entry(given.shard.index)
            .or_default()
            .push(&given.name);
    }
    if let Some((index, names)) = by_index.iter().find(|(_, names)| names.len() > 1) {
        let times = match names.len() {
            2 => "twice".to_owned(),
            n => format!("{n} times"),
        };
        return Err(format!(
            "shard {index}/{count} is given {times}: {}",
            and_list(names)
        ));
    }
    // Every index given is distinct and in 1..=count, so `count - given` are missing.
    let missing_count = count - shards.len() as u64;
    if missing_count > 0 {
        let mut missing: Vec<String> = (1..=count)
            .filter(|i| !by_index.contains_key(i))
            .take(NAMED_MISSING)
            .map(|i| format!("{i}/{count}"))
            .collect();
        if missing_count > NAMED_MISSING as u64 {
            missing.push(format!("{} more", missing_count - NAMED_MISSING as u64));
        }
        let what = if missing_count == 1 {
            format!("shard {} is missing", missing[0])
        } else {
            format!("shards {} are missing", and_list(&missing))
        };
        return Err(format!(
            "{what}: a merged grade needs every shard from 1/{count} to {count}/{count}"
        ));
    }
    shards.sort_by_key(|g| g.shard.index);
    Ok(shards)
}

/// Checks that `other` graded what `first` did, the same way.
fn same_grade(first: &Given, other: &Given) -> Result<(), String> {
    let (a, b) = (&first.report.header, &other.report.header);
    let (this, that) = (other.label(), first.label());
    let differ = |what: &str, of_other: String, of_first: String| {
        Err(format!(
            "{this} {what} {of_other}, {that} {of_first}: the shards of one grade must have \
             graded the same thing the same way"
        ))
    };
    if a.implementation != b.implementation {
        return differ(
            "graded",
            format!("the {}", b.implementation),
            format!("the {}", a.implementation),
        );
    }
    if a.commit != b.commit {
        return differ("was graded at", commit(b), format!("at {}", commit(a)));
    }
    if submission_name(&a.submission) != submission_name(&b.submission) {
        return differ(
            "graded",
            submission_name(&b.submission),
            format!("graded {}", submission_name(&a.submission)),
        );
    }
    if let (Some(sa), Some(sb)) = (&a.submission, &b.submission) {
        let differences = file_differences(sa, sb, &first.label(), &other.label());
        if !differences.is_empty() {
            return Err(format!(
                "{this} and {that} graded different files of submission {}: {}",
                sa.path,
                differences.join(", ")
            ));
        }
    }
    if a.seeds != b.seeds {
        return differ("split", span(b.seeds), format!("split {}", span(a.seeds)));
    }
    if a.check_determinism != b.check_determinism {
        return differ(
            "checked determinism with",
            times_run(b),
            format!("with {}", times_run(a)),
        );
    }
    if a.cargo_args != b.cargo_args {
        return differ(
            "built with",
            format!("`cargo test {}`", b.cargo_args),
            format!("with `cargo test {}`", a.cargo_args),
        );
    }
    if a.rubric != b.rubric {
        return differ("was graded with", rubric(b), format!("with {}", rubric(a)));
    }
    same_tests(first, other)
}

/// Checks that `other` graded the tests `first` did, for the same points.
fn same_tests(first: &Given, other: &Given) -> Result<(), String> {
    let names = |given: &Given| -> BTreeSet<String> {
        given.report.tests.iter().map(|t| t.name.clone()).collect()
    };
    let (in_first, in_other) = (names(first), names(other));
    if in_first != in_other {
        let mut differences: Vec<String> = Vec::new();
        for (tests, shard) in [
            (in_other.difference(&in_first), other.label()),
            (in_first.difference(&in_other), first.label()),
        ] {
            let tests: Vec<&str> = tests.map(String::as_str).collect();
            if !tests.is_empty() {
                differences.push(format!("{} only in {shard}", tests.join(", ")));
            }
        }
        return Err(format!(
            "{} and {} graded different tests: {} (give both the same --part and --test)",
            other.label(),
            first.label(),
            differences.join("; ")
        ));
    }
    for test in &other.report.tests {
        let points = first
            .report
            .tests
            .iter()
            .find(|t| t.name == test.name)
            .map_or(0, |t| t.max_score);
        if points != test.max_score {
            return Err(format!(
                "{} gives {} {} points, {} gives it {points}: were they graded with \
                 different rubrics?",
                other.label(),
                test.name,
                test.max_score,
                first.label()
            ));
        }
    }
    Ok(())
}

/// The report of the whole, from shards checked to be one grade's.
fn combine(shards: Vec<Given>) -> Result<Report, String> {
    let mut header: Option<Header> = None;
    let mut interrupted = false;
    let mut build_error = None;
    let mut by_test: Vec<TestReport> = Vec::new();
    for given in shards {
        let report = given.report;
        header.get_or_insert(report.header);
        interrupted |= report.interrupted;
        if build_error.is_none() {
            build_error = report.build_error;
        }
        for test in report.tests {
            match by_test.iter_mut().find(|t| t.name == test.name) {
                Some(existing) => {
                    existing.planned += test.planned;
                    existing.skipped += test.skipped;
                    existing.seeds.extend(test.seeds);
                }
                None => by_test.push(test),
            }
        }
    }
    let mut header = header.ok_or("nothing to merge")?;
    header.shard = None;
    let mut results = Vec::new();
    for test in by_test {
        let entry = catalogue::find(&test.name).ok_or_else(|| {
            format!(
                "the reports name a test this grader does not know: {}",
                test.name
            )
        })?;
        results.push(TestResults {
            test: entry,
            planned: test.planned,
            skipped: test.skipped,
            // The shards were scored with the same points (checked): the catalogue's, or
            // a rubric's.
            points: test.max_score,
            seeds: test.seeds,
        });
    }
    // The catalogue's order, whatever order the shards came in.
    results.sort_by_key(|r| catalogue::all().position(|t| t.name == r.test.name));
    let tests = results
        .into_iter()
        .map(|r| score_test(r, &header))
        .collect();
    Ok(Report::assemble(header, tests, interrupted, build_error))
}

/// The files of `b` that are not those of `a`: each with why (`(other contents)`, `(only
/// in shard 2/3 (b.json))`).
fn file_differences(a: &Submission, b: &Submission, a_label: &str, b_label: &str) -> Vec<String> {
    let files = |s: &Submission| -> BTreeMap<String, String> {
        s.taken
            .iter()
            .cloned()
            .zip(s.hashes.iter().cloned())
            .collect()
    };
    let (in_a, in_b) = (files(a), files(b));
    let paths: BTreeSet<&String> = in_a.keys().chain(in_b.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| match (in_a.get(path), in_b.get(path)) {
            (Some(x), Some(y)) if x == y => None,
            (Some(_), Some(_)) => Some(format!("{path} (other contents)")),
            (Some(_), None) => Some(format!("{path} (only in {a_label})")),
            _ => Some(format!("{path} (only in {b_label})")),
        })
        .collect()
}

/// `submission alice` or `no submission (the tree's own code)`.
fn submission_name(submission: &Option<Submission>) -> String {
    match submission {
        Some(s) => format!("submission {}", s.path),
        None => "no submission (the tree's own code)".to_owned(),
    }
}

/// `commit 6fc8b50` or `no commit (not in git)`.
fn commit(header: &Header) -> String {
    match &header.commit {
        Some(commit) => format!("commit {commit}"),
        None => "no commit (not in git)".to_owned(),
    }
}

/// Which seeds ran twice, in words.
fn times_run(header: &Header) -> String {
    header.check_determinism.describe().to_owned()
}

/// `rubric fnv1a64:…` or `the catalogue's points`.
fn rubric(header: &Header) -> String {
    match &header.rubric {
        Some(identity) => format!("rubric {identity}"),
        None => "the catalogue's points".to_owned(),
    }
}

/// `seeds 1..=100`.
fn span(seeds: SeedSpan) -> String {
    match seeds.count {
        0 => format!("no seeds (from {})", seeds.first),
        n => format!("seeds {}..={}", seeds.first, seeds.first + (n - 1)),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [rest @ .., last] => format!(
            "{} and {}",
            rest.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Reason, SeedRecord};

    const SEEDS: SeedSpan = SeedSpan { first: 1, count: 6 };
    const TESTS: [&str; 2] = ["initial_election_2a", "re_election_2a"];

    /// What every test did on `seed`: all pass but seed 5 of re_election_2a.
    fn record(test: &str, seed: u64) -> SeedRecord {
        let outcome = if test == "re_election_2a" && seed == 5 {
            Outcome::Fail {
                reason: Reason::TestFailed,
                message: "expected one leader, got none".into(),
            }
        } else {
            Outcome::Pass {
                virtual_ns: 1000 + seed,
                cpu_ns: Some(10 * seed),
            }
        };
        SeedRecord {
            seed,
            outcome,
            timeline: None,
        }
    }

    fn header(shard: Option<Shard>) -> Header {
        Header {
            implementation: "student's code (raft/src/skeleton)".into(),
            reference: false,
            commit: Some("6fc8b50".into()),
            submission: None,
            cargo_args: "--release -p tests".into(),
            seeds: SEEDS,
            shard,
            check_determinism: crate::cli::Determinism::Off,
            rubric: None,
        }
    }

    /// The report of shard `index`/`count` of [`SEEDS`] (or of the whole run).
    fn report(shard: Option<(u64, u64)>) -> Report {
        let shard = shard.map(|(index, count)| Shard { index, count });
        let (first, count) = crate::select::shard_seeds(SEEDS.first, SEEDS.count, shard);
        let results = TESTS
            .iter()
            .map(|&name| TestResults {
                test: catalogue::find(name).expect("a catalogued test"),
                planned: count,
                skipped: 0,
                points: 6,
                seeds: (first..first + count).map(|s| record(name, s)).collect(),
            })
            .collect();
        Report::new(header(shard), results, false)
    }

    fn shard(index: u64, count: u64) -> Report {
        report(Some((index, count)))
    }

    /// Named `1of3.json` and so on.
    fn named(reports: Vec<Report>) -> Vec<(String, Report)> {
        reports
            .into_iter()
            .map(|r| {
                let s = r.header.shard.expect("a shard");
                (format!("{}of{}.json", s.index, s.count), r)
            })
            .collect()
    }

    fn refusal(reports: Vec<(String, Report)>) -> String {
        merge_named(reports).expect_err("refused")
    }

    /// The three shards of a submission; `edit` changes shard 3.
    fn three_of(edit: impl Fn(&mut Header)) -> Vec<(String, Report)> {
        let mut reports = vec![shard(1, 3), shard(2, 3), shard(3, 3)];
        for report in &mut reports {
            report.header.submission = Some(Submission {
                path: "submissions/alice".into(),
                taken: vec!["raft/src/skeleton/mod.rs".into()],
                hashes: vec![crate::digest::content_hash(b"alice's raft")],
                ignored: Vec::new(),
            });
        }
        edit(&mut reports[2].header);
        named(reports)
    }

    #[test]
    fn every_shard_once_in_any_order_is_the_whole_run() {
        let merged =
            merge_named(named(vec![shard(3, 3), shard(1, 3), shard(2, 3)])).expect("merged");
        assert_eq!(merged, report(None));
        assert_eq!((merged.score, merged.max_score), (6, 12));
        assert_eq!(merged.header.shard, None);
        // One shard of one is a whole run too, and `merge` takes reports without names.
        assert_eq!(merge(vec![shard(1, 1)]).expect("merged"), report(None));
    }

    #[test]
    fn reports_read_from_json_merge_and_older_ones_still_parse() {
        let reports: Vec<(String, Report)> = named(vec![shard(1, 2), shard(2, 2)])
            .into_iter()
            .map(|(name, r)| {
                let mut json: serde_json::Value = serde_json::to_value(&r).expect("JSON");
                // As graders before the rubric's identity wrote them.
                json.as_object_mut().expect("an object").remove("rubric");
                (name, serde_json::from_value(json).expect("a report"))
            })
            .collect();
        assert_eq!(merge_named(reports).expect("merged"), report(None));
    }

    #[test]
    fn a_missing_shard_is_named() {
        let error = refusal(named(vec![shard(1, 3), shard(3, 3)]));
        assert!(error.starts_with("shard 2/3 is missing"), "{error}");
        let error = refusal(named(vec![shard(2, 5)]));
        assert!(
            error.starts_with("shards 1/5, 3/5, 4/5 and 5/5 are missing"),
            "{error}"
        );
        let mut far = shard(1, 2);
        far.header.shard = Some(Shard {
            index: 1,
            count: 1000,
        });
        let error = refusal(vec![("far.json".into(), far)]);
        assert!(
            error.starts_with("shards 2/1000, 3/1000, ")
                && error.contains("and 989 more are missing"),
            "{error}"
        );
    }

    #[test]
    fn a_shard_given_twice_is_named() {
        let reports = vec![
            ("a.json".to_owned(), shard(1, 3)),
            ("c.json".to_owned(), shard(2, 3)),
            ("b.json".to_owned(), shard(1, 3)),
            ("d.json".to_owned(), shard(3, 3)),
        ];
        assert_eq!(
            refusal(reports),
            "shard 1/3 is given twice: a.json and b.json"
        );
        let error =
            merge(vec![shard(2, 2), shard(1, 2), shard(2, 2), shard(2, 2)]).expect_err("refused");
        assert_eq!(
            error,
            "shard 2/2 is given 3 times: report #1, report #3 and report #4"
        );
    }

    #[test]
    fn a_whole_run_is_not_a_shard() {
        for reports in [
            vec![report(None)],
            vec![shard(1, 2), report(None), shard(2, 2)],
        ] {
            let error = merge(reports).expect_err("refused");
            assert!(
                error.starts_with("report #") && error.contains("is the report of a whole run"),
                "{error}"
            );
        }
        assert_eq!(merge(Vec::new()).expect_err("refused"), "nothing to merge");
    }

    #[test]
    fn shards_of_different_splits_or_no_split_are_refused() {
        let error = refusal(named(vec![shard(1, 2), shard(2, 3), shard(3, 3)]));
        assert!(
            error.starts_with("1of2.json is shard 1/2 but 2of3.json is shard 2/3"),
            "{error}"
        );
        let mut bad = shard(1, 3);
        bad.header.shard = Some(Shard { index: 4, count: 3 });
        let error = refusal(vec![("bad.json".into(), bad)]);
        assert!(
            error.starts_with("bad.json says it is shard 4/3"),
            "{error}"
        );
    }

    #[test]
    fn shards_of_different_submissions_are_refused() {
        let error = refusal(three_of(|h| {
            if let Some(s) = &mut h.submission {
                s.path = "submissions/bob".into();
            }
        }));
        assert!(
            error.starts_with(
                "shard 3/3 (3of3.json) graded submission submissions/bob, shard 1/3 \
                 (1of3.json) graded submission submissions/alice"
            ),
            "{error}"
        );
        let error = refusal(three_of(|h| h.submission = None));
        assert!(
            error.starts_with("shard 3/3 (3of3.json) graded no submission (the tree's own code)"),
            "{error}"
        );
        // The same path, other contents: a second upload, say.
        let error = refusal(three_of(|h| {
            if let Some(s) = &mut h.submission {
                s.hashes = vec![crate::digest::content_hash(b"alice's second try")];
            }
        }));
        assert_eq!(
            error,
            "shard 3/3 (3of3.json) and shard 1/3 (1of3.json) graded different files of \
             submission submissions/alice: raft/src/skeleton/mod.rs (other contents)"
        );
        let error = refusal(three_of(|h| {
            if let Some(s) = &mut h.submission {
                s.taken.push("raft/src/skeleton/extra.rs".into());
                s.hashes.push(crate::digest::content_hash(b""));
            }
        }));
        assert!(
            error.ends_with("raft/src/skeleton/extra.rs (only in shard 3/3 (3of3.json))"),
            "{error}"
        );
        // A report that cannot say what it graded (a grader before the hashes).
        let error = refusal(three_of(|h| {
            if let Some(s) = &mut h.submission {
                s.hashes.clear();
            }
        }));
        assert!(
            error.starts_with("shard 3/3 (3of3.json) does not record what the files"),
            "{error}"
        );
    }

    #[test]
    fn shards_graded_otherwise_are_refused_naming_the_difference() {
        type Edit = fn(&mut Header);
        let cases: [(Edit, &str); 6] = [
            (
                |h| h.implementation = "reference implementation".into(),
                "graded the reference implementation, shard 1/3 (1of3.json) the student's code",
            ),
            (
                |h| h.commit = Some("1234567-dirty".into()),
                "was graded at commit 1234567-dirty, shard 1/3 (1of3.json) at commit 6fc8b50",
            ),
            (
                |h| h.seeds.count = 9,
                "split seeds 1..=9, shard 1/3 (1of3.json) split seeds 1..=6",
            ),
            (
                |h| h.check_determinism = crate::cli::Determinism::EverySeed,
                "checked determinism with each seed run twice (--check-determinism), shard 1/3 \
                 (1of3.json) with each seed run once (--no-check-determinism)",
            ),
            (
                |h| h.cargo_args = "--release -p tests --features reference".into(),
                "built with `cargo test --release -p tests --features reference`, shard 1/3 \
                 (1of3.json) with `cargo test --release -p tests`",
            ),
            (
                |h| h.rubric = Some("fnv1a64:0123456789abcdef".into()),
                "was graded with rubric fnv1a64:0123456789abcdef, shard 1/3 (1of3.json) with \
                 the catalogue's points",
            ),
        ];
        for (edit, says) in cases {
            let mut reports = three_of(|_| {});
            edit(&mut reports[2].1.header);
            if reports[2].1.header.seeds != SEEDS {
                // A shard of other seeds planned its own share, consistently.
                reports[2].1 = {
                    let mut r = report(Some((3, 3)));
                    r.header = reports[2].1.header.clone();
                    for test in &mut r.tests {
                        test.planned = 3;
                        test.seeds = (7..=9).map(|s| record(&test.name, s)).collect();
                    }
                    r
                };
            }
            let error = refusal(reports);
            assert!(
                error.starts_with(&format!("shard 3/3 (3of3.json) {says}")),
                "{error}"
            );
        }
    }

    #[test]
    fn shards_of_other_tests_or_points_are_refused() {
        let mut reports = named(vec![shard(1, 2), shard(2, 2)]);
        reports[1].1.tests.pop();
        let error = refusal(reports);
        assert_eq!(
            error,
            "shard 2/2 (2of2.json) and shard 1/2 (1of2.json) graded different tests: \
             re_election_2a only in shard 1/2 (1of2.json) (give both the same --part and \
             --test)"
        );
        let mut reports = named(vec![shard(1, 2), shard(2, 2)]);
        reports[1].1.tests[0].max_score = 10;
        let error = refusal(reports);
        assert!(
            error.starts_with(
                "shard 2/2 (2of2.json) gives initial_election_2a 10 points, shard 1/2 \
                 (1of2.json) gives it 6"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_report_that_disagrees_with_itself_is_refused() {
        let mut reports = named(vec![shard(1, 2), shard(2, 2)]);
        reports[1].1.tests[0].planned = 6;
        let error = refusal(reports);
        assert_eq!(
            error,
            "shard 2/2 (2of2.json) planned 6 seeds of initial_election_2a, but its share of \
             seeds 1..=6 is 3 seeds"
        );
        let mut reports = named(vec![shard(1, 2), shard(2, 2)]);
        reports[1].1.tests[1]
            .seeds
            .push(record("re_election_2a", 2));
        let error = refusal(reports);
        assert_eq!(
            error,
            "shard 2/2 (2of2.json) has a result for seed 2 of re_election_2a, outside its \
             share (seeds 4..=6)"
        );
    }

    #[test]
    fn text_read_from_a_report_is_cleaned() {
        let mut reports = named(vec![shard(1, 2), shard(2, 2)]);
        // As a report written by hand, or by a grader that did not clean, might hold it.
        let hostile = "\u{1b}[2J\u{1b}[Htotal 228/228\rexpected one leader";
        for test in &mut reports[1].1.tests {
            for record in &mut test.seeds {
                if let Outcome::Fail { message, .. } = &mut record.outcome {
                    *message = hostile.into();
                }
            }
        }
        let merged = merge_named(reports).expect("merged");
        let failure = merged.tests[1].first_failure.as_ref().expect("a failure");
        assert_eq!(failure.message, "total 228/228expected one leader");
    }
}
