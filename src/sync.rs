//! The only module that knows about loom and shuttle.
//!
//! The OnceMap takes its locks, condvars, thread identity and thread-locals from here,
//! and reads as plain `parking_lot` and `std`. Under `--cfg loom` the same names are
//! thin wrappers over loom's primitives, so the model tests in `loom-tests/` explore
//! every interleaving of the exact code that ships, for up to five threads. Under
//! `--cfg shuttle` they wrap shuttle's, whose random and PCT schedulers sample the
//! schedules of models with more threads than loom can finish (`shuttle-tests/`).
//!
//! Not from here, on purpose:
//! - `Arc`: std's everywhere. The map's reference counts carry no synchronisation the
//!   models need to explore (every hand-off goes through a lock below).
//! - The owner token's `exited` flag (`once_map/owner.rs`): a std atomic, because
//!   loom and shuttle destroy thread-locals outside their executions; it is a
//!   diagnostic no decision depends on.
//! - The unzipper's own lock and condvar (`unzip/execute.rs`, parking_lot's): no model
//!   covers the unzipper; real-thread tests do.
//!
//! Two kinds of lock, for two jobs:
//! - [`Mutex`]: parking_lot's, for the map's state. Short critical sections, taken on
//!   every call; parking_lot's uncontended lock and unlock are one atomic each.
//! - [`WakeAllMutex`] and [`WakeAllCondvar`]: std's, poison-free, for the threads that
//!   wait for one job. std's futex condvar wakes every waiter at once on `notify_all`;
//!   parking_lot's requeues them onto the mutex, so they would wake one after another,
//!   each woken by the unlock of the one before (`benches/README.md` measures both).
//!
//! Two gaps of the model checkers are bridged here, and only here:
//! - Neither loom's nor shuttle's `Condvar::wait_timeout` ever times out. Our
//!   `wait_until` checks the deadline before it blocks: a deadline that has already
//!   passed returns "timed out" without waiting, a later one waits without a timeout.
//!   Models reach the timeout branch with a zero timeout; real-thread tests cover real
//!   timeouts.
//! - Both run every model thread as a coroutine on one OS thread, so
//!   `std::thread::current()` and `std::thread_local!` cannot tell them apart. Thread
//!   identity (used for re-entrancy and wait-cycle detection) and the thread-local owner
//!   token come from this module's `thread` and `thread_local`, which are the model
//!   checker's under its cfg.

#[cfg(all(loom, shuttle))]
compile_error!("`--cfg loom` and `--cfg shuttle` exclude each other: build with one of them");

#[cfg(not(any(loom, shuttle)))]
mod imp {
    use std::sync::PoisonError;
    use std::time::Instant;

    pub(crate) use parking_lot::{Mutex, MutexGuard};
    pub(crate) use std::thread_local;

    pub(crate) mod thread {
        pub(crate) use std::thread::{Thread, ThreadId, current};
    }

    /// std's mutex without poisoning: a panic while it is held leaves the data as the
    /// panicking code left it, and every user of this type keeps its data consistent
    /// at each point where user code can panic.
    #[derive(Debug, Default)]
    pub(crate) struct WakeAllMutex<T>(std::sync::Mutex<T>);

    pub(crate) type WakeAllGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> WakeAllMutex<T> {
        pub(crate) fn new(value: T) -> Self {
            WakeAllMutex(std::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> WakeAllGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// std's condvar: `notify_all` wakes every waiter at once (one futex wake).
    #[derive(Debug, Default)]
    pub(crate) struct WakeAllCondvar(std::sync::Condvar);

    impl WakeAllCondvar {
        pub(crate) fn new() -> Self {
            WakeAllCondvar(std::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: WakeAllGuard<'a, T>) -> WakeAllGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(PoisonError::into_inner)
        }

        /// Waits for a notification or until `deadline`; `true` when it timed out.
        pub(crate) fn wait_until<'a, T>(
            &self,
            guard: WakeAllGuard<'a, T>,
            deadline: Instant,
        ) -> (WakeAllGuard<'a, T>, bool) {
            let timeout = deadline.saturating_duration_since(Instant::now());
            let (guard, result) = self
                .0
                .wait_timeout(guard, timeout)
                .unwrap_or_else(PoisonError::into_inner);
            (guard, result.timed_out())
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

/// The model checker's primitives: loom's and shuttle's have the same names and std's
/// signatures, so one set of wrappers serves both.
#[cfg(any(loom, shuttle))]
mod imp {
    #[cfg(loom)]
    use loom as checker;
    #[cfg(shuttle)]
    use shuttle as checker;

    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;
    use std::time::Instant;

    pub(crate) use checker::thread_local;

    pub(crate) mod thread {
        pub(crate) use super::checker::thread::{Thread, ThreadId, current};
    }

    /// The model checker's mutex with parking_lot's shape: `lock()` returns the guard
    /// directly, and a panic while it is held does not poison it (parking_lot has no
    /// poisoning; shuttle's mutex, like std's, would; loom's never does).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(checker::sync::Mutex<T>);

    /// The guard of [`Mutex`].
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(checker::sync::MutexGuard<'a, T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(checker::sync::Mutex::new(value))
        }

        #[track_caller]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(self.0.lock().unwrap_or_else(PoisonError::into_inner))
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(guard) => Some(MutexGuard(guard)),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                    Some(MutexGuard(poisoned.into_inner()))
                }
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.0
        }
    }

    /// The model checker's mutex with the poison-free std shape of the real `WakeAllMutex`.
    #[derive(Debug)]
    pub(crate) struct WakeAllMutex<T>(checker::sync::Mutex<T>);

    pub(crate) type WakeAllGuard<'a, T> = checker::sync::MutexGuard<'a, T>;

    impl<T> WakeAllMutex<T> {
        pub(crate) fn new(value: T) -> Self {
            WakeAllMutex(checker::sync::Mutex::new(value))
        }

        #[track_caller]
        pub(crate) fn lock(&self) -> WakeAllGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// The model checker's condvar with the shape of the real `WakeAllCondvar`.
    #[derive(Debug)]
    pub(crate) struct WakeAllCondvar(checker::sync::Condvar);

    impl WakeAllCondvar {
        pub(crate) fn new() -> Self {
            WakeAllCondvar(checker::sync::Condvar::new())
        }

        #[track_caller]
        pub(crate) fn wait<'a, T>(&self, guard: WakeAllGuard<'a, T>) -> WakeAllGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(PoisonError::into_inner)
        }

        /// Returns "timed out" at once when `deadline` has passed, else waits for a
        /// notification with no timeout (neither checker times out; see the module docs).
        #[track_caller]
        pub(crate) fn wait_until<'a, T>(
            &self,
            guard: WakeAllGuard<'a, T>,
            deadline: Instant,
        ) -> (WakeAllGuard<'a, T>, bool) {
            if Instant::now() >= deadline {
                return (guard, true);
            }
            (self.wait(guard), false)
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub(crate) use imp::*;
