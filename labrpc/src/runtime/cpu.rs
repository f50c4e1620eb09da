//! The CPU time the calling thread has used, for per-run figures (never for a decision
//! inside a simulation).

#![allow(unsafe_code)] // one call to clock_gettime, which std does not wrap

use std::time::Duration;

/// CPU time used so far by the calling thread, where the platform tells it.
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}
