//! The timeout branch of `Waiter::wait_timeout` (loom's condvar cannot time out, so a
//! zero timeout takes the branch; see src/sync.rs): a waiter that times out leaves its
//! flight cleanly and disturbs neither the job nor another waiter; a timeout racing the
//! completion returns either the value or `TimedOut`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn a_timed_out_waiter_leaves_without_disturbing_the_job() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let impatient = common::spawn_on(&map, |map| match map.entry(&1) {
            Entry::Pending(waiter) => waiter.wait_timeout(Duration::ZERO),
            Entry::Ready(value) => Ok(value),
            _ => panic!("the main thread owns the job"),
        });
        let patient = common::spawn_on(&map, move |map| map.wait(&1));
        assert_eq!(impatient.join().unwrap(), Err(WaitError::TimedOut));
        // The timed-out waiter has left; at most the patient one is counted.
        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1);
        assert!(jobs[0].waiters <= 1, "{:?}", jobs[0]);
        guard.complete(7);
        assert_eq!(patient.join().unwrap(), Ok(7));
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_timeout_racing_the_completion_returns_the_value_or_timed_out() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let impatient = common::spawn_on(&map, |map| match map.entry(&1) {
            Entry::Pending(waiter) => waiter.wait_timeout(Duration::ZERO),
            Entry::Ready(value) => Ok(value),
            _ => panic!("the main thread owns the job"),
        });
        guard.complete(7);
        let timed = impatient.join().unwrap();
        assert!(
            matches!(timed, Ok(7) | Err(WaitError::TimedOut)),
            "{timed:?}"
        );
        assert_eq!(map.get(&1), Some(7));
    });
}
