//! [`Waiter`]: a registered interest in another thread's job.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxBuildHasher;

use super::OnceMap;
use super::state::{FlightId, Outcome};
use crate::error::WaitError;
use crate::sync::{Condvar, thread};

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
    id: FlightId,
    cond: Arc<Condvar>,
    /// `false` once the waiter left its flight (so `Drop` does not leave twice).
    registered: bool,
}

impl<'a, K, V, S> Waiter<'a, K, V, S>
where
    K: Eq + Hash,
    V: Clone,
    S: BuildHasher,
{
    pub(super) fn new(map: &'a OnceMap<K, V, S>, id: FlightId, cond: Arc<Condvar>) -> Self {
        Waiter {
            map,
            id,
            cond,
            registered: true,
        }
    }

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
    pub fn wait_deadline(mut self, deadline: Instant) -> Result<V, WaitError> {
        self.wait_inner(Some(deadline))
    }

    /// The wait protocol. Every check and the registration in `waiting` happen in one
    /// lock hold with the condvar wait that follows them, so no settle, close or
    /// cycle-closing wait can slip in between a check and the block.
    fn wait_inner(&mut self, deadline: Option<Instant>) -> Result<V, WaitError> {
        let me = thread::current().id();
        let mut inner = self.map.inner.lock();
        let mut timed_out = false;
        let result = loop {
            if let Some(outcome) = &inner.flight(self.id).outcome {
                break Ok(outcome.clone());
            }
            if inner.closed {
                break Err(WaitError::Closed);
            }
            if inner.would_deadlock(me, self.id) {
                break Err(WaitError::WouldDeadlock);
            }
            if timed_out {
                break Err(WaitError::TimedOut);
            }
            inner.waiting.insert(me, self.id);
            match deadline {
                Some(deadline) => {
                    timed_out = self.cond.wait_until(&mut inner, deadline).timed_out()
                }
                None => self.cond.wait(&mut inner),
            }
            inner.waiting.remove(&me);
        };
        let leftover = inner.leave(self.id);
        self.registered = false;
        drop(inner);
        drop(leftover);
        match result? {
            // The user's `Clone` runs here, after unlocking.
            Outcome::Done(value) => Ok(V::clone(&value)),
            Outcome::Failed(error) => Err(WaitError::Failed(error)),
            Outcome::Abandoned => Err(WaitError::Abandoned),
        }
    }
}

impl<K, V, S> Drop for Waiter<'_, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Unregisters a waiter that never waited, so its flight can be freed.
    fn drop(&mut self) {
        if self.registered {
            let leftover = self.map.inner.lock().leave(self.id);
            drop(leftover);
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
            .finish_non_exhaustive()
    }
}
