//! [`Failures`]: the lowest failing entry and its error, and the first panic, shared
//! by the threads that write one extraction's files.

use std::any::Any;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::error::UnzipError;

/// The lowest failing index and its error, and the first panic, shared by the workers.
///
/// The error reported is the one of the lowest failing entry index, whatever the
/// timing: an entry is skipped (or abandoned between buffers) only once an entry with
/// a *lower* index has failed, so every entry below the final lowest failure has run
/// to completion and succeeded.
pub(crate) struct Failures {
    /// `usize::MAX` while nothing failed; 0 after a panic, which cancels everything.
    /// Workers read it between buffers; `Relaxed` is enough because it only decides
    /// whether to stop early, and the error itself is handed over through the mutex.
    lowest: AtomicUsize,
    /// Everything stops, entry 0 included (which no lower failure can stop): after a
    /// panic, or when the caller cancels.
    cancelled: AtomicBool,
    error: Mutex<Option<(usize, UnzipError)>>,
    /// A panic of a file job or of the progress callback, resumed on the owner thread
    /// once no worker is writing any more.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Failures {
    pub(crate) fn new() -> Self {
        Failures {
            lowest: AtomicUsize::new(usize::MAX),
            cancelled: AtomicBool::new(false),
            error: Mutex::new(None),
            panic: Mutex::new(None),
        }
    }

    /// Whether entry `index` no longer matters: a lower one failed, or everything
    /// was cancelled.
    pub(crate) fn should_stop(&self, index: usize) -> bool {
        self.lowest.load(Ordering::Relaxed) < index || self.cancelled.load(Ordering::Relaxed)
    }

    /// The lowest failing index so far, if any.
    pub(crate) fn lowest(&self) -> Option<usize> {
        let lowest = self.lowest.load(Ordering::Relaxed);
        (lowest != usize::MAX).then_some(lowest)
    }

    pub(crate) fn fail(&self, index: usize, error: UnzipError) {
        let mut slot = self.error.lock();
        if slot.as_ref().is_none_or(|(lowest, _)| index < *lowest) {
            *slot = Some((index, error));
        }
        self.lowest.fetch_min(index, Ordering::Relaxed);
    }

    pub(crate) fn panicked(&self, payload: Box<dyn Any + Send>) {
        self.panic.lock().get_or_insert(payload);
        self.cancel_all();
    }

    /// Stops every entry not finished yet, without an error of its own: the caller
    /// has one (or is unwinding).
    pub(crate) fn cancel_all(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.lowest.store(0, Ordering::Relaxed);
    }

    /// Once no worker runs any more: resumes the first panic, or returns the lowest
    /// failing entry's error.
    pub(crate) fn verdict(&self) -> Result<(), UnzipError> {
        if let Some(payload) = self.panic.lock().take() {
            resume_unwind(payload);
        }
        match self.error.lock().take() {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lower failure stops the entries above it, never itself or those below.
    #[test]
    fn a_failure_stops_only_the_entries_above_it() {
        let failures = Failures::new();
        failures.fail(
            3,
            UnzipError::EntryEndUnknown {
                index: 3,
                name: "x".into(),
                method: 0,
            },
        );
        assert!(!failures.should_stop(0) && !failures.should_stop(3));
        assert!(failures.should_stop(4));
    }

    /// Cancelling, or a panic, stops every entry, the first one too: no failure is
    /// lower than entry 0, so the lowest failing index alone could not stop it.
    #[test]
    fn cancelling_or_a_panic_stops_entry_zero_too() {
        let failures = Failures::new();
        failures.cancel_all();
        assert!(failures.should_stop(0));
        let failures = Failures::new();
        failures.panicked(Box::new("boom"));
        assert!(failures.should_stop(0));
        assert_eq!(failures.lowest(), Some(0));
    }
}
