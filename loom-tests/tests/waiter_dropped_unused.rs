//! A `Waiter` dropped without waiting unregisters: once its thread is done, the job's
//! waiter count no longer includes it; dropped while the owner settles, it leaves no
//! trace either way (it left first, or the flight was already gone). The waiter
//! that does wait gets the value in both cases.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap};

/// Takes a waiter for key 1 and drops it unused (or finds the value already there).
fn drop_a_waiter(map: &OnceMap<u32, u32>) {
    match map.entry(&1) {
        Entry::Pending(waiter) => drop(waiter),
        Entry::Ready(value) => assert_eq!(value, 7),
        other => panic!("the main thread owns key 1: {other:?}"),
    }
}

#[test]
fn a_waiter_dropped_unused_no_longer_counts_once_its_thread_is_done() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let dropper = common::spawn_on(&map, drop_a_waiter);
        let patient = common::spawn_on(&map, |map| map.wait(&1));
        dropper.join().unwrap();
        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1);
        assert!(
            jobs[0].waiters <= 1,
            "only the patient waiter may be counted: {:?}",
            jobs[0]
        );
        guard.complete(7);
        assert_eq!(patient.join().unwrap(), Ok(7));
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_waiter_dropped_unused_while_the_job_settles_leaves_no_trace() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let dropper = common::spawn_on(&map, drop_a_waiter);
        let patient = common::spawn_on(&map, |map| map.wait(&1));
        guard.complete(7);
        dropper.join().unwrap();
        assert_eq!(patient.join().unwrap(), Ok(7));
        assert!(map.in_flight().is_empty());
        // The next job of the map counts its waiters from zero.
        let Entry::Vacant(next) = map.entry(&2) else {
            panic!("key 2 is new")
        };
        assert_eq!(map.in_flight()[0].waiters, 0);
        next.complete(2);
    });
}
