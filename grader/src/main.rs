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
use grader::layout::Lent;
use grader::report::{self, Report};
use grader::sandbox::{self, GroupSet};
use grader::swarm::{self, Hunt};
use grader::{class, handout, layout, source, submission};

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
        Some(Command::Gradescope(args)) => write_bundle(&tree, &args),
        Some(Command::Grade(args)) => grade_submissions(&tree, &args),
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
            missing_references(tree)
        ));
    }
    let implementation = if reference {
        Implementation::Reference
    } else {
        lent_implementation(tree, args.raft_reference, args.rsm_reference)?
    };
    // A selection the implementation refuses (Lab 2 on the reference Raft) stops here,
    // before the build.
    grader::select::for_implementation(implementation, &args.part, &args.test)?;
    let jailed = jail_children(false, args.children.trusted)?;
    let target = Target {
        tree: tree.to_path_buf(),
        implementation,
        submission: None,
        commit: source::git_commit(tree),
        target_dir: None,
        build_limits: None,
    };
    run_grade(&target, args, jailed)
}

/// The reference directories `tree` lacks, for messages (a handout made with
/// `--raft-reference` has the reference Raft but not the reference KV or sharded KV).
fn missing_references(tree: &Path) -> String {
    layout::REFERENCE
        .iter()
        .filter(|entry| !tree.join(entry).exists())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The student's code on the reference layers `--raft-reference` and `--rsm-reference` ask
/// for (none: the student's code alone), once `tree` is found to have them.
fn lent_implementation(
    tree: &Path,
    raft_reference: bool,
    rsm_reference: bool,
) -> Result<Implementation, String> {
    Ok(match Lent::from_flags(raft_reference, rsm_reference) {
        Lent::Nothing => Implementation::Student,
        Lent::Raft => {
            check_raft_reference(tree)?;
            Implementation::RaftReference
        }
        Lent::RaftAndRsm => {
            check_rsm_reference(tree)?;
            Implementation::RsmReference
        }
    })
}

/// Stops `--rsm-reference` in a tree without the reference rsm, saying where it comes from.
fn check_rsm_reference(tree: &Path) -> Result<(), String> {
    if layout::has_rsm_reference(tree) && layout::has_raft_reference(tree) {
        return Ok(());
    }
    Err(format!(
        "--rsm-reference: this tree has no reference rsm ({} is not here). Your course hands \
         it out for Lab 4 if it offers it (a handout made with `grader handout \
         --rsm-reference`); without it, grade your sharded KV service on your own rsm: \
         `cargo run --release -p grader -- --part 4a,4b` (with `--raft-reference` if your \
         tree has the reference Raft)",
        layout::RSM_REFERENCE
    ))
}

/// Stops `--raft-reference` in a tree without the reference Raft, saying where it comes
/// from.
fn check_raft_reference(tree: &Path) -> Result<(), String> {
    if layout::has_raft_reference(tree) {
        return Ok(());
    }
    Err(format!(
        "--raft-reference: this tree has no reference Raft ({} is not here). Your course \
         hands it out for Labs 3 and 4 if it offers it (a handout made with `grader handout \
         --raft-reference`); without it, grade your rsm and KV service, or your sharded KV \
         service, on your own Raft: `cargo run --release -p grader -- --part rsm,3a,3b` or \
         `--part 4a,4b`",
        layout::RAFT_REFERENCE
    ))
}

/// `grader handout DIR`.
fn write_handout(tree: &Path, args: &HandoutArgs) -> Result<ExitCode, String> {
    if !layout::has_reference(tree) {
        return Err(format!(
            "this is a students' tree already ({} is not here): make handouts from the \
             instructors' tree",
            missing_references(tree)
        ));
    }
    let lent = Lent::from_flags(args.raft_reference, args.rsm_reference);
    let plan = handout::plan_with(tree, lent)?;
    let dir = handout::prepare_dir(tree, &args.dir, args.force)?;
    plan.write(&dir)?;
    let summary = &plan.summary;
    eprintln!(
        "grader: wrote the students' tree{} to {}: {} files ({} with their instructors' lines \
         taken out: {}); left out {} files: {}",
        match lent {
            Lent::Nothing => String::new(),
            Lent::Raft => format!(
                " with the reference Raft ({}; the `raft-reference` feature)",
                layout::RAFT_REFERENCE
            ),
            Lent::RaftAndRsm => format!(
                " with the reference Raft and rsm ({} and {}; the `raft-reference` and \
                 `rsm-reference` features)",
                layout::RAFT_REFERENCE,
                layout::RSM_REFERENCE
            ),
        },
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

/// `grader gradescope DIR`.
fn write_bundle(tree: &Path, args: &grader::cli::BundleArgs) -> Result<ExitCode, String> {
    // Grading with `--raft-reference` builds the reference Raft, and with `--rsm-reference`
    // the reference rsm too: the autograder's tree must have them.
    let flag = |name: &str| args.grade_args.iter().any(|arg| arg == name);
    let lent = Lent::from_flags(flag("--raft-reference"), flag("--rsm-reference"));
    let plan = handout::plan_with(tree, lent)?;
    let dir = handout::prepare_dir(tree, &args.dir, args.force)?;
    plan.write(&dir)?;
    let toolchain = grader::bundle::pinned_toolchain();
    grader::bundle::write_files(&dir, &toolchain, &args.grade_args)?;
    eprintln!(
        "grader: wrote the autograder to {} (the students' tree, setup.sh and run_autograder; \
         Rust {toolchain} pinned). Zip its contents (cd {} && zip -r ../autograder.zip .) \
         and upload the zip to Gradescope; run_autograder grades with: grade \
         /autograder/submission {}",
        dir.display(),
        dir.display(),
        args.grade_args.join(" ")
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

/// `grader grade SUBMISSION...`: the student-editable files of each submission over the
/// students' tree of this one, graded as the student's code (never the reference).
fn grade_submissions(tree: &Path, args: &SubmissionArgs) -> Result<ExitCode, String> {
    // Wrong paths, a dirty tree, or a machine that cannot jail the code fail here, before
    // anything is copied.
    let entries = class::expand(&args.submissions)?;
    class::check_clean(tree, args.allow_dirty)?;
    let implementation =
        lent_implementation(tree, args.grade.raft_reference, args.grade.rsm_reference)?;
    grader::select::for_implementation(implementation, &args.grade.part, &args.grade.test)?;
    let jailed = jail_children(true, args.grade.children.trusted)?;
    let lent = Lent::from_flags(args.grade.raft_reference, args.grade.rsm_reference);
    let plan = handout::plan_with(tree, lent)?;
    let fingerprint = class::fingerprint(tree)?;
    let target_dir = compile::submissions_target_dir(tree);
    let _lock = compile::lock_target_dir(&target_dir)?;
    let limits = jailed.then_some(compile::BuildLimits {
        timeout: args.build_timeout,
        memory: args.build_memory,
    });
    let target_for = |pristine: PathBuf, taken| Target {
        tree: pristine,
        implementation,
        submission: Some(taken),
        commit: source::git_commit(tree),
        target_dir: Some(target_dir.clone()),
        build_limits: limits,
    };
    if let [entry] = &entries[..] {
        let scratch = TempDir::new("grader-submission")?;
        let pristine = scratch.path().join("tree");
        plan.write(&pristine)?;
        let taken = submission::take(&entry.path, &pristine)?;
        let graded = run_grade(&target_for(pristine, taken), &args.grade, jailed);
        compile::remove_lab_artifacts(&target_dir);
        check_unchanged(tree, &fingerprint, &entry.name)?;
        return graded;
    }
    if args.grade.outputs.json.is_some()
        || args.grade.outputs.gradescope.is_some()
        || args.grade.outputs.junit.is_some()
        || args.grade.outputs.markdown.is_some()
    {
        return Err(format!(
            "{} submissions: their reports go to --out ({}), one set each; --json, \
             --gradescope, --junit and --markdown are for one submission",
            entries.len(),
            args.out.display()
        ));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let parts = catalogue::parts();
    let csv_path = args.out.join("class.csv");
    let mut csv = class::csv_header(&parts);
    let settings = child_settings(&args.grade, args.out.clone(), jailed);
    stop_children_on_interrupt(&settings);
    let started = std::time::Instant::now();
    let mut all_full = true;
    for (i, entry) in entries.iter().enumerate() {
        if settings.stop.load(Ordering::SeqCst) {
            break;
        }
        eprintln!(
            "grader: [{}/{}] {} ({})",
            i + 1,
            entries.len(),
            entry.name,
            entry.path.display()
        );
        let one = std::time::Instant::now();
        *settings.pages.lock().unwrap_or_else(|e| e.into_inner()) =
            args.out.join(&entry.name).join("timeline");
        let graded = (|| {
            let scratch = TempDir::new("grader-submission")?;
            let pristine = scratch.path().join("tree");
            plan.write(&pristine)?;
            let taken = submission::take(&entry.path, &pristine)?;
            grade_with(&target_for(pristine, taken), &args.grade, &settings)
        })();
        compile::remove_lab_artifacts(&target_dir);
        let seconds = one.elapsed().as_secs_f64();
        match &graded {
            Ok(report) => {
                all_full &= report.score == report.max_score && !report.interrupted;
                write_class_reports(&args.out, &entry.name, report)?;
                csv.push_str(&class::csv_row(entry, &parts, Some(report), seconds, ""));
                eprintln!(
                    "grader: {}: {}/{} in {seconds:.1} s",
                    entry.name, report.score, report.max_score
                );
            }
            Err(problem) => {
                all_full = false;
                csv.push_str(&class::csv_row(entry, &parts, None, seconds, problem));
                eprintln!("grader: {}: not graded: {problem}", entry.name);
            }
        }
        std::fs::write(&csv_path, &csv)
            .map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
        check_unchanged(tree, &fingerprint, &entry.name)?;
    }
    eprintln!(
        "grader: graded {} submissions in {:.1} s; the class: {}",
        entries.len(),
        started.elapsed().as_secs_f64(),
        csv_path.display()
    );
    Ok(if all_full && !settings.stop.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Stops grading if the instructors' tree changed while `name` was graded: nothing a
/// submission does may reach it, and a later grade would be made with other files.
fn check_unchanged(tree: &Path, fingerprint: &str, name: &str) -> Result<(), String> {
    let now = class::fingerprint(tree)?;
    if now == fingerprint {
        Ok(())
    } else {
        Err(format!(
            "the instructors' tree {} changed while {name} was graded: stopping (see `git \
             status` there); grades made after the change would not be comparable",
            tree.display()
        ))
    }
}

/// One submission's reports in a class: `NAME.json`, `NAME.md`, and the table as
/// `NAME.txt`.
fn write_class_reports(out: &Path, name: &str, report: &Report) -> Result<(), String> {
    grade::write_outputs(
        report,
        &grader::cli::Outputs {
            json: Some(out.join(format!("{name}.json"))),
            markdown: Some(out.join(format!("{name}.md"))),
            ..Default::default()
        },
    )?;
    let table = out.join(format!("{name}.txt"));
    std::fs::write(&table, report::table::render(report))
        .map_err(|e| format!("cannot write {}: {e}", table.display()))
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

/// How many children share a core: `max(1, jobs / cores)`.
fn load_factor(jobs: Option<usize>) -> u32 {
    let cores = grade::default_jobs().max(1);
    let jobs = jobs.unwrap_or(cores);
    u32::try_from(jobs.div_ceil(cores))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Grades `target`, prints the table and writes the reports; exits 0 for full points, 1
/// for fewer.
fn run_grade(target: &Target, args: &GradeArgs, jailed: bool) -> Result<ExitCode, String> {
    let settings = child_settings(args, pages_dir(target), jailed);
    stop_children_on_interrupt(&settings);
    let started = std::time::Instant::now();
    let report = grade_with(target, args, &settings)?;
    let code = finish(&report, &args.outputs)?;
    eprintln!("grader: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(code)
}

/// How the children of a grading run run.
fn child_settings(args: &GradeArgs, pages: PathBuf, jailed: bool) -> Arc<ChildSettings> {
    Arc::new(ChildSettings {
        timeout: args.children.timeout,
        memory: args.children.memory,
        check_determinism: args.determinism(),
        load_factor: load_factor(args.children.jobs),
        cpu_budget: catalogue::cpu_budget,
        max_failures: Some(args.max_failures),
        swarm: false,
        watchdog: args.children.watchdog,
        scratch: std::env::temp_dir().join(format!("grader-{}", std::process::id())),
        pages: std::sync::Mutex::new(pages),
        jailed,
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    })
}

/// Grades `target` with `settings`: the report.
fn grade_with(
    target: &Target,
    args: &GradeArgs,
    settings: &ChildSettings,
) -> Result<Report, String> {
    let scratch = &settings.scratch;
    std::fs::create_dir_all(scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let report = grade::grade(target, args, settings, false);
    let _ = std::fs::remove_dir_all(scratch);
    report
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
    let implementation = if args.reference {
        Implementation::Reference
    } else {
        lent_implementation(tree, args.raft_reference, args.rsm_reference)?
    };
    grader::select::for_implementation(implementation, &args.part, &args.test)?;
    let jailed = jail_children(false, args.children.trusted)?;
    let scratch = std::env::temp_dir().join(format!("grader-swarm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let settings = Arc::new(ChildSettings {
        timeout: args.children.timeout,
        memory: args.children.memory,
        check_determinism: grader::cli::Determinism::Off,
        load_factor: load_factor(args.children.jobs),
        cpu_budget: catalogue::cpu_budget,
        max_failures: Some(1),
        swarm: true,
        watchdog: args.children.watchdog,
        scratch: scratch.clone(),
        pages: std::sync::Mutex::new(tree.join("target").join("timeline")),
        jailed,
        groups: GroupSet::default(),
        stop: AtomicBool::new(false),
    });
    stop_children_on_interrupt(&settings);
    let hunt = Hunt {
        implementation,
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
