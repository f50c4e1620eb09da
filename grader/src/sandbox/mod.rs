//! Starting a child confined: in a process group of its own, under resource limits, with
//! the descriptors it is given, and in a [`Jail`] (Landlock and seccomp); killing the whole
//! group.
//!
//! Lab code runs in the test children, and (at compile time) in the builds of a
//! submission. Whatever it does (spawn processes, allocate without bound, hang, read or
//! write files), the jail, the limits and killing the group bound it. std has no safe
//! wrapper for `setrlimit`, `dup2` or for signalling a process group, hence this module's
//! `unsafe`.

#![allow(unsafe_code)]

mod jail;
mod probe;

pub use jail::{Jail, Prepared, SYSTEM_LIBRARIES, toolchain_dirs, which};
pub use probe::{Availability, probe};

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd as _, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// How a child is confined.
#[derive(Default)]
pub struct Confinement {
    /// Address-space limit (RLIMIT_AS), in bytes.
    pub memory: u64,
    /// Largest file the child may write (RLIMIT_FSIZE), in bytes.
    pub file_size: Option<u64>,
    /// Descriptors the child inherits, at the numbers given.
    pub fds: Vec<(OwnedFd, RawFd)>,
    /// The jail, if the child is jailed.
    pub jail: Option<Prepared>,
}

/// Spawns `command` as the leader of a new process group, confined as `confinement` says.
pub fn spawn(command: &mut Command, confinement: Confinement) -> io::Result<Child> {
    let Confinement {
        memory,
        file_size,
        fds,
        mut jail,
    } = confinement;
    assert!(
        fds.len() <= 8,
        "at most 8 descriptors are passed to a child"
    );
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: setrlimit, fcntl, dup2, prctl, and the jail's
    // system calls, which allocate nothing and take no lock on the path that succeeds.
    unsafe {
        command.pre_exec(move || {
            set_limit(libc::RLIMIT_AS, memory)?;
            if let Some(size) = file_size {
                set_limit(libc::RLIMIT_FSIZE, size)?;
            }
            if let Some(jail) = jail.as_mut() {
                jail.restrict_files()?;
            }
            // Move every descriptor out of the way first, so that placing one cannot close
            // another that sits at its target number.
            let mut moved = [-1; 8];
            for (slot, (fd, _)) in moved.iter_mut().zip(&fds) {
                *slot = libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 64);
                if *slot < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            for (&from, (_, to)) in moved.iter().zip(&fds) {
                // dup2 leaves the new descriptor open across exec.
                if libc::dup2(from, *to) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if let Some(jail) = jail.as_ref() {
                jail.filter_calls()?;
            }
            Ok(())
        });
    }
    command.spawn()
}

/// Sets a resource limit (soft and hard) in the calling process.
fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a valid rlimit.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Spawns `command` as the leader of a new process group, with its address space limited
/// to `memory_limit` bytes, and no other confinement.
pub fn spawn_isolated(command: &mut Command, memory_limit: u64) -> io::Result<Child> {
    spawn(
        command,
        Confinement {
            memory: memory_limit,
            ..Confinement::default()
        },
    )
}

/// Sends SIGKILL to every process in the group `group` (a child spawned by
/// [`spawn_isolated`]: its pid is its group's id).
pub fn kill_group(group: u32) {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return;
    };
    if group <= 1 {
        return; // never signal "every process" or init by mistake
    }
    // SAFETY: kill has no memory-safety preconditions; a negative pid names a group.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// The process groups running now, so that Ctrl-C can kill them all.
mod groups {
    use super::*;
    use std::sync::Mutex;

    /// A set of live process groups.
    #[derive(Default)]
    pub struct GroupSet(Mutex<BTreeSet<u32>>);

    impl GroupSet {
        /// Notes a group as running.
        pub fn insert(&self, group: u32) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(group);
        }

        /// Notes a group as ended.
        pub fn remove(&self, group: u32) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&group);
        }

        /// Kills every running group.
        pub fn kill_all(&self) {
            for &group in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                kill_group(group);
            }
        }
    }
}

pub use groups::GroupSet;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_runs_in_its_own_group_under_the_memory_limit() {
        let output = spawn_isolated(
            Command::new("sh")
                .args(["-c", "ulimit -v; ps -o pgid= -p $$"])
                .stdout(std::process::Stdio::piped()),
            1 << 30,
        )
        .and_then(Child::wait_with_output)
        .expect("sh runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("1048576"), "ulimit -v is in KiB: {text}");
        let group: u32 = lines.next().unwrap_or("").trim().parse().unwrap_or(0);
        assert_ne!(
            group,
            std::process::id(),
            "the child has a group of its own"
        );
    }

    #[test]
    fn killing_a_group_ends_it() {
        let mut child =
            spawn_isolated(Command::new("sleep").arg("30"), 1 << 30).expect("sleep runs");
        let set = GroupSet::default();
        set.insert(child.id());
        set.kill_all();
        let status = child.wait().expect("waits");
        assert!(!status.success());
    }
}
