//! [`OnceMap`]: run a keyed job once while it is in flight.
//!
//! One `parking_lot::Mutex` guards all state (see `state.rs` for the invariants and
//! the slot state machine); each job in flight has its own `Condvar`, used with that
//! mutex, so settling one key wakes only that key's waiters.
//!
//! # What runs under the lock
//!
//! Only map bookkeeping, plus the keys' `Hash` and `Eq` (unavoidable for a hash map)
//! and `ToOwned` when a key is first inserted (avoiding it would cost a second lock
//! round trip on every miss). Each of these runs before any mutation in its critical
//! section, and parking_lot releases the lock during unwinding, so a panic there
//! leaves the map unlocked and unchanged. Job closures, `V::clone`, and the `Drop` of
//! removed keys, values and errors all run after unlocking.

mod guard;
mod state;
mod waiter;

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxBuildHasher;

pub use self::guard::Guard;
use self::state::{Inner, Slot};
pub use self::waiter::Waiter;
use crate::error::{TryInitError, WaitError};
use crate::sync::{Mutex, thread};

/// A map that runs a keyed job once while it is in flight and hands every concurrent
/// caller the result.
///
/// `V` is cloned out to every caller: store an `Arc<T>` for large values. `S` is the
/// hasher of the key map (FxHash by default: fast, not DoS-resistant; pass
/// `std::hash::RandomState` through [`OnceMap::with_hasher`] for keys an attacker
/// chooses).
///
/// # Examples
///
/// ```
/// use inflight::OnceMap;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let map: OnceMap<String, u64> = OnceMap::new();
/// let runs = AtomicUsize::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             let len = map.get_or_init("numpy-2.1.whl", || {
///                 runs.fetch_add(1, Ordering::Relaxed);
///                 13 // expensive work, done once
///             });
///             assert_eq!(len, Ok(13));
///         });
///     }
/// });
/// assert_eq!(runs.load(Ordering::Relaxed), 1);
/// ```
///
/// # Jobs that let their thread run other work
///
/// While a thread owns a key, it must not run unrelated queued work that may ask the
/// map for the same key. A job that calls rayon's `join`, `scope`, `install` or
/// `par_iter` on a pool does exactly that: while it waits for its parallel parts,
/// rayon lets its thread run other jobs of the pool, and one of them may be another
/// request for the key the thread owns. The map cannot let that request wait (the
/// owner would be waiting for itself), so it gets [`WaitError::WouldDeadlock`]; with
/// a plain `OnceLock` the same pattern hangs (rayon issue #1251). The same holds for
/// any executor that runs queued tasks on a waiting thread.
///
/// Either keep such jobs off the threads that call the map, or, as
/// [`UnzipCache`](crate::UnzipCache) does, have the owner do its work on its own
/// thread and use the pool only for helpers it never waits for before they start.
/// A related rule: a thread that blocks waiting for a key should not be one the
/// owner's job needs to make progress (the last free worker of the pool the job
/// runs on, say).
pub struct OnceMap<K, V, S = FxBuildHasher> {
    inner: Mutex<Inner<K, V, S>>,
}

/// What [`OnceMap::entry`] found for a key. Never blocks to produce it.
pub enum Entry<'a, K, V, S = FxBuildHasher>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// A published value (a clone).
    Ready(V),
    /// Another caller runs the job: wait for its outcome.
    Pending(Waiter<'a, K, V, S>),
    /// Nobody runs the job: the caller owns it now and must complete it, fail it, or
    /// drop the guard (which abandons it).
    Vacant(Guard<'a, K, V, S>),
    /// The map was closed and the key has no published value.
    Closed,
}

/// A snapshot of one job in flight, from [`OnceMap::in_flight`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InFlight<K> {
    /// The job's key.
    pub key: K,
    /// The thread that runs the job.
    pub owner: thread::ThreadId,
    /// That thread's name, if it has one.
    pub owner_name: Option<String>,
    /// How long the job has been running.
    pub running_for: Duration,
    /// How many callers wait for it.
    pub waiters: usize,
}

impl<K, V> OnceMap<K, V, FxBuildHasher> {
    /// An empty map with the default (FxHash) hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<u32, u32> = inflight::OnceMap::new();
    /// assert_eq!(map.get(&1), None);
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(FxBuildHasher)
    }
}

impl<K, V> Default for OnceMap<K, V, FxBuildHasher> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, S> OnceMap<K, V, S> {
    /// An empty map whose keys are hashed with `hasher`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: inflight::OnceMap<String, u32, RandomState> =
    ///     inflight::OnceMap::with_hasher(RandomState::new());
    /// assert_eq!(map.get("x"), None);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        OnceMap {
            inner: Mutex::new(Inner::new(hasher)),
        }
    }
}

impl<K, V, S> OnceMap<K, V, S>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// The published value for `key`, if there is one. Never blocks on a job: a key
    /// in flight reads as `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<String, u32> = inflight::OnceMap::new();
    /// map.get_or_init("a", || 1).unwrap();
    /// assert_eq!(map.get("a"), Some(1));
    /// assert_eq!(map.get("b"), None);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let value = match self.inner.lock().slots.get(key) {
            Some(Slot::Ready(value)) => Arc::clone(value),
            _ => return None,
        };
        Some(V::clone(&value))
    }

    /// Looks `key` up and, if it is vacant, makes the caller its job's owner. Never
    /// blocks on a job (it takes the map's lock briefly).
    ///
    /// The key is cloned (`to_owned`) only when it is inserted.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, Vec<u8>> = OnceMap::new();
    /// match map.entry("wheel") {
    ///     Entry::Ready(bytes) => println!("cached: {} bytes", bytes.len()),
    ///     Entry::Pending(waiter) => println!("someone else: {:?}", waiter.wait()),
    ///     Entry::Vacant(guard) => guard.complete(b"PK...".to_vec()),
    ///     Entry::Closed => println!("shutting down"),
    /// }
    /// assert!(matches!(map.entry("wheel"), Entry::Ready(_)));
    /// assert_eq!(format!("{:?}", map.entry("wheel")), "Ready([80, 75, 46, 46, 46])");
    /// ```
    pub fn entry<Q>(&self, key: &Q) -> Entry<'_, K, V, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut inner = self.inner.lock();
        match inner.slots.get(key) {
            Some(Slot::Ready(value)) => {
                let value = Arc::clone(value);
                drop(inner);
                Entry::Ready(V::clone(&value))
            }
            _ if inner.closed => Entry::Closed,
            Some(Slot::Pending(id)) => {
                let id = *id;
                let cond = inner.add_waiter(id);
                drop(inner);
                Entry::Pending(Waiter::new(self, id, cond))
            }
            None => {
                // Both clones before any mutation: a panicking `to_owned` leaves the
                // map unchanged. The guard needs its own copy to find the slot again.
                let stored = key.to_owned();
                let owned = key.to_owned();
                // Insert first: a panicking `Hash` here leaves no flight behind.
                let id = inner.next_flight;
                inner.slots.insert(stored, Slot::Pending(id));
                let started = inner.start_flight(thread::current());
                debug_assert_eq!(started, id);
                drop(inner);
                Entry::Vacant(Guard::new(self, owned, id))
            }
        }
    }

    /// The value for `key`, running `init` to make it if nobody has published one and
    /// no job for it is in flight; otherwise waits for the job in flight.
    ///
    /// Blocks while another caller runs the job. `init` runs on the calling thread,
    /// with no lock held, at most once per call:
    /// - returns a value: it is published and every waiter gets a clone;
    /// - panics: the panic propagates to this caller, the key becomes vacant, and the
    ///   waiters retry: one of them becomes the new owner;
    /// - re-enters the map: lookups of other keys work; waiting for this same key (or
    ///   closing a wait cycle through other keys) returns
    ///   [`WaitError::WouldDeadlock`] instead of hanging.
    ///
    /// # Errors
    ///
    /// - [`WaitError::WouldDeadlock`] when waiting would never end (see above).
    /// - [`WaitError::Failed`] when the owner this call waited for failed through
    ///   [`Guard::fail`] or [`get_or_try_init`](OnceMap::get_or_try_init).
    /// - [`WaitError::Closed`] when the map is closed and the key has no value.
    ///
    /// Abandoned jobs are retried, never reported.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<String, usize> = inflight::OnceMap::new();
    /// assert_eq!(map.get_or_init("six", || 6), Ok(6));
    /// assert_eq!(map.get_or_init("six", || unreachable!()), Ok(6));
    /// ```
    pub fn get_or_init<Q, F>(&self, key: &Q, init: F) -> Result<V, WaitError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> V,
    {
        loop {
            match self.entry(key) {
                Entry::Ready(value) => return Ok(value),
                Entry::Vacant(guard) => {
                    // A panic in `init` drops `guard` during unwinding: abandon.
                    let value = Arc::new(init());
                    guard.publish(Arc::clone(&value));
                    return Ok(V::clone(&value));
                }
                Entry::Pending(waiter) => match waiter.wait() {
                    Err(WaitError::Abandoned) => continue,
                    result => return result,
                },
                Entry::Closed => return Err(WaitError::Closed),
            }
        }
    }

    /// Like [`get_or_init`](OnceMap::get_or_init) for a job that can fail. A failure
    /// is shared, not memoized: the callers waiting at that moment get a clone of the
    /// error, the key becomes vacant, and the next call runs the job again.
    ///
    /// # Errors
    ///
    /// - [`TryInitError::Failed`] with the job's error: this caller's own, or a clone
    ///   of the error of the owner it waited for.
    /// - [`TryInitError::Wait`] for the errors of `get_or_init`; a failure whose error
    ///   is not an `E` (the owner used another error type) arrives here as
    ///   [`WaitError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{OnceMap, TryInitError};
    ///
    /// let map: OnceMap<String, u32> = OnceMap::new();
    /// let first = map.get_or_try_init("port", || "8080x".parse::<u32>().map_err(|e| e.to_string()));
    /// assert!(matches!(first, Err(TryInitError::Failed(_))));
    /// // Not memoized: the next call runs its job.
    /// assert_eq!(map.get_or_try_init("port", || Ok::<_, String>(8080)), Ok(8080));
    /// ```
    pub fn get_or_try_init<Q, F, E>(&self, key: &Q, init: F) -> Result<V, TryInitError<E>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Result<V, E>,
        E: Clone + fmt::Debug + Send + Sync + 'static,
    {
        loop {
            match self.entry(key) {
                Entry::Ready(value) => return Ok(value),
                Entry::Vacant(guard) => {
                    return match init() {
                        Ok(value) => {
                            let value = Arc::new(value);
                            guard.publish(Arc::clone(&value));
                            Ok(V::clone(&value))
                        }
                        Err(error) => {
                            guard.fail(error.clone());
                            Err(TryInitError::Failed(error))
                        }
                    };
                }
                Entry::Pending(waiter) => match waiter.wait() {
                    Ok(value) => return Ok(value),
                    Err(WaitError::Abandoned) => continue,
                    Err(WaitError::Failed(shared)) => {
                        return Err(match shared.downcast_ref::<E>() {
                            Some(error) => TryInitError::Failed(error.clone()),
                            None => TryInitError::Wait(WaitError::Failed(shared)),
                        });
                    }
                    Err(other) => return Err(TryInitError::Wait(other)),
                },
                Entry::Closed => return Err(TryInitError::Wait(WaitError::Closed)),
            }
        }
    }

    /// Waits for the value of a key that someone registered: returns a published
    /// value at once, blocks while its job is in flight.
    ///
    /// # Errors
    ///
    /// [`WaitError::Unregistered`] when the key is neither published nor in flight;
    /// otherwise those of [`Waiter::wait`].
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{OnceMap, WaitError};
    ///
    /// let map: OnceMap<u32, u32> = OnceMap::new();
    /// assert_eq!(map.wait(&1), Err(WaitError::Unregistered));
    /// map.get_or_init(&1, || 10).unwrap();
    /// assert_eq!(map.wait(&1), Ok(10));
    /// ```
    pub fn wait<Q>(&self, key: &Q) -> Result<V, WaitError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut inner = self.inner.lock();
        match inner.slots.get(key) {
            Some(Slot::Ready(value)) => {
                let value = Arc::clone(value);
                drop(inner);
                Ok(V::clone(&value))
            }
            Some(Slot::Pending(id)) => {
                let id = *id;
                let cond = inner.add_waiter(id);
                drop(inner);
                Waiter::new(self, id, cond).wait()
            }
            None if inner.closed => Err(WaitError::Closed),
            None => Err(WaitError::Unregistered),
        }
    }

    /// Forgets the published value of `key` and returns it; the next lookup finds the
    /// key vacant. A job in flight is not disturbed (`None`). Never blocks on a job.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<u32, &str> = inflight::OnceMap::new();
    /// map.get_or_init(&1, || "one").unwrap();
    /// assert_eq!(map.remove(&1), Some("one"));
    /// assert_eq!(map.get(&1), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut inner = self.inner.lock();
        let removed = match inner.slots.get(key) {
            Some(Slot::Ready(_)) => inner.slots.remove_entry(key),
            _ => None,
        };
        drop(inner);
        match removed {
            Some((_key, Slot::Ready(value))) => {
                Some(Arc::try_unwrap(value).unwrap_or_else(|shared| V::clone(&shared)))
            }
            _ => None,
        }
    }

    /// Closes the map: every thread blocked in a wait returns [`WaitError::Closed`],
    /// and later calls for a key without a published value return `Closed` too
    /// ([`Entry::Closed`]). Published values stay readable. Jobs already running are
    /// not interrupted; one that completes still publishes its value. For shutdown,
    /// ctrl-c, or a fatal error elsewhere. Closing twice is harmless.
    ///
    /// Takes the map's lock briefly; never blocks on a job.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{OnceMap, WaitError};
    ///
    /// let map: OnceMap<u32, u32> = OnceMap::new();
    /// map.get_or_init(&1, || 1).unwrap();
    /// map.close();
    /// assert_eq!(map.get_or_init(&2, || 2), Err(WaitError::Closed));
    /// assert_eq!(map.get(&1), Some(1));
    /// ```
    pub fn close(&self) {
        let mut inner = self.inner.lock();
        inner.closed = true;
        // No lost wakeup: waiters check `closed` and block in one lock hold, and we
        // set it under that lock; every waiter either sees it or is parked and woken.
        for flight in inner.flights.values() {
            flight.notify_all();
        }
    }

    /// Whether [`close`](OnceMap::close) was called. Never blocks on a job.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<u32, u32> = inflight::OnceMap::new();
    /// assert!(!map.is_closed());
    /// map.close();
    /// assert!(map.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }

    /// The jobs in flight right now: key, owner thread, running time, waiter count.
    /// What to look at when a program seems stuck. Never blocks on a job; clones each
    /// pending key under the map's lock (a diagnostic, not a hot path).
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<String, u32> = OnceMap::new();
    /// let Entry::Vacant(guard) = map.entry("slow") else { unreachable!() };
    /// let jobs = map.in_flight();
    /// assert_eq!(jobs.len(), 1);
    /// assert_eq!(jobs[0].key, "slow");
    /// assert_eq!(jobs[0].owner, std::thread::current().id());
    /// guard.complete(1);
    /// assert!(map.in_flight().is_empty());
    /// ```
    pub fn in_flight(&self) -> Vec<InFlight<K>> {
        let inner = self.inner.lock();
        inner
            .slots
            .iter()
            .filter_map(|(key, slot)| match slot {
                Slot::Pending(id) => {
                    let flight = inner.flight(*id);
                    Some(InFlight {
                        key: key.clone(),
                        owner: flight.owner.id(),
                        owner_name: flight.owner.name().map(str::to_owned),
                        running_for: flight.started.elapsed(),
                        waiters: flight.waiters,
                    })
                }
                Slot::Ready(_) => None,
            })
            .collect()
    }
}

// By hand: a derive would require `S: Debug`, which the default hasher is not.
impl<K, V, S> fmt::Debug for Entry<'_, K, V, S>
where
    K: Eq + Hash,
    V: fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Ready(value) => f.debug_tuple("Ready").field(value).finish(),
            Entry::Pending(waiter) => f.debug_tuple("Pending").field(waiter).finish(),
            Entry::Vacant(guard) => f.debug_tuple("Vacant").field(guard).finish(),
            Entry::Closed => f.write_str("Closed"),
        }
    }
}

impl<K, V, S> fmt::Debug for OnceMap<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceMap").finish_non_exhaustive()
    }
}
