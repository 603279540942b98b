//! [`Guard`]: the caller that owns a key's job.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use rustc_hash::FxBuildHasher;

use super::OnceMap;
use super::state::{FlightId, Outcome, Slot};
use crate::error::JobError;

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
#[must_use = "dropping the guard abandons the job; call `complete` or `fail`"]
pub struct Guard<'a, K, V, S = FxBuildHasher>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    map: &'a OnceMap<K, V, S>,
    /// `None` once the job was settled through `complete` or `fail`.
    key: Option<K>,
    id: FlightId,
    /// Keeps the guard on the owner's thread (see the type docs).
    _not_send: PhantomData<*const ()>,
}

impl<'a, K, V, S> Guard<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    pub(super) fn new(map: &'a OnceMap<K, V, S>, key: K, id: FlightId) -> Self {
        Guard {
            map,
            key: Some(key),
            id,
            _not_send: PhantomData,
        }
    }

    /// Publishes `value` for this key and wakes every thread waiting for it; each of
    /// them gets a clone. Later lookups of the key return it until it is
    /// [`removed`](OnceMap::remove).
    ///
    /// Takes the map's lock briefly; never waits for anything else.
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
    pub fn complete(self, value: V) {
        self.publish(Arc::new(value));
    }

    /// Publishes a value that is already shared (used by `get_or_init`, which returns
    /// a clone of it to its caller).
    pub(super) fn publish(mut self, value: Arc<V>) {
        let Some(key) = self.key.take() else { return };
        let mut inner = self.map.inner.lock();
        // The key's `Hash`/`Eq` run here, under the lock. If they panic, the slot is
        // found by flight id instead (no user code) and the panic is re-raised once
        // the job is settled: a panicking key must not strand the waiters.
        let set = catch_unwind(AssertUnwindSafe(|| {
            if let Some(slot) = inner.slots.get_mut(&key) {
                *slot = Slot::Ready(Arc::clone(&value));
            }
            // `None` is unreachable by the slot invariant (only this guard removes
            // the slot); settling below keeps every waiter from hanging anyway.
        }));
        let hash_panic = set.err().inspect(|_| {
            if let Some(slot) = inner.slots.values_mut().find(|slot| self.owns(slot)) {
                *slot = Slot::Ready(Arc::clone(&value));
            }
        });
        let leftover = inner.settle(self.id, Outcome::Done(value));
        drop(inner);
        drop((leftover, key));
        if let Some(payload) = hash_panic {
            resume_unwind(payload);
        }
    }

    /// Reports that the job failed with `error`. Threads waiting for the key at this
    /// moment wake with [`WaitError::Failed`](crate::WaitError::Failed) carrying the
    /// error; the key becomes vacant again, so a later call runs the job again
    /// (failures are not memoized; store a `Result` as `V` to memoize them).
    ///
    /// Takes the map's lock briefly; never waits for anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, u64> = OnceMap::new();
    /// if let Entry::Vacant(guard) = map.entry("flaky") {
    ///     guard.fail("connection reset");
    /// }
    /// // Not memoized: the next caller owns the job again.
    /// assert!(matches!(map.entry("flaky"), Entry::Vacant(_)));
    /// ```
    pub fn fail<E>(mut self, error: E)
    where
        E: fmt::Debug + Send + Sync + 'static,
    {
        self.vacate(Outcome::Failed(JobError::new(error)));
    }

    /// Removes the pending slot and settles the flight with `outcome`.
    ///
    /// If the key's `Hash`/`Eq` panic, the slot is removed by flight id instead (no
    /// user code) and the panic is re-raised after the job is settled, unless the
    /// thread is already unwinding (a second panic would abort).
    fn vacate(&mut self, outcome: Outcome<V>) {
        let Some(key) = self.key.take() else { return };
        let mut inner = self.map.inner.lock();
        let (removed, hash_panic) =
            match catch_unwind(AssertUnwindSafe(|| inner.slots.remove_entry(&key))) {
                Ok(removed) => (removed.into_iter().collect::<Vec<_>>(), None),
                Err(payload) => {
                    let removed = inner.slots.extract_if(|_, slot| self.owns(slot)).collect();
                    (removed, Some(payload))
                }
            };
        let leftover = inner.settle(self.id, outcome);
        drop(inner);
        // The removed key and the outcome are user types: dropped after unlocking.
        drop((removed, leftover, key));
        if let Some(payload) = hash_panic
            && !std::thread::panicking()
        {
            resume_unwind(payload);
        }
    }

    /// Whether `slot` is this guard's pending slot.
    fn owns(&self, slot: &Slot<V>) -> bool {
        matches!(slot, Slot::Pending(id) if *id == self.id)
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
        self.key
            .as_ref()
            .expect("invariant: the key is only taken by methods that consume the guard")
    }
}

impl<K, V, S> Drop for Guard<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Abandons the job if it was neither completed nor failed: the key becomes vacant
    /// and every waiter wakes with `Abandoned`. Runs on early return and during a
    /// panic's unwinding alike.
    fn drop(&mut self) {
        self.vacate(Outcome::Abandoned);
    }
}

impl<K, V, S> fmt::Debug for Guard<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("flight", &self.id)
            .field("settled", &self.key.is_none())
            .finish_non_exhaustive()
    }
}
