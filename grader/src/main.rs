//! `cargo run --release -p grader`: grades the lab code in this tree. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

use grader::child::ChildSettings;
use grader::cli::{Cli, Command, GradeArgs, SwarmArgs};
use grader::compile::Implementation;
use grader::grade::{self, Target};
use grader::report::{self, Report};
use grader::sandbox::GroupSet;
use grader::swarm::{self, Hunt};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            let implementation = if cli.grade.reference {
                Implementation::Reference
            } else {
                Implementation::Student
            };
            let target = Target {
                tree: this_tree(),
                implementation,
                submission: None,
            };
            run_grade(&target, &cli.grade)
        }
        Some(Command::Swarm(args)) => run_swarm(&args),
        Some(Command::Merge(args)) => args
            .reports
            .iter()
            .map(|path| grade::read_report(path))
            .collect::<Result<Vec<_>, _>>()
            .and_then(report::merge)
            .and_then(|report| finish(&report, &args.outputs)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("grader: {message}");
            ExitCode::from(2)
        }
    }
}

/// The workspace to grade: the one around the current directory (as `cargo run` is run
/// from inside it), else the one the grader was built in. Found at run time, not baked in
/// at build time, so one grader binary grades whichever tree it is run in.
fn this_tree() -> PathBuf {
    let built_in = || {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        manifest.parent().map_or(manifest.clone(), PathBuf::from)
    };
    let Ok(mut dir) = std::env::current_dir() else {
        return built_in();
    };
    loop {
        if is_lab_workspace(&dir) {
            return dir;
        }
        if !dir.pop() {
            return built_in();
        }
    }
}

/// Whether `dir` is the root of a lab workspace: a Cargo workspace with the tests'
/// catalogue in it.
fn is_lab_workspace(dir: &std::path::Path) -> bool {
    dir.join("tests/catalogue/Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}

/// Grades `target`, prints the table and writes the reports; exits 0 for full points, 1
/// for fewer.
fn run_grade(target: &Target, args: &GradeArgs) -> Result<ExitCode, String> {
    let scratch = std::env::temp_dir().join(format!("grader-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let settings = Arc::new(ChildSettings {
        timeout: args.timeout,
        memory: args.memory,
        check_determinism: args.check_determinism,
        swarm: false,
        watchdog: args.watchdog,
        scratch: scratch.clone(),
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    });
    stop_children_on_interrupt(&settings);
    let started = std::time::Instant::now();
    let report = grade::grade(target, args, &settings, false);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = report?;
    let code = finish(&report, &args.outputs)?;
    eprintln!("grader: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(code)
}

/// Makes Ctrl-C stop the children and let the run write what it has. Without a handler,
/// Ctrl-C ends the grader and no report is written; the children, in their own groups,
/// would not even see it.
fn stop_children_on_interrupt(settings: &Arc<ChildSettings>) {
    let on_interrupt = Arc::clone(settings);
    let _ = ctrlc::set_handler(move || {
        if !on_interrupt.stop.swap(true, Ordering::SeqCst) {
            eprintln!("\ngrader: interrupted; stopping the tests and writing what ran");
        }
        on_interrupt.groups.kill_all();
    });
}

/// `grader swarm`: exits 1 if a seed failed, 0 if none did in the time given.
fn run_swarm(args: &SwarmArgs) -> Result<ExitCode, String> {
    let scratch = std::env::temp_dir().join(format!("grader-swarm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let settings = Arc::new(ChildSettings {
        timeout: args.timeout,
        memory: args.memory,
        check_determinism: false,
        swarm: true,
        watchdog: args.watchdog,
        scratch: scratch.clone(),
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    });
    stop_children_on_interrupt(&settings);
    let hunt = Hunt {
        implementation: if args.reference {
            Implementation::Reference
        } else {
            Implementation::Student
        },
        parts: args.part.clone(),
        tests: args.test.clone(),
        first_seed: args.seed.unwrap_or_else(fresh_seed),
        seeds_per_round: args.round.max(1),
        time: args.time,
        jobs: args.jobs.unwrap_or_else(grade::default_jobs),
    };
    let found = swarm::hunt(&this_tree(), &hunt, &settings);
    let _ = std::fs::remove_dir_all(&scratch);
    let found = found?;
    print!("{}", swarm::describe(&found));
    Ok(match found {
        swarm::Found::Failure { .. } => ExitCode::FAILURE,
        swarm::Found::Nothing { .. } => ExitCode::SUCCESS,
    })
}

/// A seed nobody chose: from the operating system's randomness. Only the first seed of a
/// hunt comes from here; it is printed, and every failure has its own replay command.
fn fresh_seed() -> u64 {
    use std::hash::BuildHasher as _;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id()) >> 16
}

/// Prints the table and writes the reports.
fn finish(report: &Report, outputs: &grader::cli::Outputs) -> Result<ExitCode, String> {
    print!("{}", report::table::render(report));
    grade::write_outputs(report, outputs)?;
    Ok(if report.score == report.max_score && !report.interrupted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
