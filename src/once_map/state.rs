//! The map's state and the per-flight hand-off.
//!
//! # Invariants
//!
//! Behind the map's lock (`OnceMap::inner`), every field of [`Inner`]:
//!
//! - `ready` holds the published values, `pending` the jobs in flight. Every entry of
//!   both keeps the hash its key had when it was inserted, and the tables only ever use
//!   that stored hash (to grow, and to find a flight). User code (`Eq`) runs only to
//!   compare a query with stored keys, so a key whose `Hash` or `Eq` misbehaves can
//!   make lookups of *that key* miss (and its job run again), but cannot move, hide or
//!   corrupt another entry, nor a flight.
//! - A key is in at most one of the two tables (a key whose hash changed is, to the
//!   map, a new key). Lookups look in `ready`, then in `pending`.
//! - Flight `i` is in `pending` exactly while its owner (its [`Guard`](super::Guard),
//!   or `get_or_init`'s internal owner) is alive and has not settled. Only that owner
//!   removes it, finding it by its stored hash and `i` (no user code), and moves its
//!   key to `ready` (complete) or drops it (fail, abandon). `remove` only touches
//!   `ready`; `close` never removes anything.
//! - `flight.waiters` counts the [`Waiter`](super::Waiter)s registered with the flight
//!   that have not left; `flight.shared` exists from the first registration on. A
//!   waiter that leaves before the flight settles decrements the count; after the
//!   flight settled its record is gone and nothing counts any more.
//! - `waiting[t] == Blocked { flight: i, .. }` while thread `t` waits for flight `i`
//!   and `i` is still pending. The waiter inserts it together with its closed and
//!   cycle checks, in one lock hold; it is removed by the waiter if it leaves before
//!   the flight settles, or by the owner, for every waiter at once, when it settles.
//!   So every entry points at a pending flight and the cycle check needs no other
//!   state.
//! - `closed` only goes from `false` to `true`.
//!
//! Behind a flight's own lock ([`Shared::state`]): its `outcome`, written once by the
//! owner after it released the map's lock, and its `closed` flag, set by `close` after
//! it released the map's lock. No code holds the two locks at once, so there is no
//! lock order to get wrong, and a waiter woken by `notify_all` never touches the map's
//! lock on its way out.
//!
//! # Key state machine
//!
//! On [`Inner`], where the states live. Each flight has its own condvar and lock, so
//! settling one key wakes only the threads that wait for that key, and all of them at
//! once; [`Handoff`] has the states a waiter can find there.

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Instant;

use hashbrown::HashTable;
use rustc_hash::FxHashMap;

use super::error::{JobError, WaitError};
use super::owner::{self, OwnerThread};
use crate::sync::thread::ThreadId;
use crate::sync::{WakeAllCondvar, WakeAllMutex};

/// Identifies one run of a job (one flight). Never reused within a map.
pub(super) type FlightId = u64;

/// A published value, with its key and the hash the key had when it was inserted.
/// Hits clone `value` under the map's lock (see the module docs of `once_map` for why
/// and what that asks of `V::clone`).
#[derive(Debug)]
pub(super) struct Ready<K, V> {
    pub(super) hash: u64,
    pub(super) key: K,
    pub(super) value: V,
}

/// A job in flight, with its key and the hash the key had when it was inserted.
#[derive(Debug)]
pub(super) struct Pending<K, V> {
    pub(super) hash: u64,
    pub(super) key: K,
    pub(super) flight: Flight<V>,
}

/// One run of a job, as the map's lock sees it.
#[derive(Debug)]
pub(super) struct Flight<V> {
    pub(super) id: FlightId,
    /// The thread that runs the job (owners are `!Send`, so this never changes).
    pub(super) owner: Arc<OwnerThread>,
    /// When the job was first seen running: by its first waiter, or by an
    /// `in_flight` call. Starting a job does not read the clock: a clock read costs
    /// 20 to 30 ns, a third of a whole job start (see `benches/README.md`).
    pub(super) seen: Option<Instant>,
    /// Registered waiters that have not left.
    pub(super) waiters: usize,
    /// Created by the first waiter: most jobs are never waited for, and they skip it.
    pub(super) shared: Option<Arc<Shared<V>>>,
}

impl<V> Flight<V> {
    /// Registers one more waiter and returns what it will block on.
    pub(super) fn register(&mut self) -> Arc<Shared<V>> {
        self.waiters += 1;
        self.seen.get_or_insert_with(Instant::now);
        Arc::clone(self.shared.get_or_insert_with(|| Arc::new(Shared::new())))
    }
}

/// How a flight ended, as its waiters see it.
#[derive(Debug)]
pub(super) enum Outcome<V> {
    Done(V),
    Failed(JobError),
    Abandoned,
}

impl<V: Clone> Clone for Outcome<V> {
    fn clone(&self) -> Self {
        match self {
            Outcome::Done(value) => Outcome::Done(value.clone()),
            Outcome::Failed(error) => Outcome::Failed(error.clone()),
            Outcome::Abandoned => Outcome::Abandoned,
        }
    }
}

/// The part of a flight its waiters block on. Its lock is never held together with
/// the map's (see the module docs).
#[derive(Debug)]
pub(super) struct Shared<V> {
    pub(super) state: WakeAllMutex<Handoff<V>>,
    pub(super) cond: WakeAllCondvar,
}

/// What the waiters of one flight wait for.
///
/// | `outcome` | `closed` | a waiter (in its predicate loop)                         |
/// |-----------|----------|----------------------------------------------------------|
/// | `None`    | `false`  | blocks (or returns `TimedOut` once its deadline passed)  |
/// | `None`    | `true`   | returns `Closed` and unregisters under the map's lock    |
/// | `Some(o)` | either   | returns `o` (a clone); the owner already unregistered it |
///
/// Both fields only ever go from the first row down: `outcome` is written once, by the
/// owner; `closed` is set once, by `close`.
#[derive(Debug)]
pub(super) struct Handoff<V> {
    /// `None` until the owner settles; then written once and never changed.
    pub(super) outcome: Option<Outcome<V>>,
    /// Set by `close`; an outcome, once there, wins over it.
    pub(super) closed: bool,
}

impl<V> Shared<V> {
    fn new() -> Self {
        Shared {
            state: WakeAllMutex::new(Handoff {
                outcome: None,
                closed: false,
            }),
            cond: WakeAllCondvar::new(),
        }
    }

    /// Hands the flight's outcome to its waiters and wakes them all. Called by the
    /// owner, with no other lock held, after it removed the flight from `pending`.
    pub(super) fn settle(&self, outcome: Outcome<V>) {
        let mut handoff = self.state.lock();
        handoff.outcome = Some(outcome);
        drop(handoff);
        // No lost wakeup: a waiter checks `outcome` and blocks on `cond` in one hold of
        // `state` (the wait releases it atomically), and the outcome was written under
        // `state`. So every waiter either checks after the write (and sees it) or was
        // already blocked when we took `state` (and is woken here). Notifying after
        // unlocking lets the woken threads take `state` without queueing behind us.
        self.cond.notify_all();
    }

    /// Wakes every waiter of this flight with `Closed` (unless the outcome is there).
    pub(super) fn close(&self) {
        self.state.lock().closed = true;
        // No lost wakeup: the same argument as in `settle`, for the `closed` flag.
        self.cond.notify_all();
    }
}

/// A thread blocked on a flight, for the cycle check.
#[derive(Debug, Clone, Copy)]
pub(super) struct Blocked {
    pub(super) flight: FlightId,
    /// The owner of that flight.
    pub(super) owner: ThreadId,
}

/// Everything behind the map's lock.
///
/// A key's state is where it is: in neither table (vacant), in `pending` with flight
/// `i` (`Pending(i)`), or in `ready` with value `v` (`Ready(v)`).
///
/// | from         | event                              | to                          | wakes                   |
/// |--------------|------------------------------------|-----------------------------|-------------------------|
/// | vacant       | `entry` finds nothing              | `Pending(i)`, new flight    | nobody                  |
/// | `Pending(i)` | owner completes with `v`           | `Ready(v)`; outcome `Done`  | waiters of `i` only     |
/// | `Pending(i)` | owner completes, `V::clone` panics | vacant; outcome `Abandoned` | waiters of `i` only     |
/// | `Pending(i)` | owner fails with `e`               | vacant; outcome `Failed(e)` | waiters of `i` only     |
/// | `Pending(i)` | owner dropped (abandon)            | vacant; outcome `Abandoned` | waiters of `i` only     |
/// | `Pending(i)` | owner leaked (`mem::forget`)       | stays `Pending(i)` forever  | nobody, ever (documented) |
/// | `Ready(v)`   | `remove`                           | vacant                      | nobody (nobody waits)   |
/// | any          | `close`                            | unchanged; `closed = true`  | waiters of every flight |
#[derive(Debug)]
pub(super) struct Inner<K, V> {
    /// Published values: kept apart from the jobs in flight, so that its entries are
    /// only a hash, a key and a value wide (a hit walks fewer cache lines), and so that
    /// `in_flight` and `close` walk the jobs in flight only.
    pub(super) ready: HashTable<Ready<K, V>>,
    pub(super) pending: HashTable<Pending<K, V>>,
    pub(super) waiting: FxHashMap<ThreadId, Blocked>,
    pub(super) next_flight: FlightId,
    pub(super) closed: bool,
}

impl<K, V> Inner<K, V> {
    pub(super) fn new() -> Self {
        Inner {
            ready: HashTable::new(),
            pending: HashTable::new(),
            waiting: FxHashMap::default(),
            next_flight: 0,
            closed: false,
        }
    }

    /// A new flight owned by the calling thread, with a fresh id.
    pub(super) fn new_flight(&mut self) -> Flight<V> {
        let id = self.next_flight;
        self.next_flight += 1;
        Flight {
            id,
            owner: owner::current(),
            seen: None,
            waiters: 0,
            shared: None,
        }
    }

    /// The published value of `key`, whose hash is `hash`. Runs `K`'s `Eq` (through
    /// `Borrow`) on stored keys with the same hash; nothing else.
    #[inline]
    pub(super) fn find_ready<Q>(&self, hash: u64, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.ready
            .find(hash, |ready| {
                ready.hash == hash && ready.key.borrow() == key
            })
            .map(|ready| &ready.value)
    }

    /// The job in flight for `key`, whose hash is `hash`; `Eq` as in `find_ready`.
    pub(super) fn find_pending<Q>(&mut self, hash: u64, key: &Q) -> Option<&mut Flight<V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.pending
            .find_mut(hash, |pending| {
                pending.hash == hash && pending.key.borrow() == key
            })
            .map(|pending| &mut pending.flight)
    }

    /// The record of flight `id`, found by its stored hash (no user code); `None` once
    /// it settled.
    pub(super) fn flight_mut(&mut self, hash: u64, id: FlightId) -> Option<&mut Flight<V>> {
        self.pending
            .find_mut(hash, |pending| pending.flight.id == id)
            .map(|pending| &mut pending.flight)
    }

    /// Unregisters a waiter of flight `id` that leaves before the flight settled, and
    /// forgets that thread `me` (if given) blocks on it. A flight that settled in the
    /// meantime has no record left to update.
    pub(super) fn leave(&mut self, hash: u64, id: FlightId, me: Option<ThreadId>) {
        if let Some(flight) = self.flight_mut(hash, id) {
            flight.waiters -= 1;
        }
        if let Some(me) = me
            && self
                .waiting
                .get(&me)
                .is_some_and(|blocked| blocked.flight == id)
        {
            self.waiting.remove(&me);
        }
    }

    /// Whether thread `me` blocking on a flight owned by `owner` would close a wait
    /// cycle.
    ///
    /// Follows owner -> the flight that owner waits on -> its owner ..., and reports a
    /// cycle when the chain reaches `me`. Each thread waits on at most one flight and
    /// each flight has one owner, so the chain is a path; it is bounded by the number
    /// of waiting threads anyway. Every entry of `waiting` is a pending flight (a
    /// settled flight's waiters were removed when it settled: they are about to wake).
    /// The last thread to join a cycle is the one that sees it, so exactly one thread
    /// of each would-be cycle gets the error.
    pub(super) fn would_deadlock(&self, me: ThreadId, owner: ThreadId) -> bool {
        let mut owner = owner;
        for _ in 0..=self.waiting.len() {
            if owner == me {
                return true;
            }
            match self.waiting.get(&owner) {
                Some(blocked) => owner = blocked.owner,
                None => return false,
            }
        }
        false
    }

    /// The checks made before thread `me` blocks on pending flight `id` (owned by
    /// `owner`): returns the error to give instead of blocking, or registers `me` as
    /// blocked on it. Called in the same lock hold that found the flight pending.
    pub(super) fn check_and_block(
        &mut self,
        me: ThreadId,
        id: FlightId,
        owner: ThreadId,
    ) -> Result<(), WaitError> {
        if self.closed {
            return Err(WaitError::Closed);
        }
        if self.would_deadlock(me, owner) {
            return Err(WaitError::WouldDeadlock);
        }
        self.waiting.insert(me, Blocked { flight: id, owner });
        Ok(())
    }

    /// Forgets every thread blocked on flight `id`, which is settling: they are about
    /// to wake and must not count in anyone's cycle check.
    pub(super) fn unblock_all(&mut self, id: FlightId) {
        self.waiting.retain(|_, blocked| blocked.flight != id);
    }
}
