//! The grader's channel: where a graded test binary writes its verdicts, so that nothing
//! lab code can reach writes one.
//!
//! Lab code runs in the same process as labrpc. Whatever it can name (the environment, the
//! arguments, a file path) it can also write to, so verdicts cannot leave through any of
//! those. Instead the grader starts the child with three open file descriptors and
//! `LAB_GRADER=1`:
//!
//! - [`TICKET_FD`]: a pipe holding a secret key, fresh for this child. It is read and
//!   closed at the first [`Sim::run_test`](super::Sim::run_test), before any lab code runs;
//! - [`RESULTS_FD`]: a file where each seed's verdict is appended, with an HMAC-SHA256 of
//!   the line under that key (lab code may write there by some means; it cannot sign);
//! - [`PAGE_FD`]: a file for the one timeline page a child draws (its first failing seed,
//!   or the seed it ended in), which starts with a line naming the test and seed.
//!
//! Both files are closed on `exec`. The grader's sandbox denies the child every file path
//! outside its own binary and the system libraries (so neither `/proc/self/fd` nor
//! `/proc/self/mem` is open to it), and the lab crates forbid `unsafe` code, so lab code
//! cannot turn a raw descriptor number into a file nor read the key out of memory. The
//! residual risk (a soundness hole of the compiler, which safe code can exploit) is
//! written down in the grader's README.
//!
//! A graded process runs one test once: the channel is taken by the first `run_test`, and
//! any other `run_test` in the process (lab code starting a test of its own, on any thread,
//! at any time) is refused.

#![allow(unsafe_code)] // taking the inherited descriptors: std has no safe way to adopt one

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The descriptor of the pipe holding the key (read once, then closed).
pub const TICKET_FD: i32 = 3;
/// The descriptor of the results file.
pub const RESULTS_FD: i32 = 4;
/// The descriptor of the timeline page file.
pub const PAGE_FD: i32 = 5;
/// The environment variable that says a grader started this process with the channel.
pub const GRADER_VAR: &str = "LAB_GRADER";
/// The first line of a page written to [`PAGE_FD`]: this prefix, the test, a tab, the seed,
/// and ` -->`.
pub const PAGE_MARK: &str = "<!-- labrpc-page\t";

/// The open channel of a graded process.
pub(crate) struct Channel {
    key: Vec<u8>,
    results: Mutex<File>,
    page: Mutex<File>,
    /// Set when the channel's `run_test` ends: nothing is written after that.
    closed: AtomicBool,
}

/// Set once a `run_test` has taken the channel (or found there is none to take).
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The channel, once taken.
static CHANNEL: OnceLock<Channel> = OnceLock::new();

/// The channel, if a `run_test` of this graded process has taken it (for the last words of
/// a process that ends mid-run).
pub(crate) fn current() -> Option<&'static Channel> {
    CHANNEL.get()
}

/// Takes the channel for the calling `run_test`, if this process was started by a grader.
/// `None` outside grading. Panics if a grader started the process and this is not the
/// process's first `run_test`, or if the descriptors are not what the grader gives.
pub(crate) fn take() -> Option<&'static Channel> {
    let channel = open()?;
    Some(CHANNEL.get_or_init(|| channel))
}

fn open() -> Option<Channel> {
    let graded = std::env::var_os(GRADER_VAR).is_some_and(|v| !v.is_empty() && v != "0");
    let first = !TAKEN.swap(true, Ordering::SeqCst);
    if !graded {
        return None;
    }
    assert!(
        first,
        "labrpc: a graded process runs one test once, but Sim::run_test was called again \
         (lab code may not start tests of its own)"
    );
    for fd in [TICKET_FD, RESULTS_FD, PAGE_FD] {
        // SAFETY: fcntl on a descriptor number; no memory is passed.
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
        assert!(
            open,
            "labrpc: {GRADER_VAR} is set, but descriptor {fd} is not open: this binary is \
             meant to be started by the grader (or it executed itself again, which closes \
             the grader's channel)"
        );
    }
    // SAFETY: the three descriptors are open (above); a grader that sets LAB_GRADER passes
    // them for labrpc alone, and this is the only place that adopts them, once per process
    // (TAKEN above).
    let (ticket, results, page) = unsafe {
        (
            OwnedFd::from_raw_fd(TICKET_FD),
            OwnedFd::from_raw_fd(RESULTS_FD),
            OwnedFd::from_raw_fd(PAGE_FD),
        )
    };
    for fd in [&results, &page] {
        close_on_exec(fd);
    }
    let mut key = Vec::new();
    File::from(ticket)
        .read_to_end(&mut key)
        .unwrap_or_else(|e| {
            panic!("labrpc: {GRADER_VAR} is set, but the grader's key cannot be read: {e}")
        });
    assert!(
        key.len() >= 16,
        "labrpc: {GRADER_VAR} is set, but the grader's key is missing (this binary is meant \
         to be started by the grader)"
    );
    Some(Channel {
        key,
        results: Mutex::new(File::from(results)),
        page: Mutex::new(File::from(page)),
        closed: AtomicBool::new(false),
    })
}

fn close_on_exec(fd: &OwnedFd) {
    use std::os::fd::AsRawFd as _;
    // SAFETY: fcntl on a descriptor this process owns; no memory is passed.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

impl Channel {
    /// Appends `line` (without its newline) with its signature.
    pub(crate) fn record(&self, line: &str) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let signed = format!("{line}\t{}\n", sign(&self.key, line));
        let mut file = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(signed.as_bytes()) {
            panic!("labrpc: cannot write the grader's results: {e}");
        }
    }

    /// Replaces the page file's contents by `html`, marked as `test`'s `seed`.
    pub(crate) fn write_page(&self, test: &str, seed: u64, html: &str) -> std::io::Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut file = self.page.lock().unwrap_or_else(|e| e.into_inner());
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(format!("{PAGE_MARK}{test}\t{seed} -->\n").as_bytes())?;
        file.write_all(html.as_bytes())
    }

    /// Ends the channel: nothing more is written to it.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// The HMAC-SHA256 of `line` under `key`, in lower-case hex (what the grader checks).
pub fn sign(key: &[u8], line: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(line.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_key_and_line() {
        let a = sign(b"0123456789abcdef", "labrpc-result\tpass\tt\t1");
        assert_eq!(a.len(), 64);
        assert_ne!(a, sign(b"0123456789abcdeF", "labrpc-result\tpass\tt\t1"));
        assert_ne!(a, sign(b"0123456789abcdef", "labrpc-result\tpass\tt\t2"));
        assert_eq!(a, sign(b"0123456789abcdef", "labrpc-result\tpass\tt\t1"));
    }
}
