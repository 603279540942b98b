//! The map's state, all of it behind the one mutex.
//!
//! # Invariants (every field is read and written only with `OnceMap::inner` locked)
//!
//! - `slots[k] == Pending(id)` exactly while the [`Guard`](super::Guard) of flight `id`
//!   is alive; only that guard turns the slot into `Ready` (complete) or removes it
//!   (fail, abandon). `remove` and `close` never touch a `Pending` slot.
//! - `flights[id]` exists while flight `id` runs, and after it settled for as long as
//!   registered waiters (`waiters > 0`) have not yet read its `outcome`. The last
//!   waiter to leave removes it. So a waiter can always find its flight.
//! - `outcome` is written once, by the flight's guard, and never changed after.
//! - `waiting[t] == id` exactly while thread `t` is blocked (or about to block) in a
//!   wait on flight `id`; it is inserted before the condvar wait and removed right after
//!   it returns, under the same lock hold as the predicate checks around it.
//! - `closed` only goes from `false` to `true`.
//!
//! # Slot state machine
//!
//! | from                 | event                        | to                            | wakes                  |
//! |----------------------|------------------------------|-------------------------------|------------------------|
//! | vacant (no slot)     | `entry` finds nothing        | `Pending(id)`, new flight     | nobody                 |
//! | `Pending(id)`        | `Guard::complete(v)`         | `Ready(v)`; outcome `Done`    | waiters of `id` only   |
//! | `Pending(id)`        | `Guard::fail(e)`             | vacant; outcome `Failed(e)`   | waiters of `id` only   |
//! | `Pending(id)`        | `Guard` dropped (abandon)    | vacant; outcome `Abandoned`   | waiters of `id` only   |
//! | `Ready(v)`           | `remove`                     | vacant                        | nobody (nobody waits)  |
//! | any                  | `close`                      | unchanged; `closed = true`    | waiters of every flight|
//!
//! Each flight has its own condvar, always used with the map's one mutex, so settling
//! one key wakes only the threads that wait for that key.

use std::sync::Arc;
use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::error::JobError;
use crate::sync::Condvar;
use crate::sync::thread::{Thread, ThreadId};

/// Identifies one run of a job (one flight). Never reused within a map.
pub(super) type FlightId = u64;

/// What the map holds for a key that is not vacant.
#[derive(Debug)]
pub(super) enum Slot<V> {
    /// A job is in flight; its state lives in `Inner::flights`.
    Pending(FlightId),
    /// A published value. Kept in an `Arc` so readers clone `V` after unlocking: a
    /// user's `Clone` never runs under the lock. The cost is one reference-count
    /// increment and decrement per read.
    Ready(Arc<V>),
}

/// How a flight ended, as its waiters see it.
#[derive(Debug)]
pub(super) enum Outcome<V> {
    Done(Arc<V>),
    Failed(JobError),
    Abandoned,
}

impl<V> Clone for Outcome<V> {
    /// Reference-count clones only: safe to run under the lock.
    fn clone(&self) -> Self {
        match self {
            Outcome::Done(value) => Outcome::Done(Arc::clone(value)),
            Outcome::Failed(error) => Outcome::Failed(error.clone()),
            Outcome::Abandoned => Outcome::Abandoned,
        }
    }
}

/// One run of a job.
#[derive(Debug)]
pub(super) struct Flight<V> {
    /// Waiters of this flight, and only they, block on this condvar. Created by the
    /// first waiter: most jobs are never waited for, and they skip the allocation.
    pub(super) cond: Option<Arc<Condvar>>,
    /// The thread that runs the job (guards are `!Send`, so this never changes).
    pub(super) owner: Thread,
    pub(super) started: Instant,
    /// Registered waiters that have not yet left (read the outcome, timed out, were
    /// closed out or dropped their `Waiter`).
    pub(super) waiters: usize,
    /// `None` while the job runs.
    pub(super) outcome: Option<Outcome<V>>,
}

impl<V> Flight<V> {
    /// Wakes every thread blocked on this flight (there are none without a condvar).
    pub(super) fn notify_all(&self) {
        if let Some(cond) = &self.cond {
            cond.notify_all();
        }
    }
}

/// Everything behind the map's mutex.
#[derive(Debug)]
pub(super) struct Inner<K, V, S> {
    pub(super) slots: std::collections::HashMap<K, Slot<V>, S>,
    pub(super) flights: FxHashMap<FlightId, Flight<V>>,
    pub(super) waiting: FxHashMap<ThreadId, FlightId>,
    pub(super) next_flight: FlightId,
    pub(super) closed: bool,
}

impl<K, V, S> Inner<K, V, S> {
    pub(super) fn new(hasher: S) -> Self {
        Inner {
            slots: std::collections::HashMap::with_hasher(hasher),
            flights: FxHashMap::default(),
            waiting: FxHashMap::default(),
            next_flight: 0,
            closed: false,
        }
    }

    /// Registers a new flight owned by `owner` and returns its id.
    pub(super) fn start_flight(&mut self, owner: Thread) -> FlightId {
        let id = self.next_flight;
        self.next_flight += 1;
        let flight = Flight {
            cond: None,
            owner,
            started: Instant::now(),
            waiters: 0,
            outcome: None,
        };
        self.flights.insert(id, flight);
        id
    }

    /// Registers one more waiter of flight `id` and returns the condvar it will wait on.
    pub(super) fn add_waiter(&mut self, id: FlightId) -> Arc<Condvar> {
        let flight = self.flight_mut(id);
        flight.waiters += 1;
        Arc::clone(flight.cond.get_or_insert_with(|| Arc::new(Condvar::new())))
    }

    /// Records how flight `id` ended and wakes its waiters.
    ///
    /// Returns what the caller must drop after unlocking (a flight nobody waits for is
    /// removed at once; its outcome may hold the last reference to a user's error).
    #[must_use = "drop the returned outcome after unlocking"]
    pub(super) fn settle(&mut self, id: FlightId, outcome: Outcome<V>) -> Option<Outcome<V>> {
        let flight = self.flight_mut(id);
        if flight.waiters == 0 {
            return self.flights.remove(&id).map(|_| outcome);
        }
        flight.outcome = Some(outcome);
        // No lost wakeup: a waiter checks `outcome` and blocks on `cond` in one lock
        // hold (the condvar releases the lock atomically), and we hold that lock here.
        // So every registered waiter either has not checked yet (and will see the
        // outcome) or is parked on `cond` now (and is woken by this call). `waiters > 0`
        // here, and the first waiter created `cond`.
        flight.notify_all();
        None
    }

    /// Unregisters one waiter of flight `id`. The last waiter of a settled flight
    /// removes it and gets its outcome back, to drop after unlocking.
    #[must_use = "drop the returned outcome after unlocking"]
    pub(super) fn leave(&mut self, id: FlightId) -> Option<Outcome<V>> {
        let flight = self.flight_mut(id);
        flight.waiters -= 1;
        if flight.waiters == 0 && flight.outcome.is_some() {
            return self.flights.remove(&id).and_then(|flight| flight.outcome);
        }
        None
    }

    /// Whether thread `me` blocking on flight `target` would close a wait cycle.
    ///
    /// Follows owner -> the flight that owner waits on -> its owner ..., and reports a
    /// cycle when the chain reaches `me`. Each thread waits on at most one flight and
    /// each flight has one owner, so the chain is a path; it is bounded by the number of
    /// waiting threads anyway. A settled flight ends the chain: its waiters are about to
    /// wake. The last thread to join a cycle is the one that sees it, so exactly one
    /// thread of each would-be cycle gets the error.
    pub(super) fn would_deadlock(&self, me: ThreadId, target: FlightId) -> bool {
        let mut flight = target;
        for _ in 0..=self.waiting.len() {
            let Some(current) = self.flights.get(&flight) else {
                return false;
            };
            if current.outcome.is_some() {
                return false;
            }
            let owner = current.owner.id();
            if owner == me {
                return true;
            }
            match self.waiting.get(&owner) {
                Some(&next) => flight = next,
                None => return false,
            }
        }
        false
    }

    pub(super) fn flight(&self, id: FlightId) -> &Flight<V> {
        self.flights
            .get(&id)
            .expect("invariant: a flight lives while its guard or a waiter holds its id")
    }

    fn flight_mut(&mut self, id: FlightId) -> &mut Flight<V> {
        self.flights
            .get_mut(&id)
            .expect("invariant: a flight lives while its guard or a waiter holds its id")
    }
}
