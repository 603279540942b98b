//! [`Waiter`]: a registered interest in another thread's job.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxBuildHasher;

use super::OnceMap;
use super::error::WaitError;
use super::state::{FlightId, Outcome, Shared};
use crate::sync::thread::{self, ThreadId};

/// A claim on the result of a job that another caller runs: returned by
/// [`OnceMap::entry`] as [`Entry::Pending`](super::Entry::Pending).
///
/// The waiter is registered with the job from the moment it is created, so it receives
/// the job's outcome even if the job ends before [`wait`](Waiter::wait) is called.
/// Dropping a waiter unregisters it. A waiter may be sent to another thread; what
/// counts for deadlock detection is the thread that calls `wait`.
#[must_use = "a waiter does nothing unless you wait on it"]
pub struct Waiter<'a, K, V, S = FxBuildHasher>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    map: &'a OnceMap<K, V, S>,
    /// The stored hash of the flight's slot, to find it again without user code.
    hash: u64,
    id: FlightId,
    /// The thread that runs the job.
    owner: ThreadId,
    shared: Arc<Shared<V>>,
    /// Set when the closed and cycle checks were already made, and the calling thread
    /// registered as blocked, in the lock hold that created this waiter
    /// (`get_or_init` and `OnceMap::wait` do this to save a lock round trip).
    blocked: Option<ThreadId>,
    /// `false` once the waiter left its flight (so `Drop` does not leave twice).
    registered: bool,
}

impl<'a, K, V, S> Waiter<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    pub(super) fn new(
        map: &'a OnceMap<K, V, S>,
        hash: u64,
        id: FlightId,
        owner: ThreadId,
        shared: Arc<Shared<V>>,
    ) -> Self {
        Waiter {
            map,
            hash,
            id,
            owner,
            shared,
            blocked: None,
            registered: true,
        }
    }

    /// Marks the checks of `Inner::check_and_block` as done for thread `me`.
    pub(super) fn already_blocked(mut self, me: ThreadId) -> Self {
        self.blocked = Some(me);
        self
    }
}

impl<K, V, S> Waiter<'_, K, V, S>
where
    K: Eq + Hash,
    V: Clone,
    S: BuildHasher,
{
    /// Blocks until the job publishes a value, fails or is abandoned, or the map is
    /// closed.
    ///
    /// # Errors
    ///
    /// - [`WaitError::Abandoned`]: the owner dropped its guard without a value (the
    ///   key is vacant again; retry to become the new owner).
    /// - [`WaitError::Failed`]: the owner called [`Guard::fail`](super::Guard::fail).
    /// - [`WaitError::WouldDeadlock`]: the calling thread owns this job, or owns a job
    ///   that the owner of this job waits for, directly or through a chain of waits in
    ///   this map. Returned at once instead of hanging.
    /// - [`WaitError::Closed`]: [`OnceMap::close`] was called first.
    ///
    /// # Panics
    ///
    /// If `V::clone` panics while this waiter clones the published value (under the
    /// job's own lock, not the map's). The waiter has left its job by then; nothing
    /// else is affected.
    ///
    /// # Examples
    ///
    /// ```
    /// use inflight::{Entry, OnceMap};
    ///
    /// let map: OnceMap<u32, String> = OnceMap::new();
    /// let Entry::Vacant(guard) = map.entry(&7) else { unreachable!() };
    /// // Registered from here on, even before `wait` is called.
    /// let Entry::Pending(waiter) = map.entry(&7) else { unreachable!() };
    /// std::thread::scope(|s| {
    ///     let waiting = s.spawn(move || waiter.wait());
    ///     guard.complete("seven".to_string());
    ///     assert_eq!(waiting.join().unwrap(), Ok("seven".to_string()));
    /// });
    /// ```
    pub fn wait(mut self) -> Result<V, WaitError> {
        self.wait_inner(None)
    }

    /// Like [`wait`](Waiter::wait), but gives up after `timeout`.
    ///
    /// # Errors
    ///
    /// Those of `wait`, plus [`WaitError::TimedOut`] when the timeout passes first (the
    /// job keeps running; the key stays pending).
    ///
    /// # Panics
    ///
    /// As [`wait`](Waiter::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use inflight::{Entry, OnceMap, WaitError};
    ///
    /// let map: OnceMap<u32, u32> = OnceMap::new();
    /// let Entry::Vacant(_guard) = map.entry(&1) else { unreachable!() };
    /// let result = std::thread::scope(|s| {
    ///     s.spawn(|| match map.entry(&1) {
    ///         Entry::Pending(waiter) => waiter.wait_timeout(Duration::from_millis(10)),
    ///         _ => unreachable!(),
    ///     })
    ///     .join()
    ///     .unwrap()
    /// });
    /// assert_eq!(result, Err(WaitError::TimedOut));
    /// ```
    pub fn wait_timeout(self, timeout: Duration) -> Result<V, WaitError> {
        // A timeout too large to represent waits forever.
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_deadline(deadline),
            None => self.wait(),
        }
    }

    /// Like [`wait`](Waiter::wait), but gives up at `deadline`.
    ///
    /// # Errors
    ///
    /// Those of `wait`, plus [`WaitError::TimedOut`] when the deadline passes first.
    /// An outcome that is already there wins over a deadline that has passed.
    ///
    /// # Panics
    ///
    /// As [`wait`](Waiter::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use inflight::{Entry, OnceMap, WaitError};
    ///
    /// let map: OnceMap<u32, u32> = OnceMap::new();
    /// let Entry::Vacant(guard) = map.entry(&1) else { unreachable!() };
    /// let Entry::Pending(waiter) = map.entry(&1) else { unreachable!() };
    /// guard.complete(1);
    /// // The outcome is already there: it wins over a deadline in the past.
    /// assert_eq!(waiter.wait_deadline(Instant::now()), Ok(1));
    /// ```
    pub fn wait_deadline(mut self, deadline: Instant) -> Result<V, WaitError> {
        self.wait_inner(Some(deadline))
    }

    /// The wait protocol, in three steps:
    ///
    /// 1. Under the map's lock (unless the creating lock hold did it): if the flight is
    ///    still pending, the closed and cycle checks, and the registration of this
    ///    thread as blocked, in one hold, so no close or cycle-closing wait can slip in
    ///    between a check and the registration.
    /// 2. Under the flight's own lock: wait in a predicate loop for the outcome, the
    ///    flight's `closed` flag or the deadline. The owner writes the outcome and
    ///    `close` the flag under this lock, so no wakeup is lost (see `Shared::settle`).
    /// 3. Only when leaving without the outcome: unregister under the map's lock.
    fn wait_inner(&mut self, deadline: Option<Instant>) -> Result<V, WaitError> {
        let me = match self.blocked {
            Some(me) => me,
            None => {
                let me = thread::current().id();
                let mut inner = self.map.inner.lock();
                if inner.flight_mut(self.hash, self.id).is_some()
                    && let Err(error) = inner.check_and_block(me, self.id, self.owner)
                {
                    inner.leave(self.hash, self.id, None);
                    self.registered = false;
                    return Err(error);
                }
                me
            }
        };

        let mut handoff = self.shared.state.lock();
        let mut timed_out = false;
        let error = loop {
            if let Some(outcome) = &handoff.outcome {
                // Settled: the owner already forgot this waiter, nothing to undo, even
                // if the user's `V::clone` below panics.
                self.registered = false;
                let outcome = outcome.clone();
                drop(handoff);
                return match outcome {
                    Outcome::Done(value) => Ok(value),
                    Outcome::Failed(error) => Err(WaitError::Failed(error)),
                    Outcome::Abandoned => Err(WaitError::Abandoned),
                };
            }
            if handoff.closed {
                break WaitError::Closed;
            }
            if timed_out {
                break WaitError::TimedOut;
            }
            handoff = match deadline {
                Some(deadline) => {
                    let (handoff, timed) = self.shared.cond.wait_until(handoff, deadline);
                    timed_out = timed;
                    handoff
                }
                None => self.shared.cond.wait(handoff),
            };
        };
        drop(handoff);
        self.map.inner.lock().leave(self.hash, self.id, Some(me));
        self.registered = false;
        Err(error)
    }
}

impl<K, V, S> Drop for Waiter<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Unregisters a waiter that never waited (or whose wait was cut short by a
    /// panic), so its job's waiter count is right again.
    fn drop(&mut self) {
        if self.registered {
            self.map
                .inner
                .lock()
                .leave(self.hash, self.id, self.blocked);
        }
    }
}

impl<K, V, S> fmt::Debug for Waiter<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("flight", &self.id)
            .field("owner", &self.owner)
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}
