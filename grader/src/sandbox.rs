//! Starting a child in a process group of its own with a memory limit, and killing the
//! whole group.
//!
//! Lab code runs in the child; whatever it does (spawn processes, allocate without bound,
//! hang), killing the group and the address-space limit bound it. std has no safe wrapper
//! for `setrlimit` or for signalling a process group, hence this module's `unsafe`.

#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// Spawns `command` as the leader of a new process group, with its address space limited
/// to `memory_limit` bytes.
pub fn spawn_isolated(command: &mut Command, memory_limit: u64) -> io::Result<Child> {
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it calls setrlimit alone, allocates nothing and
    // takes no lock.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: memory_limit as libc::rlim_t,
                rlim_max: memory_limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
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
