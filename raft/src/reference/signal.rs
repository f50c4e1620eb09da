//! A wake-up flag between tasks: one side notifies, the other waits.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use futures::task::AtomicWaker;

/// Wakes one waiting task. Notifications do not queue up: several before a wait count as
/// one, which is what "there is new work" needs.
#[derive(Default)]
pub(crate) struct Signal {
    pending: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    pub(crate) fn notify(&self) {
        self.pending.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Whether a notification has arrived since the last wait, consuming it as a wait
    /// would (for the tests of the pure code, which has no tasks to wake).
    #[cfg(test)]
    pub(crate) fn take(&self) -> bool {
        self.pending.swap(false, Ordering::AcqRel)
    }

    /// Completes once a notification has arrived since the last wait.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.pending.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.pending.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}
