//! `cargo run --release -p grader`: grades the lab code in this tree. See `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

use grader::child::ChildSettings;
use grader::cli::{Cli, Command, GradeArgs, HandoutArgs, SubmissionArgs, SwarmArgs};
use grader::compile::{self, Implementation};
use grader::files::TempDir;
use grader::grade::{self, Target};
use grader::report::{self, Report};
use grader::sandbox::{self, GroupSet};
use grader::swarm::{self, Hunt};
use grader::{handout, layout, source, submission};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let tree = this_tree();
    let result = match cli.command {
        None => grade_this_tree(&tree, cli.reference, &cli.grade),
        Some(Command::Swarm(args)) => run_swarm(&tree, &args),
        Some(Command::Merge(args)) => {
            grade::merge_files(&args.reports).and_then(|report| finish(&report, &args.outputs))
        }
        Some(Command::Handout(args)) => write_handout(&tree, &args),
        Some(Command::Grade(args)) => grade_submission(&tree, &args),
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

/// `grader [--reference]`: grades the code in this tree.
fn grade_this_tree(tree: &Path, reference: bool, args: &GradeArgs) -> Result<ExitCode, String> {
    if reference && !layout::has_reference(tree) {
        return Err(format!(
            "--reference: this is the students' tree (a handout), which has no reference \
             implementation ({} is not here); `cargo run --release -p grader` grades your code",
            layout::REFERENCE.join(", ")
        ));
    }
    let jailed = jail_children(false, args.children.trusted)?;
    let target = Target {
        tree: tree.to_path_buf(),
        implementation: if reference {
            Implementation::Reference
        } else {
            Implementation::Student
        },
        submission: None,
        commit: source::git_commit(tree),
        target_dir: None,
        build_limits: None,
    };
    run_grade(&target, args, jailed)
}

/// `grader handout DIR`.
fn write_handout(tree: &Path, args: &HandoutArgs) -> Result<ExitCode, String> {
    if !layout::has_reference(tree) {
        return Err(format!(
            "this is a students' tree already ({} is not here): make handouts from the \
             instructors' tree",
            layout::REFERENCE.join(", ")
        ));
    }
    let plan = handout::plan(tree)?;
    let dir = handout::prepare_dir(tree, &args.dir, args.force)?;
    plan.write(&dir)?;
    let summary = &plan.summary;
    eprintln!(
        "grader: wrote the students' tree to {}: {} files ({} with their instructors' lines \
         taken out: {}); left out {} files: {}",
        dir.display(),
        summary.files.len(),
        summary.rewritten.len(),
        summary.rewritten.join(", "),
        summary.left_out.len(),
        left_out_list(&summary.left_out),
    );
    if !summary.naming_the_reference.is_empty() {
        eprintln!(
            "grader: note: these files still name the reference's cargo features, which the \
             students' tree does not have; mark those lines with `instructors` markers (see \
             grader/src/markers.rs): {}",
            summary.naming_the_reference.join(", ")
        );
    }
    eprintln!(
        "grader: students may edit {}. Check that it builds: cd {} && cargo build --workspace \
         --all-targets",
        layout::editable_list(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The files left out, with each reference directory as one entry.
fn left_out_list(left_out: &[String]) -> String {
    let mut entries: Vec<String> = Vec::new();
    for dir in layout::REFERENCE {
        let count = left_out.iter().filter(|p| p.starts_with(dir)).count();
        if count > 0 {
            entries.push(format!("{dir} ({count} files)"));
        }
    }
    entries.extend(
        left_out
            .iter()
            .filter(|p| !layout::REFERENCE.iter().any(|dir| p.starts_with(dir)))
            .cloned(),
    );
    entries.join(", ")
}

/// `grader grade SUBMISSION`: the student-editable files of SUBMISSION over the students'
/// tree of this one, graded as the student's code (never the reference).
fn grade_submission(tree: &Path, args: &SubmissionArgs) -> Result<ExitCode, String> {
    // A wrong path, or a machine that cannot jail the code, fails here, before anything
    // is copied.
    submission::find_root(&args.submission)?;
    let jailed = jail_children(true, args.grade.children.trusted)?;
    let scratch = TempDir::new("grader-submission")?;
    let pristine = scratch.path().join("tree");
    handout::plan(tree)?.write(&pristine)?;
    let taken = submission::take(&args.submission, &pristine)?;
    eprintln!(
        "grader: took {} file(s) from {}; ignored {} (named with the grade)",
        taken.taken.len(),
        taken.path,
        taken.ignored.len()
    );
    let target_dir = compile::submissions_target_dir(tree);
    let _lock = compile::lock_target_dir(&target_dir)?;
    let target = Target {
        tree: pristine,
        implementation: Implementation::Student,
        submission: Some(taken),
        commit: source::git_commit(tree),
        target_dir: Some(target_dir.clone()),
        // Jailed where the machine can; with --trusted elsewhere, as the tests are.
        build_limits: jailed.then_some(compile::BuildLimits {
            timeout: args.build_timeout,
            memory: args.build_memory,
        }),
    };
    let graded = run_grade(&target, &args.grade, jailed);
    compile::remove_lab_artifacts(&target_dir);
    graded
}

/// Whether the test children run jailed: wherever the machine can jail them. Where it
/// cannot, grading a submission (untrusted code) stops unless `--trusted`; grading this
/// tree (your own code) warns and goes on.
fn jail_children(untrusted: bool, trusted: bool) -> Result<bool, String> {
    let missing = match sandbox::probe() {
        sandbox::Availability::Ready => return Ok(true),
        sandbox::Availability::Missing(missing) => missing,
    };
    if untrusted && !trusted {
        return Err(format!(
            "this machine cannot jail the tests, so code under grading could forge its \
             grade: {missing}. Grade on a machine that can (Linux 6.2 or newer), or pass \
             --trusted to grade code you trust without the jail"
        ));
    }
    eprintln!("grader: warning: the tests run without the jail: {missing}");
    Ok(false)
}

/// Where the timeline pages of `target`'s failing seeds go: `timeline/` in its target
/// directory.
fn pages_dir(target: &Target) -> PathBuf {
    target
        .target_dir
        .clone()
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .and_then(|dir| std::path::absolute(dir).ok())
                .unwrap_or_else(|| target.tree.join("target"))
        })
        .join("timeline")
}

/// Grades `target`, prints the table and writes the reports; exits 0 for full points, 1
/// for fewer.
fn run_grade(target: &Target, args: &GradeArgs, jailed: bool) -> Result<ExitCode, String> {
    let scratch = std::env::temp_dir().join(format!("grader-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let settings = Arc::new(ChildSettings {
        timeout: args.children.timeout,
        memory: args.children.memory,
        check_determinism: args.determinism(),
        max_failures: Some(args.max_failures),
        swarm: false,
        watchdog: args.children.watchdog,
        scratch: scratch.clone(),
        pages: pages_dir(target),
        jailed,
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
fn run_swarm(tree: &Path, args: &SwarmArgs) -> Result<ExitCode, String> {
    if args.reference && !layout::has_reference(tree) {
        return Err(
            "--reference: this is the students' tree (a handout), which has no reference \
             implementation"
                .into(),
        );
    }
    let jailed = jail_children(false, args.children.trusted)?;
    let scratch = std::env::temp_dir().join(format!("grader-swarm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let settings = Arc::new(ChildSettings {
        timeout: args.children.timeout,
        memory: args.children.memory,
        check_determinism: grader::cli::Determinism::Off,
        max_failures: Some(1),
        swarm: true,
        watchdog: args.children.watchdog,
        scratch: scratch.clone(),
        pages: tree.join("target").join("timeline"),
        jailed,
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
        jobs: args.children.jobs.unwrap_or_else(grade::default_jobs),
    };
    let found = swarm::hunt(tree, &hunt, &settings);
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
