//! The one lock hold that every caller of a key starts with: [`OnceMap::lookup`].
//!
//! `get`, `remove`, `close` and `in_flight` aside, every call goes through it:
//! `entry`, `get_or_try_init` (and `get_or_init`, which delegates to it) and `wait`.
//! It finds the key and, in the same hold of the map's lock, clones its value, or
//! registers a waiter (and for the callers that wait at once, makes the closed and
//! cycle checks and records the calling thread as blocked), or reports the key
//! missing with the lock still held, so that the caller can start a flight in that
//! same hold ([`Missing::start`]) or let go (`wait` then returns `Unregistered`).
//! One hold for all of it means no other thread can start, settle or close between
//! what was found and what was done about it.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use super::OnceMap;
use super::error::WaitError;
use super::guard::Owner;
use super::owner;
use super::state::{Inner, Pending};
use super::waiter::Waiter;
use crate::sync::MutexGuard;

/// What one lock hold of [`OnceMap::lookup`] found or did.
pub(super) enum Lookup<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    Ready(V),
    Pending(Waiter<'a, K, V, S>),
    /// Neither published nor in flight, and the map is open; the lock is still held.
    Missing(Missing<'a, K, V, S>),
    Closed,
    /// The checks before blocking refused (`Closed`, `WouldDeadlock`).
    Refused(WaitError),
}

/// What the caller of [`OnceMap::lookup`] will do with a pending key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `entry`: hand out a registered [`Waiter`]; its `wait` makes the checks later,
    /// on whichever thread calls it.
    Entry,
    /// `get_or_try_init` and `wait`: the key is waited for at once, so the closed and
    /// cycle checks and the record of this thread as blocked happen in this lock hold.
    Wait,
}

/// A key found neither published nor in flight, with the map's lock still held.
/// Dropping it releases the lock and changes nothing.
pub(super) struct Missing<'a, K, V, S> {
    map: &'a OnceMap<K, V, S>,
    locked: MutexGuard<'a, Inner<K, V>>,
    hash: u64,
}

impl<'a, K, V, S> Missing<'a, K, V, S> {
    /// Starts a flight for `key`, owned by the calling thread, in the lock hold that
    /// found it missing. `ToOwned` runs under the lock, before any change: if it
    /// panics, the lock is released (`self` is dropped) and the map is unchanged.
    pub(super) fn start<Q>(self, key: &Q) -> Owner<'a, K, V, S>
    where
        Q: ToOwned<Owned = K> + ?Sized,
    {
        let stored = key.to_owned();
        self.insert(stored)
    }

    /// Like [`start`](Missing::start), with a second copy of the key for a `Guard`.
    pub(super) fn start_with_key<Q>(self, key: &Q) -> (Owner<'a, K, V, S>, K)
    where
        Q: ToOwned<Owned = K> + ?Sized,
    {
        let stored = key.to_owned();
        let for_guard = key.to_owned();
        (self.insert(stored), for_guard)
    }

    fn insert(self, key: K) -> Owner<'a, K, V, S> {
        let Missing {
            map,
            mut locked,
            hash,
        } = self;
        let inner = &mut *locked;
        let flight = inner.new_flight();
        let id = flight.id;
        // No `Eq`, no `Hash`: the table grows with the stored hashes.
        inner
            .pending
            .insert_unique(hash, Pending { hash, key, flight }, |pending| pending.hash);
        drop(locked);
        Owner::new(map, hash, id)
    }
}

impl<K, V, S> OnceMap<K, V, S>
where
    K: Eq + Hash,
    V: Clone,
    S: BuildHasher,
{
    /// One lock hold: finds `key` and clones its value, or registers a waiter (with
    /// `Mode::Wait`, also checks and records the calling thread as blocked), or
    /// reports it missing with the lock still held.
    ///
    /// Always inlined: this is the hit path of every caller (hash, lock, one probe,
    /// `V::clone`, unlock), and the rest is out of line. With a plain `#[inline]`,
    /// LLVM kept it out of line in `wait` and `get_or_init`, and a hit through them
    /// returned the whole `Lookup` through memory: 1.4x and 1.65x the bare map's hit
    /// in `benches/once_map.rs` (`ratios`), against 1.04x and 1.09x inlined.
    #[inline(always)]
    pub(super) fn lookup<Q>(&self, key: &Q, mode: Mode) -> Lookup<'_, K, V, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let locked = self.inner.lock();
        if let Some(value) = locked.find_ready(hash, key) {
            let value = value.clone();
            drop(locked);
            return Lookup::Ready(value);
        }
        self.lookup_unpublished(locked, hash, key, mode)
    }

    /// The rest of `lookup`, for a key without a published value. Kept out of line so
    /// that the hit path inlined into every caller stays small.
    #[inline(never)]
    fn lookup_unpublished<'a, Q>(
        &'a self,
        mut locked: MutexGuard<'a, Inner<K, V>>,
        hash: u64,
        key: &Q,
        mode: Mode,
    ) -> Lookup<'a, K, V, S>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if locked.closed {
            return Lookup::Closed;
        }
        let inner = &mut *locked;
        let Some(flight) = inner.find_pending(hash, key) else {
            return Lookup::Missing(Missing {
                map: self,
                locked,
                hash,
            });
        };
        let (id, owner, shared) = (flight.id, flight.owner.id(), flight.register());
        if mode == Mode::Entry {
            drop(locked);
            return Lookup::Pending(Waiter::new(self, hash, id, owner, shared));
        }
        let me = owner::current_id();
        match inner.check_and_block(me, id, owner) {
            Ok(()) => {
                drop(locked);
                Lookup::Pending(Waiter::new(self, hash, id, owner, shared).already_blocked(me))
            }
            Err(error) => {
                // Registered above, refused now: leave at once.
                inner.leave(hash, id, None);
                drop(locked);
                Lookup::Refused(error)
            }
        }
    }
}
