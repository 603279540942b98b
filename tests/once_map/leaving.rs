//! Waiters that leave before the job settles: dropped unused, or refused. Each one is
//! unregistered at once (the count `in_flight` reports falls back), and the job's
//! owner then settles a job nobody waits for: it makes no copy of the value for
//! waiters that are gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use inflight::OnceMap;

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant, waiters_of};

/// A value that counts its clones.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.0.fetch_add(1, Ordering::SeqCst);
        Counted(Arc::clone(&self.0))
    }
}

#[test]
fn waiters_dropped_unused_on_other_threads_unregister_and_the_job_settles_for_nobody() {
    const THREADS: usize = 4;
    within(DEADLINE, "dropped waiters", || {
        let map: OnceMap<u32, Counted> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        let registered = Barrier::new(THREADS + 1);
        let dropped = Barrier::new(THREADS + 1);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    let waiter = pending(map.entry(&1));
                    registered.wait();
                    // Lined up: every waiter is registered before any leaves.
                    registered.wait();
                    drop(waiter);
                    dropped.wait();
                });
            }
            registered.wait();
            assert_eq!(waiters_of(&map, &1), Some(THREADS));
            registered.wait();
            dropped.wait();
            assert_eq!(waiters_of(&map, &1), Some(0), "every dropped waiter left");
        });
        let clones = Arc::new(AtomicUsize::new(0));
        guard.complete(Counted(Arc::clone(&clones)));
        assert_eq!(
            clones.load(Ordering::SeqCst),
            0,
            "no copy is made for waiters that are gone"
        );
        assert!(map.in_flight().is_empty(), "the flight is freed");
        assert!(map.get(&1).is_some());
    });
}

#[test]
fn a_waiter_dropped_while_another_still_waits_leaves_only_itself() {
    within(DEADLINE, "one of two waiters dropped", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let staying = s.spawn(|| map.wait(&1));
            await_waiters(&map, &1, 1);
            let leaving = pending(map.entry(&1));
            assert_eq!(waiters_of(&map, &1), Some(2));
            drop(leaving);
            assert_eq!(waiters_of(&map, &1), Some(1));
            guard.complete(5);
            assert_eq!(staying.join().unwrap(), Ok(5));
        });
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_waiter_dropped_after_its_job_settled_changes_nothing() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let guard = vacant(map.entry(&1));
    let late = pending(map.entry(&1));
    guard.complete(1);
    drop(late);
    // The next job of another key counts its own waiters from zero.
    let other = vacant(map.entry(&2));
    let waiter = pending(map.entry(&2));
    assert_eq!(waiters_of(&map, &2), Some(1));
    drop(waiter);
    other.complete(2);
    assert!(map.in_flight().is_empty());
    assert_eq!((map.get(&1), map.get(&2)), (Some(1), Some(2)));
}
