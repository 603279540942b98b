//! [`OnceMap`]: run a keyed job once while it is in flight.
//!
//! One `parking_lot::Mutex` guards the map's state (see `state.rs` for the invariants
//! and the slot state machine); each job that someone waits for has its own lock and
//! condvar, so settling one key wakes only that key's waiters, all at once.
//!
//! # What runs under the lock
//!
//! The key's `Hash` runs before the lock is taken. Under the map's lock, besides map
//! bookkeeping, run only:
//!
//! - `Eq` of the keys, comparing a query with stored keys of the same hash (unavoidable
//!   for a hash map);
//! - `ToOwned` of the query when a key is first inserted (avoiding it would cost a
//!   second lock round trip on every miss);
//! - `V::clone` on every hit (`get`, `entry` and `wait` finding a published value),
//!   and once when a job that has waiters completes (their copy);
//! - `K::clone` of each pending key in `in_flight`.
//!
//! A waiter clones `V` for itself under its job's own lock, never the map's. Job
//! closures and the `Drop` of removed keys, values and errors run after unlocking.
//!
//! Cloning `V` under the lock is what keeps a hit at the cost of a plain mutex map
//! (the alternative, an `Arc<V>` per slot cloned under the lock and `V` cloned after
//! unlocking, costs two more atomic operations on a shared reference count per hit:
//! 1.6x to 1.9x a plain map in `benches/once_map.rs`). So `V::clone` must be cheap
//! (store an `Arc<T>` for anything larger than a few words) and must not use the same
//! map (its lock is not re-entrant: that would deadlock). Each of these user calls
//! runs before any change in its critical section, and parking_lot releases the lock
//! during unwinding, so a panic in any of them leaves the map unlocked and unchanged;
//! the one exception, the waiters' copy in `Guard::complete`, is caught and turns the
//! job into an abandoned one (the waiters retry or get `Abandoned`) before the panic
//! is re-raised.

mod error;
mod guard;
mod lookup;
mod owner;
mod state;
mod waiter;

use std::borrow::Borrow;
use std::convert::Infallible;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxBuildHasher;

pub use self::error::{JobError, TryInitError, WaitError};
pub use self::guard::Guard;
use self::lookup::{Lookup, Mode};
use self::state::{Inner, Pending};
pub use self::waiter::Waiter;
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
    /// Outside the lock: keys are hashed before it is taken.
    hasher: S,
    inner: Mutex<Inner<K, V>>,
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
    /// The owner thread has exited without settling the job: its guard was leaked
    /// (`mem::forget`), so the job never ends and its waiters block until the map is
    /// closed. `false` while the owner runs, and also when it cannot be known (a job
    /// started while the owner thread's thread-locals were being destroyed).
    pub owner_exited: bool,
    /// How long the job is known to have been running: since its first caller
    /// waited for it, or since an earlier `in_flight` call saw it, whichever came
    /// first. A lower bound: the job may have started earlier, because starting a job
    /// does not read the clock (a clock read would cost a third of a job start). A job
    /// nobody waits for shows zero on the first `in_flight` call; poll to watch it.
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
            hasher,
            inner: Mutex::new(Inner::new()),
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
    /// in flight reads as `None`. Takes the map's lock for one lookup and one
    /// `V::clone`.
    ///
    /// # Panics
    ///
    /// If the key's `Hash` or `Eq`, or `V::clone`, panics; the map is unchanged.
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
        let hash = self.hasher.hash_one(key);
        self.inner.lock().find_ready(hash, key).cloned()
    }

    /// Looks `key` up and, if it is vacant, makes the caller its job's owner. Never
    /// blocks on a job (it takes the map's lock briefly).
    ///
    /// The key is cloned (`to_owned`) only when it is inserted.
    ///
    /// # Panics
    ///
    /// If the key's `Hash`, `Eq` or `ToOwned`, or `V::clone`, panics; the map is
    /// unchanged.
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
    #[inline]
    pub fn entry<Q>(&self, key: &Q) -> Entry<'_, K, V, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        match self.lookup(key, Mode::Entry) {
            Lookup::Ready(value) => Entry::Ready(value),
            Lookup::Pending(waiter) => Entry::Pending(waiter),
            Lookup::Missing(missing) => {
                let (owner, key) = missing.start_with_key(key);
                Entry::Vacant(Guard::new(owner, key))
            }
            // `Mode::Entry` never refuses: the checks wait for `Waiter::wait`.
            Lookup::Closed | Lookup::Refused(_) => Entry::Closed,
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
    /// This is [`get_or_try_init`](OnceMap::get_or_try_init) with a job that cannot
    /// fail (as std's `OnceLock::get_or_init` is), so both take the same path.
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
    /// # Panics
    ///
    /// If `init` panics (the job is abandoned first, see above), or if the key's
    /// `Hash`, `Eq` or `ToOwned`, or `V::clone`, panics (see
    /// [`Guard::complete`] for the one clone that abandons the job).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: inflight::OnceMap<String, usize> = inflight::OnceMap::new();
    /// assert_eq!(map.get_or_init("six", || 6), Ok(6));
    /// assert_eq!(map.get_or_init("six", || unreachable!()), Ok(6));
    /// ```
    #[inline]
    pub fn get_or_init<Q, F>(&self, key: &Q, init: F) -> Result<V, WaitError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> V,
    {
        match self.get_or_try_init(key, || Ok::<V, Infallible>(init())) {
            Ok(value) => Ok(value),
            Err(TryInitError::Wait(error)) => Err(error),
            Err(TryInitError::Failed(never)) => match *never {},
        }
    }

    /// Like [`get_or_init`](OnceMap::get_or_init), for a job that can fail. A failure
    /// is shared, not memoized: this caller and the callers waiting at that moment get
    /// the error, the key becomes vacant, and the next call runs the job again.
    ///
    /// Blocks while another caller runs the job. `init` runs on the calling thread,
    /// with no lock held, at most once per call:
    /// - returns `Ok(value)`: as [`get_or_init`](OnceMap::get_or_init);
    /// - returns `Err(error)`: `error` is put in an `Arc` once, and that one `Arc` goes
    ///   to this caller and to every caller waiting at that moment (no copy of the
    ///   error is made, so `E` need not be `Clone`);
    /// - panics or re-enters the map: as [`get_or_init`](OnceMap::get_or_init).
    ///
    /// Who gets the error, and as what:
    /// - callers of this method with the same `E`: [`TryInitError::Failed`], with the
    ///   owner's `Arc<E>` itself (`Arc::ptr_eq` holds between all of them), also when
    ///   the owner failed through [`Guard::fail`] or [`Guard::fail_with_message`] with
    ///   an `E`;
    /// - every other waiter ([`Waiter::wait`], [`OnceMap::wait`], `get_or_init`, or
    ///   this method with another error type): [`WaitError::Failed`], a [`JobError`]
    ///   that shares the same allocation, displays it, and gives it back through
    ///   [`JobError::downcast_ref`]. `E` needs `Display` only, so a `String` works,
    ///   and the `JobError` shows the message only (no
    ///   [`source`](std::error::Error::source)), even when `E` is an error with
    ///   causes: those reach the callers of this method, whose `TryInitError` is
    ///   transparent over `E`, and a waiter can take them from `downcast_ref::<E>()`.
    ///   To give every waiter a `JobError` with the causes as its source, run the job
    ///   through [`entry`](OnceMap::entry) and fail it with [`Guard::fail`].
    ///
    /// # Errors
    ///
    /// - [`TryInitError::Failed`] with the job's error: this caller's own, or the one
    ///   of the owner it waited for.
    /// - [`TryInitError::Wait`] with the errors of `get_or_init`; a failure whose error
    ///   is not an `E` (the owner failed with another error type) arrives here as
    ///   [`WaitError::Failed`].
    ///
    /// Abandoned jobs are retried, never reported.
    ///
    /// # Panics
    ///
    /// As [`get_or_init`](OnceMap::get_or_init). The job's error is never cloned.
    ///
    /// # Examples
    ///
    /// A job that fails with a [`std::io::Error`] (which is not `Clone`):
    ///
    /// ```
    /// use std::io;
    /// use std::sync::Arc;
    /// use inflight::{OnceMap, TryInitError};
    ///
    /// let map: OnceMap<String, Arc<str>> = OnceMap::new();
    /// let fetch = |url: &str| -> io::Result<Arc<str>> {
    ///     Err(io::Error::new(io::ErrorKind::ConnectionRefused, format!("{url}: refused")))
    /// };
    /// match map.get_or_try_init("numpy", || fetch("https://pypi.org/simple/numpy/")) {
    ///     Err(TryInitError::Failed(error)) => {
    ///         assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// // Not memoized: the next call runs its job.
    /// let page = map.get_or_try_init("numpy", || Ok::<_, io::Error>(Arc::from("<html>")));
    /// assert_eq!(page.unwrap().as_ref(), "<html>");
    /// ```
    pub fn get_or_try_init<Q, F, E>(&self, key: &Q, init: F) -> Result<V, TryInitError<E>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Result<V, E>,
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        let mut init = Some(init);
        loop {
            match self.lookup(key, Mode::Wait) {
                Lookup::Ready(value) => return Ok(value),
                Lookup::Missing(missing) => {
                    let owner = missing.start(key);
                    let Some(init) = init.take() else {
                        unreachable!("a call owns at most one flight: it returns after it")
                    };
                    // A panic in `init` or in this clone drops `owner`: abandon.
                    return match init() {
                        Ok(value) => {
                            let copy = value.clone();
                            owner.complete(value);
                            Ok(copy)
                        }
                        Err(error) => {
                            let error = Arc::new(error);
                            owner.fail(JobError::shared(Arc::clone(&error)));
                            Err(TryInitError::Failed(error))
                        }
                    };
                }
                Lookup::Pending(waiter) => match waiter.wait() {
                    Ok(value) => return Ok(value),
                    Err(WaitError::Abandoned) => continue,
                    Err(WaitError::Failed(shared)) => {
                        return Err(match shared.downcast::<E>() {
                            Ok(error) => TryInitError::Failed(error),
                            Err(shared) => TryInitError::Wait(WaitError::Failed(shared)),
                        });
                    }
                    Err(other) => return Err(TryInitError::Wait(other)),
                },
                Lookup::Closed => return Err(TryInitError::Wait(WaitError::Closed)),
                Lookup::Refused(error) => return Err(TryInitError::Wait(error)),
            }
        }
    }

    /// Waits for the value of a key that someone registered: returns a published
    /// value at once, blocks while its job is in flight. Takes the same path as
    /// [`get_or_init`](OnceMap::get_or_init), except that a key nobody registered is
    /// an error instead of a job to start.
    ///
    /// # Errors
    ///
    /// [`WaitError::Unregistered`] when the key is neither published nor in flight;
    /// otherwise those of [`Waiter::wait`].
    ///
    /// # Panics
    ///
    /// If the key's `Hash` or `Eq`, or `V::clone`, panics; the map is unchanged.
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
    #[inline]
    pub fn wait<Q>(&self, key: &Q) -> Result<V, WaitError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.lookup(key, Mode::Wait) {
            Lookup::Ready(value) => Ok(value),
            Lookup::Pending(waiter) => waiter.wait(),
            // Dropping `Missing` releases the lock; nothing was changed.
            Lookup::Missing(_) => Err(WaitError::Unregistered),
            Lookup::Closed => Err(WaitError::Closed),
            Lookup::Refused(error) => Err(error),
        }
    }

    /// Forgets the published value of `key` and returns it; the next lookup finds the
    /// key vacant. A job in flight is not disturbed (`None`). Never blocks on a job.
    ///
    /// # Panics
    ///
    /// If the key's `Hash` or `Eq` panics; the map is unchanged.
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
        let hash = self.hasher.hash_one(key);
        let mut inner = self.inner.lock();
        let removed = inner
            .ready
            .find_entry(hash, |ready| {
                ready.hash == hash && ready.key.borrow() == key
            })
            .ok()
            .map(|found| found.remove().0);
        drop(inner);
        // The key is dropped here, after unlocking.
        removed.map(|ready| ready.value)
    }

    /// Closes the map: every thread blocked in a wait returns [`WaitError::Closed`],
    /// and later calls for a key without a published value return `Closed` too
    /// ([`Entry::Closed`]). Published values stay readable. Jobs already running are
    /// not interrupted; one that completes still publishes its value. For shutdown,
    /// ctrl-c, or a fatal error elsewhere. Closing twice is harmless.
    ///
    /// Takes the map's lock briefly, then each waited-for job's lock; never blocks
    /// on a job.
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
        let waited: Vec<_> = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner
                .pending
                .iter()
                .filter_map(|pending| pending.flight.shared.clone())
                .collect()
        };
        // No lost wakeup: a waiter registers (under the map's lock) only while the map
        // is open, so every waiter registered before `closed` was set belongs to a
        // flight collected above (or to one that settled, whose outcome wakes it), and
        // `Shared::close` sets the flag under the flight's lock the waiter checks.
        for shared in waited {
            shared.close();
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

    /// The jobs in flight right now: key, owner thread (and whether it has exited),
    /// running time, waiter count. What to look at when a program seems stuck. Never
    /// blocks on a job; clones each pending key under the map's lock (a diagnostic,
    /// not a hot path).
    ///
    /// # Panics
    ///
    /// If `K::clone` panics; the map is unchanged.
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
    /// assert!(!jobs[0].owner_exited);
    /// guard.complete(1);
    /// assert!(map.in_flight().is_empty());
    /// ```
    pub fn in_flight(&self) -> Vec<InFlight<K>> {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        inner
            .pending
            .iter_mut()
            .map(|Pending { key, flight, .. }| InFlight {
                key: key.clone(),
                owner: flight.owner.id(),
                owner_name: flight.owner.name().map(str::to_owned),
                owner_exited: flight.owner.exited(),
                running_for: now.saturating_duration_since(*flight.seen.get_or_insert(now)),
                waiters: flight.waiters,
            })
            .collect()
    }
}

// By hand: a derive would require `S: Debug`, which the default hasher is not.
impl<K, V, S> fmt::Debug for Entry<'_, K, V, S>
where
    K: Eq + Hash + fmt::Debug,
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
    /// Counts, not contents: published values, jobs in flight, and whether the map is
    /// closed. Shows `locked` instead when the map's lock is held (this thread may
    /// hold it, for instance inside a `V::clone`), rather than wait for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("OnceMap");
        match self.inner.try_lock() {
            Some(inner) => out
                .field("ready", &inner.ready.len())
                .field("in_flight", &inner.pending.len())
                .field("closed", &inner.closed),
            None => out.field("locked", &true),
        }
        .finish_non_exhaustive()
    }
}
