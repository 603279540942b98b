//! `Waiter::wait_timeout` / `wait_deadline`: giving up leaves the job and the other
//! waiters untouched.

use std::thread;
use std::time::{Duration, Instant};

use inflight::{OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant, waiters_of};

#[test]
fn wait_timeout_gives_up_while_the_job_runs_and_the_job_still_completes_for_others() {
    within(DEADLINE, "timeout", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let patient = s.spawn(|| map.wait(&1));
            await_waiters(&map, &1, 1);
            let impatient = s.spawn(|| {
                let waiter = pending(map.entry(&1));
                let start = Instant::now();
                (
                    waiter.wait_timeout(Duration::from_millis(50)),
                    start.elapsed(),
                )
            });
            let (result, waited) = impatient.join().unwrap();
            assert_eq!(result, Err(WaitError::TimedOut));
            assert!(
                waited >= Duration::from_millis(50),
                "gave up after {waited:?}"
            );
            // The key stays pending, and only the patient waiter is still counted.
            assert_eq!(map.get(&1), None);
            assert_eq!(waiters_of(&map, &1), Some(1));
            assert!(!patient.is_finished());
            guard.complete(10);
            assert_eq!(patient.join().unwrap(), Ok(10));
        });
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn wait_deadline_in_the_past_times_out_at_once_on_a_running_job() {
    within(DEADLINE, "past deadline", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let result = s
                .spawn(|| pending(map.entry(&1)).wait_deadline(Instant::now()))
                .join()
                .unwrap();
            assert_eq!(result, Err(WaitError::TimedOut));
        });
        assert_eq!(waiters_of(&map, &1), Some(0));
        guard.complete(1);
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_zero_timeout_on_a_job_that_already_completed_returns_the_value() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let guard = vacant(map.entry(&1));
    let first = pending(map.entry(&1));
    let second = pending(map.entry(&1));
    guard.complete(10);
    assert_eq!(first.wait_timeout(Duration::ZERO), Ok(10));
    assert_eq!(
        second.wait_deadline(Instant::now() - Duration::from_millis(1)),
        Ok(10)
    );
    assert!(map.in_flight().is_empty());
}
