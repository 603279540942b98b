//! Values whose `Clone` panics. The map clones `V` under its lock (on a hit, and once
//! for the waiters when a job with waiters completes) and under a job's own lock (each
//! waiter's copy). A panic there must leave the map unlocked and consistent, and
//! strand no waiter.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::thread;

use inflight::{Entry, OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, maybe_panic, pending, vacant};

thread_local! {
    /// How many more clones of a [`Fragile`] on this thread succeed before one panics.
    static CLONES_UNTIL_PANIC: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Makes the `n`th next clone on this thread panic (`n` from 1).
fn panic_on_clone(n: u32) {
    CLONES_UNTIL_PANIC.with(|cell| cell.set(Some(n - 1)));
}

fn never_panic_on_clone() {
    CLONES_UNTIL_PANIC.with(|cell| cell.set(None));
}

#[derive(Debug, PartialEq, Eq)]
struct Fragile(u32);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        maybe_panic(&CLONES_UNTIL_PANIC);
        Fragile(self.0)
    }
}

fn panics<T>(call: impl FnOnce() -> T) -> bool {
    let result = panic::catch_unwind(AssertUnwindSafe(call));
    never_panic_on_clone();
    result.is_err()
}

#[test]
fn a_clone_panicking_on_a_hit_leaves_the_map_unlocked_and_unchanged() {
    within(DEADLINE, "clone panic on a hit", || {
        let map: OnceMap<u32, Fragile> = OnceMap::new();
        assert_eq!(map.get_or_init(&1, || Fragile(1)), Ok(Fragile(1)));
        panic_on_clone(1);
        assert!(panics(|| map.get(&1)), "get");
        panic_on_clone(1);
        assert!(panics(|| matches!(map.entry(&1), Entry::Ready(_))), "entry");
        panic_on_clone(1);
        assert!(panics(|| map.wait(&1)), "wait");
        panic_on_clone(1);
        assert!(panics(|| map.get_or_init(&1, || Fragile(2))), "get_or_init");
        assert_eq!(map.get(&1), Some(Fragile(1)));
        assert!(map.in_flight().is_empty());
        assert_eq!(map.remove(&1), Some(Fragile(1)));
    });
}

#[test]
fn a_clone_panicking_for_the_waiters_abandons_the_job_and_frees_every_waiter() {
    within(DEADLINE, "clone panic in complete", || {
        let map: OnceMap<u32, Fragile> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let through_waiter = s.spawn(|| pending(map.entry(&1)).wait());
            let through_get_or_init = s.spawn(|| map.get_or_init(&1, || Fragile(2)));
            await_waiters(&map, &1, 2);
            // The waiters' copy is the first clone `complete` makes.
            panic_on_clone(1);
            assert!(
                panics(|| guard.complete(Fragile(1))),
                "the panic reaches the owner"
            );
            // Abandoned: the `Waiter` says so, `get_or_init` takes the job over.
            assert_eq!(through_waiter.join().unwrap(), Err(WaitError::Abandoned));
            assert_eq!(through_get_or_init.join().unwrap(), Ok(Fragile(2)));
        });
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&1), Some(Fragile(2)));
    });
}

#[test]
fn a_complete_without_waiters_makes_no_clone() {
    let map: OnceMap<u32, Fragile> = OnceMap::new();
    let guard = vacant(map.entry(&1));
    panic_on_clone(1);
    guard.complete(Fragile(1));
    let armed = CLONES_UNTIL_PANIC.with(Cell::get);
    never_panic_on_clone();
    assert_eq!(armed, Some(0), "no clone ran");
}

#[test]
fn a_waiter_whose_clone_panics_leaves_alone_and_the_others_get_the_value() {
    within(DEADLINE, "clone panic in a waiter", || {
        let map: OnceMap<u32, Fragile> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let unlucky = s.spawn(|| {
                let waiter = pending(map.entry(&1));
                panic_on_clone(1);
                panics(|| waiter.wait())
            });
            let lucky = s.spawn(|| map.wait(&1));
            await_waiters(&map, &1, 2);
            guard.complete(Fragile(1));
            assert!(unlucky.join().unwrap(), "the waiter's own clone panicked");
            assert_eq!(lucky.join().unwrap(), Ok(Fragile(1)));
        });
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&1), Some(Fragile(1)));
    });
}
