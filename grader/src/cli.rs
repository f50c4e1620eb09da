//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The first seed when `--seed` is not given: fixed, so that grading the same code twice
/// gives the same grade, and every failure it reports replays.
pub const DEFAULT_FIRST_SEED: u64 = 1;

/// Seeds per test when `--seeds` is not given: about three minutes on two cores for the
/// reference Raft (one seed of all 28 tests costs about 0.12 s of CPU).
pub const DEFAULT_SEEDS: u64 = 2000;

/// Grades the labs (Raft, the KV service on it, and the sharded KV service): runs every test
/// over many seeds, each batch of seeds in a child process of its own, and scores the result
/// by part.
///
/// With no subcommand it grades the code in this tree (the student's raft/src/skeleton,
/// kvraft/src/skeleton and shardkv/src/skeleton); `--reference` grades the reference
/// implementations instead. Seeds are fixed (from 1 unless
/// `--seed` says otherwise), so the same code gets the same grade, and every failure comes
/// with the command that replays it.
#[derive(Debug, Parser)]
#[command(
    name = "grader",
    version,
    args_conflicts_with_subcommands = true,
    after_help = editable_help()
)]
pub struct Cli {
    /// What to do; grading the tree when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Grade the reference implementations (raft/src/reference, kvraft/src/reference,
    /// shardkv/src/reference) instead of the student's code.
    /// The students' tree (a handout) has no reference.
    #[arg(long, conflicts_with_all = ["raft_reference", "rsm_reference"])]
    pub reference: bool,
    /// How to grade (when no subcommand is given).
    #[command(flatten)]
    pub grade: GradeArgs,
}

/// The student-editable files, for `--help`.
fn editable_help() -> String {
    format!(
        "Students may edit {} and nothing else: `grader grade` takes only those files from a \
         submission, and `grader handout` writes the tree students start from.",
        crate::layout::editable_list()
    )
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Combines the JSON reports of shards (`--shard i/n --json FILE`) into one grade.
    Merge(MergeArgs),
    /// Writes the students' tree (this tree without the reference implementation) to DIR.
    Handout(HandoutArgs),
    /// Grades submissions: each one's student-editable files over a pristine copy of this
    /// tree, in a jail; several submissions (or a folder of them) give a report each and a
    /// class CSV.
    #[command(after_help = editable_help())]
    Grade(Box<SubmissionArgs>),
    /// Writes an autograder for Gradescope to DIR: the students' tree, `setup.sh` and
    /// `run_autograder` (zip DIR's contents and upload the zip).
    Gradescope(BundleArgs),
    /// Hunts for a failing seed under randomized fault plans (each run's loss, delays and
    /// reordering drawn between the course's and none), until one fails or time is up;
    /// prints the failure's replay command.
    Swarm(SwarmArgs),
}

/// `grader gradescope`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Where to write the autograder (created if missing; must be empty).
    pub dir: PathBuf,
    /// Write into DIR even if it has files.
    #[arg(long)]
    pub force: bool,
    /// The grader's options for every submission, after `--` (e.g. `-- --seeds 500`).
    #[arg(last = true)]
    pub grade_args: Vec<String>,
}

/// `grader handout`.
#[derive(Debug, Args)]
pub struct HandoutArgs {
    /// Where to write the students' tree (created if missing; must be empty).
    pub dir: PathBuf,
    /// Include the reference Raft (raft/src/reference and its features, never the
    /// reference KV or sharded KV), for Labs 3 and 4: students whose Raft is not finished
    /// run their KV and sharded KV on it with `--features raft-reference` and grade them
    /// with `grader --raft-reference`. It
    /// shows students a complete Raft: hand it out only once Lab 2 is over.
    #[arg(long)]
    pub raft_reference: bool,
    /// Include the reference rsm too (kvraft/src/reference_rsm.rs and its features, never
    /// the reference KV service), for Lab 4: students whose rsm is not finished run their
    /// sharded KV on it with `--features raft-reference,rsm-reference` and grade it with
    /// `grader --rsm-reference`. It brings the reference Raft (as `--raft-reference`) and
    /// shows students a complete rsm: hand it out only once Lab 3 is over.
    #[arg(long)]
    pub rsm_reference: bool,
    /// Write into DIR even if it has files: files of the same name are replaced, nothing
    /// else is removed.
    #[arg(long)]
    pub force: bool,
}

/// `grader grade`.
#[derive(Debug, Args)]
pub struct SubmissionArgs {
    /// The submissions: each a directory with the student's copy of the repository at its
    /// root or one directory below (e.g. a checkout, or an unpacked Gradescope upload), or a
    /// folder of such directories (a class).
    #[arg(required = true, value_name = "SUBMISSION")]
    pub submissions: Vec<PathBuf>,
    /// With several submissions: where their reports (`NAME.json`, `NAME.md`, `NAME.txt`)
    /// and the class's `class.csv` go.
    #[arg(long, value_name = "DIR", default_value = "grades")]
    pub out: PathBuf,
    /// Grade from a tree with uncommitted changes (a grade names the commit it was graded
    /// with; uncommitted changes make it name code that is not there).
    #[arg(long)]
    pub allow_dirty: bool,
    /// Wall-clock limit of the submission's build, e.g. `10m`: a build still running then
    /// is stopped, and the submission gets no points, with that reason.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub build_timeout: Duration,
    /// Address-space limit of each process of the submission's build, e.g. `8G`.
    #[arg(long, default_value = "8G", value_parser = parse_size)]
    pub build_memory: u64,
    /// How to grade it.
    #[command(flatten)]
    pub grade: GradeArgs,
}

/// `grader swarm`.
#[derive(Debug, Args)]
pub struct SwarmArgs {
    /// Hunt in the reference implementation instead of the student's code.
    #[arg(long, conflicts_with_all = ["raft_reference", "rsm_reference"])]
    pub reference: bool,
    /// Hunt in the student's rsm, KV service and sharded KV service on the reference Raft
    /// (Lab 3's and Lab 4's tests only; the tree must have raft/src/reference).
    #[arg(long)]
    pub raft_reference: bool,
    /// Hunt in the student's shard controller and sharded KV service on the reference rsm
    /// and Raft (Lab 4's tests only; the tree must have kvraft/src/reference_rsm.rs).
    #[arg(long)]
    pub rsm_reference: bool,
    /// Only these parts, e.g. `--part 2c`.
    #[arg(long, value_delimiter = ',')]
    pub part: Vec<String>,
    /// Only this test (repeatable).
    #[arg(long)]
    pub test: Vec<String>,
    /// How long to hunt once the tests are built, e.g. `10m` or `90s` (at least one round runs).
    #[arg(long = "for", default_value = "10m", value_parser = parse_duration)]
    pub time: Duration,
    /// The first seed (default: a fresh one, so every hunt explores new seeds).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seeds per test in each round.
    #[arg(long, default_value_t = 100)]
    pub round: u64,
    /// How the test processes run.
    #[command(flatten)]
    pub children: ChildArgs,
}

/// How the child processes that run the tests are run and bounded (for grading and for
/// `grader swarm` alike).
#[derive(Debug, Args, Clone)]
pub struct ChildArgs {
    /// Child processes at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Wall-clock limit for one child process (a batch of seeds of one test), e.g. `300s`
    /// or `5m`; then its whole process group is killed.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Address-space limit for one child process, e.g. `2G` or `512M`.
    #[arg(long, default_value = "2G", value_parser = parse_size)]
    pub memory: u64,
    /// How long one step of lab code may run (CPU time) or block before the watchdog fails
    /// its test, e.g. `2s`. The reference's slowest whole seed takes under a second of CPU
    /// and one step a tiny part of it, so this only bounds how long a stuck submission
    /// costs (code that never yields ends its process after about three times this).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub watchdog: Duration,
    /// Grade even where this machine cannot jail the test processes (Landlock and
    /// seccomp; see grader/README.md, "Grading untrusted code"): only for code you trust.
    /// `grader grade` refuses without it there; grading this tree warns.
    #[arg(long)]
    pub trusted: bool,
}

/// `grader merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Where to write the merged grade.
    #[command(flatten)]
    pub outputs: Outputs,
}

/// What to run and how.
#[derive(Debug, Args, Clone)]
pub struct GradeArgs {
    /// Only these parts, e.g. `--part 2a,2b`.
    #[arg(long, value_delimiter = ',')]
    pub part: Vec<String>,
    /// Only this test (repeatable), e.g. `--test figure8_2c`.
    #[arg(long)]
    pub test: Vec<String>,
    /// Seeds per test.
    #[arg(long, default_value_t = DEFAULT_SEEDS)]
    pub seeds: u64,
    /// The first seed (seeds run from it upwards). The default is fixed, so grades are
    /// reproducible.
    #[arg(long, default_value_t = DEFAULT_FIRST_SEED)]
    pub seed: u64,
    /// Run the student's rsm, KV service and sharded KV service on the reference Raft
    /// (`cargo test --features raft-reference`): Labs 3 and 4 for a student whose Raft is
    /// not finished. Only Lab 3's and Lab 4's parts (RSM, 3A, 3B, 3X, 3C, 4A, 4B, 4C, 4X; all of
    /// them when none is chosen): Lab 2's would grade the reference.
    /// The tree must have raft/src/reference (a handout made with `--raft-reference`).
    #[arg(long)]
    pub raft_reference: bool,
    /// Run the student's shard controller and sharded KV service on the reference rsm and
    /// Raft (`cargo test --features raft-reference,rsm-reference`): Lab 4 for a student
    /// whose rsm is not finished. Only Lab 4's parts (4A, 4B, 4C, 4X; all of them when none
    /// is chosen): the others would grade the reference. The tree must have
    /// kvraft/src/reference_rsm.rs (a handout made with `--rsm-reference`).
    #[arg(long)]
    pub rsm_reference: bool,
    /// How the test processes run.
    #[command(flatten)]
    pub children: ChildArgs,
    /// Run every seed twice and fail a seed whose two runs differ (by default only the
    /// first seed of each batch runs twice).
    #[arg(long, conflicts_with = "no_check_determinism")]
    pub check_determinism: bool,
    /// Run every seed once: code that does not replay is not caught (by default the first
    /// seed of each batch runs twice, and a test whose runs differ fails).
    #[arg(long)]
    pub no_check_determinism: bool,
    /// Take only share i of n of the (test, seed) work, e.g. `--shard 1/4`; combine the
    /// shards' `--json` reports with `grader merge`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// After this many crashes (exit, abort, watchdog, timeout, out of memory) of a test,
    /// its remaining seeds are skipped: the test has lost its points already.
    #[arg(long, default_value_t = 1)]
    pub max_crashes: usize,
    /// After this many failed seeds of a test (of any kind), its remaining seeds are
    /// skipped: one failure already costs all its points, so more only cost time.
    #[arg(long, default_value_t = 3)]
    pub max_failures: usize,
    /// An instructor's rubric (TOML: `[parts]` and `[tests]` tables of points) that
    /// overrides the catalogue's points; see grader/README.md.
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Where to write the reports.
    #[command(flatten)]
    pub outputs: Outputs,
}

impl GradeArgs {
    /// Which seeds run twice (`--check-determinism`, `--no-check-determinism`).
    pub fn determinism(&self) -> Determinism {
        Determinism::from_flags(self.check_determinism, self.no_check_determinism)
    }
}

/// The report files asked for (the table always goes to the terminal).
#[derive(Debug, Args, Clone, Default)]
pub struct Outputs {
    /// Everything, as JSON (what `grader merge` reads).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Gradescope's `results.json`.
    #[arg(long, value_name = "FILE")]
    pub gradescope: Option<PathBuf>,
    /// JUnit XML, one testcase per test.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A Markdown summary (e.g. for `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Which seeds run twice, their runs compared: code whose runs differ cannot be replayed,
/// so its failures could not be debugged, and its seeds fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Determinism {
    /// None (`--no-check-determinism`).
    Off,
    /// The first seed of each batch (the default).
    #[default]
    FirstSeed,
    /// Every seed (`--check-determinism`).
    EverySeed,
}

impl Determinism {
    /// What `--check-determinism` / `--no-check-determinism` ask for.
    pub fn from_flags(every_seed: bool, off: bool) -> Determinism {
        match (every_seed, off) {
            (true, _) => Determinism::EverySeed,
            (false, true) => Determinism::Off,
            (false, false) => Determinism::FirstSeed,
        }
    }

    /// The value of `LAB_CHECK_DETERMINISM` that asks labrpc for it.
    pub fn env_value(self) -> &'static str {
        match self {
            Determinism::Off => "0",
            Determinism::FirstSeed => "first",
            Determinism::EverySeed => "1",
        }
    }

    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Determinism::Off => "each seed run once (--no-check-determinism)",
            Determinism::FirstSeed => "the first seed of each batch run twice",
            Determinism::EverySeed => "each seed run twice (--check-determinism)",
        }
    }
}

impl<'de> serde::Deserialize<'de> for Determinism {
    /// A name, or (from reports of older graders) a flag: `true` for every seed.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Flag(bool),
            Name(String),
        }
        Ok(match Either::deserialize(deserializer)? {
            Either::Flag(true) => Determinism::EverySeed,
            Either::Flag(false) => Determinism::Off,
            Either::Name(name) => match name.as_str() {
                "off" => Determinism::Off,
                "first-seed" => Determinism::FirstSeed,
                "every-seed" => Determinism::EverySeed,
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unknown determinism check {other:?}"
                    )));
                }
            },
        })
    }
}

/// A share of the work: `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// Which share, from 1.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("expected i/n, e.g. 1/4, not {text:?}"))?;
    let index: u64 = index
        .trim()
        .parse()
        .map_err(|e| format!("{index:?}: {e}"))?;
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|e| format!("{count:?}: {e}"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!("a shard is i/n with 1 <= i <= n, not {text:?}"));
    }
    Ok(Shard { index, count })
}

/// `300`, `300s`, `5m`, `1h` or `1500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (e.g. 300s, 5m)"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// `2G`, `512M`, `65536K` or a number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("not a size: {text:?} (e.g. 2G)"))?;
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("unknown unit {unit:?} in {text:?} (use K, M or G)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}
