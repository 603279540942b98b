//! [`Guard`]: the caller that owns a key's job, and [`Owner`], the part of it that
//! `get_or_init` uses without a copy of the key.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use rustc_hash::FxBuildHasher;

use super::OnceMap;
use super::error::JobError;
use super::state::{FlightId, Inner, Outcome, Pending, Ready};
use crate::sync::MutexGuard;

/// Proof that the caller owns the job for a key: returned by
/// [`OnceMap::entry`] as [`Entry::Vacant`](super::Entry::Vacant).
///
/// Publish the job's result with [`Guard::complete`], or report a failure with
/// [`Guard::fail`]. Dropping the guard without either (an early return, `?`, a panic)
/// abandons the job: the key becomes vacant again and every waiter wakes with
/// [`WaitError::Abandoned`](crate::WaitError::Abandoned). No waiter can be left
/// hanging by an owner that went away.
///
/// A guard is `!Send`: the map records the thread that owns a job to detect waits that
/// would deadlock, so the guard must be settled on the thread that created it.
///
/// ```compile_fail
/// use inflight::{Entry, OnceMap};
///
/// let map: OnceMap<u32, u32> = OnceMap::new();
/// let Entry::Vacant(guard) = map.entry(&1) else { unreachable!() };
/// std::thread::scope(|s| {
///     s.spawn(move || guard.complete(1)); // error: `Guard` cannot be sent between threads
/// });
/// ```
///
/// # Leaking a guard
///
/// As with std's `MutexGuard`, [`std::mem::forget`]ting a guard is safe but never
/// settles its job: the key stays pending and its waiters block until the map is
/// [closed](OnceMap::close) (or, for [`Waiter::wait_timeout`](super::Waiter::wait_timeout),
/// until their deadline). Other keys are not affected. [`OnceMap::in_flight`] keeps
/// listing the job, with [`InFlight::owner_exited`](super::InFlight::owner_exited) set
/// once the thread that leaked it has exited.
#[must_use = "dropping the guard abandons the job; call `complete` or `fail`"]
pub struct Guard<'a, K, V, S = FxBuildHasher>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    owner: Owner<'a, K, V, S>,
    key: K,
}

impl<'a, K, V, S> Guard<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    pub(super) fn new(owner: Owner<'a, K, V, S>, key: K) -> Self {
        Guard { owner, key }
    }

    /// Publishes `value` for this key and wakes every thread waiting for it; each of
    /// them gets a clone. Later lookups of the key return it until it is
    /// [`removed`](OnceMap::remove).
    ///
    /// Takes the map's lock briefly; never waits for anything else.
    ///
    /// # Panics
    ///
    /// If threads wait for the job, one clone of `value` for them is made under the
    /// map's lock; if that `V::clone` panics, the job is abandoned instead (the key
    /// becomes vacant, its waiters get [`WaitError::Abandoned`](crate::WaitError::Abandoned))
    /// and the panic propagates to this caller.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, u64> = OnceMap::new();
    /// if let Entry::Vacant(guard) = map.entry("answer") {
    ///     guard.complete(42);
    /// }
    /// assert_eq!(map.get("answer"), Some(42));
    /// ```
    pub fn complete(self, value: V)
    where
        V: Clone,
    {
        self.owner.complete(value);
    }

    /// Reports that the job failed with `error`. Threads waiting for the key at this
    /// moment wake with [`WaitError::Failed`](crate::WaitError::Failed) carrying the
    /// error; the key becomes vacant again, so a later call runs the job again
    /// (failures are not memoized; store a `Result` as `V` to memoize them).
    ///
    /// Takes the map's lock briefly; never waits for anything else. Runs no user code
    /// under the lock.
    ///
    /// The waiters' [`JobError`] displays `error` and returns its
    /// [`source`](std::error::Error::source), so an error-chain printer shows each
    /// cause once. For a plain message use [`fail_with_message`](Guard::fail_with_message).
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, u64> = OnceMap::new();
    /// if let Entry::Vacant(guard) = map.entry("flaky") {
    ///     guard.fail(std::io::Error::other("connection reset"));
    /// }
    /// // Not memoized: the next caller owns the job again.
    /// assert!(matches!(map.entry("flaky"), Entry::Vacant(_)));
    /// ```
    pub fn fail<E>(self, error: E)
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.owner.fail(JobError::new(error));
    }

    /// Like [`fail`](Guard::fail), for an error that is a message rather than a
    /// [`std::error::Error`] (a `&str`, a `String`, or any type with `Display`): the
    /// waiters' [`JobError`] displays it and has no source.
    ///
    /// Takes the map's lock briefly; never waits for anything else. Runs no user code
    /// under the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<u32, u64> = OnceMap::new();
    /// if let Entry::Vacant(guard) = map.entry(&1) {
    ///     guard.fail_with_message("disk full");
    /// }
    /// assert!(matches!(map.entry(&1), Entry::Vacant(_)));
    /// ```
    pub fn fail_with_message<M>(self, message: M)
    where
        M: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.owner.fail(JobError::message(message));
    }

    /// The key this guard owns. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, usize> = OnceMap::new();
    /// if let Entry::Vacant(guard) = map.entry("numpy") {
    ///     let len = guard.key().len();
    ///     guard.complete(len);
    /// }
    /// assert_eq!(map.get("numpy"), Some(5));
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }
}

impl<K, V, S> fmt::Debug for Guard<'_, K, V, S>
where
    K: Eq + Hash + fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("key", &self.key)
            .field("flight", &self.owner.id)
            .finish_non_exhaustive()
    }
}

/// Owns flight `id` of `map`: settles it exactly once, by `complete`, `fail`, or by
/// being dropped (abandon). Finds its slot by the stored hash and the flight id, so no
/// user code runs under the lock to settle, except the one documented `V::clone` for
/// the waiters.
pub(super) struct Owner<'a, K, V, S> {
    map: &'a OnceMap<K, V, S>,
    hash: u64,
    id: FlightId,
    /// Set once the flight is settled, so `Drop` does not settle it again.
    settled: bool,
    /// Keeps the owner on its thread (see [`Guard`]).
    _not_send: PhantomData<*const ()>,
}

impl<'a, K, V, S> Owner<'a, K, V, S> {
    pub(super) fn new(map: &'a OnceMap<K, V, S>, hash: u64, id: FlightId) -> Self {
        Owner {
            map,
            hash,
            id,
            settled: false,
            _not_send: PhantomData,
        }
    }

    /// Publishes `value`: the key moves from `pending` to `ready` with it, and the
    /// waiters, if any, get a clone made under the lock. If that clone panics,
    /// abandons instead and re-raises the panic.
    pub(super) fn complete(mut self, value: V)
    where
        V: Clone,
    {
        self.settled = true;
        let mut locked = self.map.inner.lock();
        let inner = &mut *locked;
        let Ok(found) = inner
            .pending
            .find_entry(self.hash, |pending| pending.flight.id == self.id)
        else {
            // Unreachable by the invariants (only this owner removes its flight); nobody
            // waits on a flight that is not there, so there is nobody to tell.
            return;
        };
        let copy = if found.get().flight.waiters > 0 {
            // `V::clone` under the lock, before any change: if it panics, the flight is
            // still pending and is abandoned here, so no waiter is stranded.
            match catch_unwind(AssertUnwindSafe(|| value.clone())) {
                Ok(copy) => Some(copy),
                Err(payload) => {
                    remove_and_settle(locked, self.hash, self.id, Outcome::Abandoned);
                    drop(value);
                    if !std::thread::panicking() {
                        resume_unwind(payload);
                    }
                    return;
                }
            }
        } else {
            None
        };
        let (Pending { hash, key, flight }, _) = found.remove();
        // No `Hash` and no `Eq`: the stored hash places it, and the table grows with
        // stored hashes.
        inner
            .ready
            .insert_unique(hash, Ready { hash, key, value }, |ready| ready.hash);
        if copy.is_some() {
            inner.unblock_all(self.id);
        }
        drop(locked);
        if let (Some(shared), Some(copy)) = (&flight.shared, copy) {
            shared.settle(Outcome::Done(copy));
        }
        // The flight's owner token is released here, after unlocking.
    }

    /// Reports a failure: the key becomes vacant, the waiters get the error.
    pub(super) fn fail(mut self, error: JobError) {
        self.vacate(Outcome::Failed(error));
    }

    /// Removes the flight and hands `outcome` to its waiters. No user code runs under
    /// the lock; the removed key is dropped after unlocking.
    fn vacate(&mut self, outcome: Outcome<V>) {
        self.settled = true;
        remove_and_settle(self.map.inner.lock(), self.hash, self.id, outcome);
    }
}

/// Removes flight `id` (of key hash `hash`) from `pending`, unlocks, and hands
/// `outcome` to its waiters; the removed key is dropped after unlocking, so no user
/// code runs under the lock. The one way a flight ends without a value.
fn remove_and_settle<K, V>(
    mut locked: MutexGuard<'_, Inner<K, V>>,
    hash: u64,
    id: FlightId,
    outcome: Outcome<V>,
) {
    let inner = &mut *locked;
    let Ok(found) = inner
        .pending
        .find_entry(hash, |pending| pending.flight.id == id)
    else {
        // Unreachable by the invariants; see `Owner::complete`.
        return;
    };
    let (removed, _) = found.remove();
    if removed.flight.waiters > 0 {
        inner.unblock_all(id);
    }
    drop(locked);
    if let Some(shared) = &removed.flight.shared {
        shared.settle(outcome);
    }
    drop(removed);
}

impl<K, V, S> Drop for Owner<'_, K, V, S> {
    /// Abandons the job if it was neither completed nor failed: the key becomes vacant
    /// and every waiter wakes with `Abandoned`. Runs on early return and during a
    /// panic's unwinding alike.
    fn drop(&mut self) {
        if !self.settled {
            self.vacate(Outcome::Abandoned);
        }
    }
}
