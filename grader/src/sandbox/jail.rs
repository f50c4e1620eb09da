//! What a confined process may touch: the files it may read, run and write (Landlock), and
//! the system calls it may not make (seccomp). Built in the grader, applied in the child
//! between `fork` and `exec` (see [`super::spawn`]).
//!
//! Two jails are used: a test child's, which may read its own binary and the system
//! libraries and write nothing (its results and its timeline page reach the grader through
//! descriptors it inherits), and may start no process; and a build's, which may read the
//! tree being built, the toolchain and the registry, write only its target directory, and
//! run the toolchain's programs.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// The file access a confined process has, and whether it may start processes.
#[derive(Debug, Clone, Default)]
pub struct Jail {
    /// Directories and files it may read (and list) beneath.
    pub read: Vec<PathBuf>,
    /// Directories and files it may read and execute beneath.
    pub execute: Vec<PathBuf>,
    /// Directories and files it may read, write, create and remove beneath.
    pub write: Vec<PathBuf>,
    /// Refuse the system calls that start processes or reach beyond the process (a test
    /// child's lab code needs none of them; a build needs them).
    pub no_processes: bool,
}

/// The system directories every dynamically linked program reads and executes (the kernel
/// checks the right to execute on the program's loader): the loader, libc, and the
/// loader's cache.
pub const SYSTEM_LIBRARIES: &[&str] = &[
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/etc/ld.so.cache",
];

/// A jail, ready to be applied in a child: the Landlock ruleset (its file descriptors
/// open) and the seccomp programs.
pub struct Prepared {
    ruleset: Option<RulesetCreated>,
    /// Filters in the order they are installed.
    filters: Vec<BpfProgram>,
}

impl Jail {
    /// Opens the paths and builds the filters. Paths that do not exist are skipped.
    pub fn prepare(&self) -> Result<Prepared, String> {
        let ruleset = self.ruleset().map_err(|e| format!("Landlock: {e}"))?;
        let filters = if self.no_processes {
            seccomp_filters().map_err(|e| format!("seccomp: {e}"))?
        } else {
            Vec::new()
        };
        Ok(Prepared {
            ruleset: Some(ruleset),
            filters,
        })
    }

    fn ruleset(&self) -> Result<RulesetCreated, landlock::RulesetError> {
        // Files and directories (ABI 3: with truncation) are required; the rest (device
        // ioctls, TCP, signals and abstract sockets outside the jail) is taken where the
        // kernel has it.
        let required = AccessFs::from_all(ABI::V3);
        let mut created = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(required)?
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(ABI::V5))?
            .handle_access(AccessNet::from_all(ABI::V4))?
            .scope(Scope::from_all(ABI::V6))?
            .create()?;
        let read = AccessFs::from_read(ABI::V5) & !AccessFs::Execute;
        let execute = AccessFs::from_read(ABI::V5);
        let write = AccessFs::from_all(ABI::V5);
        for (paths, access) in [
            (&self.read, read),
            (&self.execute, execute),
            (&self.write, write),
        ] {
            for path in paths {
                let Ok(fd) = PathFd::new(path) else {
                    continue; // a path this machine does not have
                };
                // A rule on a file may only grant file rights.
                let access = if path.is_dir() {
                    access
                } else {
                    access & AccessFs::from_file(ABI::V5)
                };
                created = created.add_rule(PathBeneath::new(fd, access))?;
            }
        }
        Ok(created)
    }
}

impl Prepared {
    /// Applies the jail's file rules to the calling process. Meant for a child between
    /// `fork` and `exec`: it makes system calls only (no allocation, no lock) on the path
    /// that succeeds. Sets `no_new_privs` first, which Landlock and seccomp both need. Call
    /// it before descriptors are moved into place (they may land on the ruleset's own).
    pub fn restrict_files(&mut self) -> std::io::Result<()> {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if let Some(ruleset) = self.ruleset.take() {
            match ruleset.restrict_self() {
                Ok(status) if status.ruleset != landlock::RulesetStatus::NotEnforced => {}
                _ => return Err(std::io::Error::from_raw_os_error(libc::ENOTSUP)),
            }
        }
        Ok(())
    }

    /// Installs the jail's seccomp filters in the calling process (after
    /// [`Prepared::restrict_files`]; the last step before `exec`).
    pub fn filter_calls(&self) -> std::io::Result<()> {
        for filter in &self.filters {
            seccompiler::apply_filter(filter)
                .map_err(|_| std::io::Error::from_raw_os_error(libc::EPERM))?;
        }
        Ok(())
    }
}

/// The seccomp filters of a test child: `clone3` answers "not implemented" (so that the C
/// library falls back to `clone`, whose flags a filter can read), and the calls that start
/// a process or reach beyond the process are refused with `EPERM`.
///
/// `execve` cannot be refused here (the filter is installed before the child's own `exec`);
/// Landlock lets the child execute nothing but its own binary, and the grader's channel is
/// closed on `exec`, so a process that re-executes itself has no way to write a verdict.
fn seccomp_filters() -> Result<Vec<BpfProgram>, seccompiler::Error> {
    let arch = std::env::consts::ARCH.try_into().map_err(|_| {
        seccompiler::Error::Backend(seccompiler::BackendError::InvalidTargetArch(
            std::env::consts::ARCH.to_owned(),
        ))
    })?;
    let not_implemented = SeccompFilter::new(
        [(libc::SYS_clone3, vec![])].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )?;
    let always = || vec![];
    let condition = |arg, len, op, value| SeccompCondition::new(arg, len, op, value);
    let mut refused: Vec<(i64, Vec<SeccompRule>)> = vec![
        // clone without CLONE_THREAD makes a process; with it, a thread (allowed).
        (
            libc::SYS_clone,
            vec![SeccompRule::new(vec![condition(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
                0,
            )?])?],
        ),
        // Raising a limit (prlimit64 with a new limit; setrlimit).
        (
            libc::SYS_prlimit64,
            vec![SeccompRule::new(vec![condition(
                2,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::Ne,
                0,
            )?])?],
        ),
        (libc::SYS_setrlimit, always()),
        // Network sockets (Unix sockets stay: nothing outside listens for this child).
        (
            libc::SYS_socket,
            vec![SeccompRule::new(vec![condition(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Ne,
                libc::AF_UNIX as u64,
            )?])?],
        ),
    ];
    for call in [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_pidfd_getfd,
        libc::SYS_pidfd_send_signal,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_chroot,
        libc::SYS_pivot_root,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_mknodat,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        libc::SYS_syslog,
        libc::SYS_fanotify_init,
    ] {
        refused.push((call, always()));
    }
    #[cfg(target_arch = "x86_64")]
    for call in [
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_mknod,
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_kexec_file_load,
    ] {
        refused.push((call, always()));
    }
    let refused = SeccompFilter::new(
        refused.into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?;
    Ok(vec![not_implemented.try_into()?, refused.try_into()?])
}

/// The directories of the Rust toolchain and the crate registry that a build reads:
/// `CARGO_HOME` and `RUSTUP_HOME` (or their defaults under `HOME`), and the directory of
/// the `cargo` and `rustc` being run.
pub fn toolchain_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let var_or = |name: &str, default: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    let mut dirs: Vec<PathBuf> = [
        var_or("CARGO_HOME", ".cargo"),
        var_or("RUSTUP_HOME", ".rustup"),
    ]
    .into_iter()
    .flatten()
    .collect();
    for program in ["cargo", "rustc"] {
        if let Some(dir) = which(program).and_then(|p| p.parent().map(Path::to_path_buf)) {
            dirs.push(dir);
        }
    }
    dirs
}

/// Where `program` is on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
