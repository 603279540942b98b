//! [`Guard`]: the caller that owns a key's job.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
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
        let leftover = match inner.slots.get_mut(&key) {
            Some(slot) => {
                *slot = Slot::Ready(Arc::clone(&value));
                inner.settle(self.id, Outcome::Done(value))
            }
            // Unreachable by the slot invariant (only this guard removes the slot);
            // settling anyway keeps every waiter from hanging.
            None => inner.settle(self.id, Outcome::Done(value)),
        };
        drop(inner);
        drop((leftover, key));
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
    fn vacate(&mut self, outcome: Outcome<V>) {
        let Some(key) = self.key.take() else { return };
        let mut inner = self.map.inner.lock();
        // Our own slot: `Pending(self.id)` by the slot invariant. The removed key and
        // outcome are dropped after unlocking (user `Drop` code).
        let removed = inner.slots.remove_entry(&key);
        let leftover = inner.settle(self.id, outcome);
        drop(inner);
        drop((removed, leftover, key));
    }

    /// The key this guard owns.
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
