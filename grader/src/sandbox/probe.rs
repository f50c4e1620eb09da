//! Whether this machine can jail a child: tried, not guessed, by starting a small program
//! in each kind of jail the grader uses.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{Confinement, Jail};

/// What the machine offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Landlock and seccomp both work: children can be jailed.
    Ready,
    /// Children cannot be jailed; the text says what is missing.
    Missing(String),
}

/// Starts `true` in a test child's jail (and, if that fails, in a jail without seccomp, to
/// say which part is missing).
pub fn probe() -> Availability {
    if !cfg!(target_os = "linux") {
        return Availability::Missing(format!(
            "the sandbox needs Linux (Landlock and seccomp); this is {}",
            std::env::consts::OS
        ));
    }
    let Some(program) = super::which("true").or_else(|| {
        ["/usr/bin/true", "/bin/true"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    }) else {
        return Availability::Missing("no `true` program to try the sandbox with".into());
    };
    let attempt = |no_processes: bool| -> Result<(), String> {
        let jail = Jail {
            read: Vec::new(),
            execute: super::SYSTEM_LIBRARIES
                .iter()
                .map(PathBuf::from)
                .chain([program.clone()])
                .collect(),
            write: Vec::new(),
            no_processes,
        };
        let prepared = jail.prepare()?;
        let status = super::spawn(
            Command::new(&program)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            Confinement {
                memory: 1 << 30,
                jail: Some(prepared),
                ..Confinement::default()
            },
        )
        .and_then(|mut child| child.wait())
        .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} in the jail ended with {status}",
                program.display()
            ))
        }
    };
    match attempt(true) {
        Ok(()) => Availability::Ready,
        Err(full) => match attempt(false) {
            Ok(()) => Availability::Missing(format!(
                "seccomp filters cannot be installed ({full}); the kernel needs \
                 CONFIG_SECCOMP_FILTER"
            )),
            Err(e) => Availability::Missing(format!(
                "Landlock cannot confine a process ({e}); it needs Linux 6.2 or newer with \
                 Landlock enabled (CONFIG_SECURITY_LANDLOCK, and `landlock` in the lsm= boot \
                 list), and a container that allows the landlock_* system calls"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_can_jail_a_child() {
        // CI and the development machines are Linux with Landlock and seccomp; the grader
        // refuses submissions where this fails.
        assert_eq!(super::probe(), super::Availability::Ready);
    }
}
