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
/// to completion and succeeded. One entry may fail twice in a stream, once on the
/// thread that writes it and once on the reading thread (the stream ends inside the
/// entry after bytes its writer finds corrupt); the writer's error wins then
/// ([`fail_reading`](Self::fail_reading)), whichever came first.
pub(crate) struct Failures {
    /// `usize::MAX` while nothing failed; 0 after a panic, which cancels everything.
    /// Workers read it between buffers; `Relaxed` is enough because it only decides
    /// whether to stop early, and the error itself is handed over through the mutex.
    lowest: AtomicUsize,
    /// Everything stops, entry 0 included (which no lower failure can stop): after a
    /// panic, or when the caller cancels.
    cancelled: AtomicBool,
    /// The failing entry, whether the reading thread found it (`true` ranks after a
    /// writer's error at the same entry), and the error.
    error: Mutex<Option<((usize, bool), UnzipError)>>,
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

    /// Records the failure of entry `index`, found by the thread that writes it.
    pub(crate) fn fail(&self, index: usize, error: UnzipError) {
        self.record((index, false), error);
    }

    /// Records the failure of entry `index` found by a stream's reading thread: the
    /// stream failed or ended in it, or what it read there is refused. A writer's
    /// error at the same entry outranks it, since the writer's is about bytes that
    /// arrived before (or, for a file that could not be written, about the entry
    /// itself); so the verdict does not depend on which thread got there first.
    pub(crate) fn fail_reading(&self, index: usize, error: UnzipError) {
        self.record((index, true), error);
    }

    fn record(&self, key: (usize, bool), error: UnzipError) {
        let mut slot = self.error.lock();
        if slot.as_ref().is_none_or(|(lowest, _)| key < *lowest) {
            *slot = Some((key, error));
        }
        self.lowest.fetch_min(key.0, Ordering::Relaxed);
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

    /// At one entry, the writer's error is the verdict, whether it came before or
    /// after the reading thread's; a lower entry's error beats both.
    #[test]
    fn at_one_entry_the_writers_error_outranks_the_reading_threads() {
        let ended = |index| UnzipError::StreamEnded {
            offset: index as u64,
        };
        let corrupt = |index| UnzipError::DirectoryWithData {
            index,
            name: "w".into(),
        };
        for writer_first in [false, true] {
            let failures = Failures::new();
            if writer_first {
                failures.fail(2, corrupt(2));
                failures.fail_reading(2, ended(2));
            } else {
                failures.fail_reading(2, ended(2));
                failures.fail(2, corrupt(2));
            }
            assert!(matches!(
                failures.verdict(),
                Err(UnzipError::DirectoryWithData { index: 2, .. })
            ));
        }
        let failures = Failures::new();
        failures.fail(3, corrupt(3));
        failures.fail_reading(2, ended(2));
        assert!(matches!(
            failures.verdict(),
            Err(UnzipError::StreamEnded { offset: 2 })
        ));
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
