//! The only module that swaps in loom's and shuttle's primitives. (Under
//! `--cfg shuttle` the stream's block pool and its threshold for large entries also
//! shrink, in `unzip/stream/`, so that the model's small archives reach every wait.)
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
//! - The seekable unzipper's own lock and condvar (`unzip/execute.rs`, parking_lot's):
//!   no model covers it; real-thread tests do.
//!
//! The streaming extraction (`unzip/stream/`) takes its threads, locks, condvar,
//! channels and decoding thread-local from [`stream`]: the real ones (parking_lot,
//! crossbeam-channel, std), or shuttle's under `--cfg shuttle`, for the model of its
//! writers, block pool and relays in `shuttle-tests/tests/stream.rs`. Not loom's: its
//! threads are more than loom's five.
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

/// The streaming extraction's threads, lock, condvar, channels and decoding
/// thread-local: parking_lot's, crossbeam-channel's and std's, or shuttle's under
/// `--cfg shuttle` (with crossbeam's shape: `bounded`, `unbounded`, a `Sender` for
/// both). Under `--cfg loom` the real ones: no loom model runs a stream. The decoding
/// thread-local serves the seekable path too, so under `--cfg shuttle` a seekable
/// extraction (on rayon's threads, outside any execution) would panic: no model runs
/// one.
#[cfg(not(shuttle))]
pub(crate) mod stream {
    pub(crate) use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, unbounded};
    pub(crate) use parking_lot::{Condvar, Mutex};
    pub(crate) use std::thread::{Builder, JoinHandle, Scope, ScopedJoinHandle, scope};
    pub(crate) use std::thread_local;

    /// Starts a thread named `name` in `scope`, or says why the system gave none.
    pub(crate) fn spawn_scoped<'scope, T: Send + 'scope>(
        scope: &'scope Scope<'scope, '_>,
        name: &str,
        f: impl FnOnce() -> T + Send + 'scope,
    ) -> std::io::Result<ScopedJoinHandle<'scope, T>> {
        Builder::new().name(name.into()).spawn_scoped(scope, f)
    }

    /// Whether the thread has ended.
    pub(crate) fn is_finished<T>(thread: &JoinHandle<T>) -> bool {
        thread.is_finished()
    }

    /// The cores the writers schedule for when the caller names none.
    pub(crate) fn cores() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }

    /// A point of the protocol the model must reach (counted under shuttle only).
    #[inline(always)]
    pub(crate) fn reached(_event: &'static str) {}
}

/// Shuttle's primitives in the shapes the streaming extraction uses (see the
/// non-shuttle module of the same name).
#[cfg(shuttle)]
pub(crate) mod stream {
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use shuttle::sync::mpsc;
    pub(crate) use shuttle::thread::{Builder, JoinHandle, Scope, ScopedJoinHandle, scope};
    pub(crate) use shuttle::thread_local;
    pub(crate) use std::sync::mpsc::TryRecvError;

    /// Shuttle's mutex with parking_lot's shape (see `Condvar::wait`).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(shuttle::sync::Mutex<T>);

    /// The guard of [`Mutex`]; `None` only inside [`Condvar::wait`].
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<shuttle::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(shuttle::sync::Mutex::new(value))
        }

        #[track_caller]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(PoisonError::into_inner)))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("a guard outside a wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("a guard outside a wait")
        }
    }

    /// Shuttle's condvar with parking_lot's `wait(&mut guard)`.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(shuttle::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(shuttle::sync::Condvar::new())
        }

        #[track_caller]
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("a guard outside a wait");
            guard.0 = Some(self.0.wait(inner).unwrap_or_else(PoisonError::into_inner));
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// crossbeam's `Sender`: one type for bounded and unbounded channels.
    #[derive(Debug)]
    pub(crate) enum Sender<T> {
        Unbounded(mpsc::Sender<T>),
        Bounded(mpsc::SyncSender<T>),
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            match self {
                Sender::Unbounded(sender) => Sender::Unbounded(sender.clone()),
                Sender::Bounded(sender) => Sender::Bounded(sender.clone()),
            }
        }
    }

    impl<T> Sender<T> {
        pub(crate) fn send(&self, value: T) -> Result<(), mpsc::SendError<T>> {
            match self {
                Sender::Unbounded(sender) => sender.send(value),
                Sender::Bounded(sender) => sender.send(value),
            }
        }

        pub(crate) fn try_send(&self, value: T) -> Result<(), mpsc::TrySendError<T>> {
            match self {
                Sender::Unbounded(sender) => sender
                    .send(value)
                    .map_err(|error| mpsc::TrySendError::Disconnected(error.0)),
                Sender::Bounded(sender) => sender.try_send(value),
            }
        }
    }

    /// crossbeam's `Receiver`, as far as the stream uses it.
    #[derive(Debug)]
    pub(crate) struct Receiver<T>(mpsc::Receiver<T>);

    impl<T> Receiver<T> {
        pub(crate) fn recv(&self) -> Result<T, mpsc::RecvError> {
            self.0.recv()
        }

        pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
            self.0.try_recv()
        }

        /// Not counted under shuttle (only `Debug` output asks).
        pub(crate) fn len(&self) -> usize {
            0
        }
    }

    impl<T> IntoIterator for Receiver<T> {
        type Item = T;
        type IntoIter = mpsc::IntoIter<T>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.into_iter()
        }
    }

    impl<'a, T> IntoIterator for &'a Receiver<T> {
        type Item = T;
        type IntoIter = mpsc::Iter<'a, T>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.iter()
        }
    }

    pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
        let (sender, receiver) = mpsc::sync_channel(capacity);
        (Sender::Bounded(sender), Receiver(receiver))
    }

    pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        let (sender, receiver) = mpsc::channel();
        (Sender::Unbounded(sender), Receiver(receiver))
    }

    /// Shuttle's threads have no names and always start.
    pub(crate) fn spawn_scoped<'scope, T: Send + 'scope>(
        scope: &'scope Scope<'scope, '_>,
        _name: &str,
        f: impl FnOnce() -> T + Send + 'scope,
    ) -> std::io::Result<ScopedJoinHandle<'scope, T>> {
        Ok(scope.spawn(f))
    }

    /// Shuttle's handles cannot tell: every thread is joined at the end.
    pub(crate) fn is_finished<T>(_thread: &JoinHandle<T>) -> bool {
        false
    }

    /// The cores a model schedules for ([`set_cores`]; 2 unless set).
    pub(crate) fn cores() -> usize {
        match CORES.load(Ordering::Relaxed) {
            0 => 2,
            cores => cores,
        }
    }

    static CORES: AtomicUsize = AtomicUsize::new(0);

    std::thread_local! {
        /// How often each point of the protocol was reached, over every execution
        /// since the last [`take_reached`]: a model that never reaches the pool's
        /// wait, say, proves nothing about it. Per OS thread, as shuttle runs all of
        /// a model's executions on its test's own thread: models running side by side
        /// (`cargo test` runs tests in parallel) do not count each other's. std's
        /// thread-local: a count, not a modelled operation.
        static REACHED: std::cell::RefCell<std::collections::BTreeMap<&'static str, u64>> =
            const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
    }

    /// Counts one more visit of `event`.
    pub(crate) fn reached(event: &'static str) {
        REACHED.with(|reached| *reached.borrow_mut().entry(event).or_default() += 1);
    }

    /// The counts so far, and starts again from none.
    pub(crate) fn take_reached() -> std::collections::BTreeMap<&'static str, u64> {
        REACHED.with(|reached| std::mem::take(&mut *reached.borrow_mut()))
    }

    /// Sets the cores the writers of the next streams schedule for.
    pub(crate) fn set_cores(cores: usize) {
        CORES.store(cores, Ordering::Relaxed);
    }
}
