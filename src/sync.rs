//! The only module that knows about loom.
//!
//! Production code imports its synchronisation primitives from here and reads as plain
//! `parking_lot` (`lock()` returns a guard, `Condvar::wait(&mut guard)`,
//! `wait_until(&mut guard, deadline).timed_out()`) and `std::thread`. Under `--cfg loom` the same names are thin wrappers over loom's
//! primitives, so the model tests in `loom-tests/` explore every interleaving of the
//! exact code that ships.
//!
//! Two loom gaps are bridged here, and only here:
//! - loom's `Condvar::wait_timeout` never times out. Our `wait_until` checks the
//!   deadline before it blocks: a deadline that has already passed returns
//!   "timed out" without waiting, a later one waits without a timeout. Models reach the
//!   timeout branch with a zero timeout; real-thread tests cover real timeouts.
//! - loom runs every model thread on one OS thread, so `std::thread::current()` cannot
//!   tell them apart. Thread identity (used for re-entrancy and wait-cycle detection)
//!   comes from this module's `thread`, which is loom's under loom.

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex};

    pub(crate) mod thread {
        pub(crate) use std::thread::{Thread, ThreadId, current};
    }
}

#[cfg(loom)]
mod imp {
    use std::ops::{Deref, DerefMut};
    use std::time::Instant;

    pub(crate) mod thread {
        pub(crate) use loom::thread::{Thread, ThreadId, current};
    }

    /// A loom mutex with parking_lot's shape: `lock()` returns the guard directly
    /// (loom never poisons).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// The guard of [`Mutex`]. The `Option` lets [`Condvar::wait`] move loom's guard
    /// out and back in while the caller keeps `&mut MutexGuard`, as with parking_lot.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        #[track_caller]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("loom mutexes never poison")))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0
                .as_ref()
                .expect("the guard is only moved out during a wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0
                .as_mut()
                .expect("the guard is only moved out during a wait")
        }
    }

    /// parking_lot's `WaitTimeoutResult`, rebuilt.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(self) -> bool {
            self.0
        }
    }

    /// A loom condvar with parking_lot's shape.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        #[track_caller]
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("the guard is present outside a wait");
            guard.0 = Some(self.0.wait(inner).expect("loom mutexes never poison"));
        }

        /// Returns "timed out" at once when `deadline` has passed, else waits for a
        /// notification with no timeout (loom cannot time out; see the module docs).
        #[track_caller]
        pub(crate) fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            deadline: Instant,
        ) -> WaitTimeoutResult {
            if Instant::now() >= deadline {
                return WaitTimeoutResult(true);
            }
            self.wait(guard);
            WaitTimeoutResult(false)
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub(crate) use imp::*;
