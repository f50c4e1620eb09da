//! The log reader: a run's events and logs, one column per node.
//!
//! ```text
//! # Replay a seed of a test and show it (logs at debug level, events, annotations):
//! cargo run -p tests --bin logs -- --test figure8_2c --seed 42
//! # ... only S0 and S1, only votes and roles, from 1 s to 3 s:
//! cargo run -p tests --bin logs -- --test figure8_2c --seed 42 \
//!     --nodes S0,S1 --topics vote,role --from 1s --to 3s
//! # Read LAB_LOG output saved earlier (or piped in):
//! LAB_SEED=42 LAB_LOG=debug cargo test -p tests -- --exact figure8_2c --nocapture > run.log
//! cargo run -p tests --bin logs -- run.log
//! ```
//!
//! A replay runs the test in a child process, with whatever Raft and KV service this
//! binary was built with (the `tests` package's cargo features choose), and
//! `--html` also writes the run's timeline page.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use labrpc::tester::timeline::columns::{self, ColumnOptions};
use labrpc::tester::timeline::{Nanos, Recording};

/// Shows a run's events and logs one column per node, from LAB_LOG output or by replaying
/// one seed of a test.
#[derive(Parser, Debug)]
#[command(name = "logs", version, about, long_about = None)]
struct Args {
    /// A file of LAB_LOG output to read (`-` for standard input). Not with --test.
    file: Option<PathBuf>,
    /// Replay this test (its name, e.g. `figure8_2c`) instead of reading a file.
    #[arg(long, requires = "seed", conflicts_with = "file")]
    test: Option<String>,
    /// The seed to replay.
    #[arg(long)]
    seed: Option<u64>,
    /// The log level (a LAB_LOG filter) captured in a replay.
    #[arg(long, default_value = "debug")]
    log: String,
    /// Also record these RPC messages in a replay (`all`, or method name parts such as
    /// `AppendEntries,RequestVote`).
    #[arg(long)]
    messages: Option<String>,
    /// Also write the replay's timeline page (and say where).
    #[arg(long)]
    html: bool,
    /// Only these nodes' columns (comma-separated names, e.g. `S0,S2,tester`).
    #[arg(long, value_delimiter = ',')]
    nodes: Option<Vec<String>>,
    /// Only these topics (comma-separated: `role,vote,commit,raft,tester,...`).
    #[arg(long, value_delimiter = ',')]
    topics: Option<Vec<String>>,
    /// Leave out these topics.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Start of the time window (virtual: `1.5`, `1.5s`, `1500ms`, `2m`).
    #[arg(long, value_parser = columns::parse_duration)]
    from: Option<Nanos>,
    /// End of the time window.
    #[arg(long, value_parser = columns::parse_duration)]
    to: Option<Nanos>,
    /// Lowest log level shown (`error`, `warn`, `info`, `debug`, `trace`).
    #[arg(long)]
    level: Option<String>,
    /// Total width in characters (default: the terminal's, or 160).
    #[arg(long)]
    width: Option<usize>,
    /// Colours: `auto` (when writing to a terminal), `always` or `never`.
    #[arg(long, default_value = "auto")]
    colour: String,
}

fn main() -> ExitCode {
    if let Ok(test) = std::env::var(CHILD_ENV) {
        return run_child(&test);
    }
    let args = Args::parse();
    let recording = match (&args.test, &args.file) {
        (Some(test), _) => match replay(&args, test) {
            Ok(recording) => recording,
            Err(e) => {
                eprintln!("logs: {e}");
                return ExitCode::FAILURE;
            }
        },
        (None, file) => match read_log(file.as_ref()) {
            Ok(text) => columns::parse_log(&text),
            Err(e) => {
                eprintln!("logs: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let colour = match args.colour.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal(),
    };
    let width = args.width.unwrap_or_else(|| {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(160)
    });
    let options = ColumnOptions {
        nodes: args.nodes.clone(),
        topics: args.topics.clone(),
        exclude_topics: args.exclude.clone(),
        from: args.from,
        to: args.to,
        width,
        colour,
        min_level: args.level.clone(),
    };
    print!("{}", columns::render_columns(&recording, &options));
    if let Some(failure) = &recording.failure {
        println!("\nthe run failed: {failure}");
    }
    ExitCode::SUCCESS
}

/// Reads LAB_LOG output from `file`, or from standard input.
fn read_log(file: Option<&PathBuf>) -> Result<String, String> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        _ => {
            if std::io::stdin().is_terminal() {
                return Err(
                    "give a file of LAB_LOG output, pipe one in, or replay a seed \
                     with --test NAME --seed N (see --help)"
                        .into(),
                );
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(text)
        }
    }
}

/// Replays `test`'s seed in a child process (this program again: lab code that ends its
/// process or overflows its stack cannot take the reader with it), with logs captured as
/// events, and returns what it recorded.
fn replay(args: &Args, test: &str) -> Result<Recording, String> {
    if !tests::suites::all().any(|case| case.name == test) {
        return Err(format!(
            "no test is named {test:?}; `cargo test -p tests -- --list` lists them"
        ));
    }
    let seed = args.seed.expect("clap requires --seed with --test");
    let events = std::env::temp_dir().join(format!(
        "lab-logs-{}-{test}-{seed}.json",
        std::process::id()
    ));
    eprintln!(
        "logs: replaying {test} with seed {seed} (raft: {})",
        tests::raft_implementation()
    );
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = std::process::Command::new(exe);
    child
        .env(CHILD_ENV, test)
        .env("LAB_SEED", seed.to_string())
        .env("LAB_RUNS", "1")
        .env_remove("LAB_CHECK_DETERMINISM")
        .env("LAB_LOG", &args.log)
        .env("LAB_LOG_CAPTURE", "1")
        .env("LAB_EVENTS", &events)
        .env("LAB_VIS", if args.html { "always" } else { "never" });
    if let Some(messages) = &args.messages {
        child.env("LAB_MESSAGES", messages);
    }
    // What the test says goes to standard error: standard output is the columns'.
    child.stdout(std::io::stderr());
    let status = child
        .status()
        .map_err(|e| format!("cannot start the replay: {e}"))?;
    let json = std::fs::read(&events).map_err(|e| {
        format!(
            "the replay ({status}) recorded nothing: {}: {e}",
            events.display()
        )
    })?;
    let _ = std::fs::remove_file(&events);
    if !status.success() {
        eprintln!("logs: the replay failed ({status}); its events are below");
    }
    serde_json::from_slice(&json).map_err(|e| format!("cannot read the recording: {e}"))
}

/// Set in the child that runs the replay: the test to run.
const CHILD_ENV: &str = "LAB_LOGS_REPLAY";

/// In the child: runs the test the parent named, and ends.
fn run_child(test: &str) -> ExitCode {
    let case = tests::suites::case(test);
    match std::panic::catch_unwind(|| tests::run(case)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
