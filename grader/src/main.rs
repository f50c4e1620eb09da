//! `cargo run --release -p grader`: grades the lab code in this tree. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

use grader::child::ChildSettings;
use grader::cli::{Cli, Command, GradeArgs};
use grader::compile::Implementation;
use grader::grade::{self, Target};
use grader::report::{self, Report};
use grader::sandbox::GroupSet;

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

/// The workspace the grader was built in, which it grades.
fn this_tree() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
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
        scratch: scratch.clone(),
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    });
    let on_interrupt = Arc::clone(&settings);
    // Without a handler, Ctrl-C ends the grader and no report is written; the children,
    // in their own groups, would not even see it.
    let _ = ctrlc::set_handler(move || {
        if !on_interrupt.stop.swap(true, Ordering::SeqCst) {
            eprintln!("\ngrader: interrupted; stopping the tests and writing what ran");
        }
        on_interrupt.groups.kill_all();
    });
    let started = std::time::Instant::now();
    let report = grade::grade(target, args, &settings, false);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = report?;
    let code = finish(&report, &args.outputs)?;
    eprintln!("grader: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(code)
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
