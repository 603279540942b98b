//! Publishing a value: waiters get it, racing callers run the job once, `wait` and
//! `remove` behave as the contract says, and borrowed keys work.

use std::hash::RandomState;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use inflight::{Entry, OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, OneBucket, await_waiters, pending, vacant, waiters_of};

#[test]
fn completing_a_job_wakes_its_one_waiter_with_the_value() {
    within(DEADLINE, "one waiter", || {
        let map: OnceMap<u32, String> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let waiter = s.spawn(|| pending(map.entry(&1)).wait());
            await_waiters(&map, &1, 1);
            guard.complete("one".to_string());
            assert_eq!(waiter.join().unwrap(), Ok("one".to_string()));
        });
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn completing_a_job_wakes_two_waiters_and_each_gets_the_value() {
    within(DEADLINE, "two waiters", || {
        let map: OnceMap<u32, String> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let through_waiter = s.spawn(|| pending(map.entry(&1)).wait());
            let through_get_or_init =
                s.spawn(|| map.get_or_init(&1, || panic!("the waiter must not run the job")));
            await_waiters(&map, &1, 2);
            guard.complete("one".to_string());
            assert_eq!(through_waiter.join().unwrap(), Ok("one".to_string()));
            assert_eq!(through_get_or_init.join().unwrap(), Ok("one".to_string()));
        });
    });
}

#[test]
fn racing_get_or_init_callers_run_the_job_exactly_once() {
    const THREADS: usize = 8;
    const ROUNDS: u32 = 100;
    within(DEADLINE, "racing get_or_init", || {
        let map: OnceMap<u32, u64> = OnceMap::new();
        let runs: Vec<AtomicUsize> = (0..ROUNDS).map(|_| AtomicUsize::new(0)).collect();
        let barrier = Barrier::new(THREADS);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for round in 0..ROUNDS {
                        // Every thread starts each round's race at the same moment.
                        barrier.wait();
                        let value = map.get_or_init(&round, || {
                            runs[round as usize].fetch_add(1, Ordering::SeqCst);
                            // Stay in flight long enough for the others to arrive.
                            thread::yield_now();
                            u64::from(round) * 10
                        });
                        assert_eq!(value, Ok(u64::from(round) * 10));
                    }
                });
            }
        });
        for (round, runs) in runs.iter().enumerate() {
            assert_eq!(runs.load(Ordering::SeqCst), 1, "round {round}");
        }
    });
}

#[test]
fn wait_on_a_key_nobody_registered_is_unregistered() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    assert_eq!(map.wait(&1), Err(WaitError::Unregistered));
    // A failed job leaves the key unregistered again.
    if let Entry::Vacant(guard) = map.entry(&1) {
        guard.fail_with_message("no");
    }
    assert_eq!(map.wait(&1), Err(WaitError::Unregistered));
}

#[test]
fn wait_on_a_published_key_returns_the_value_at_once() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    map.get_or_init(&1, || 10).unwrap();
    assert_eq!(map.wait(&1), Ok(10));
}

#[test]
fn wait_on_a_pending_key_blocks_until_the_value_is_published() {
    within(DEADLINE, "wait on pending", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let waiting = s.spawn(|| map.wait(&1));
            await_waiters(&map, &1, 1);
            thread::sleep(Duration::from_millis(20));
            assert!(
                !waiting.is_finished(),
                "wait returned before the job settled"
            );
            guard.complete(10);
            assert_eq!(waiting.join().unwrap(), Ok(10));
        });
    });
}

#[test]
fn remove_returns_a_published_value_and_the_key_becomes_vacant() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    assert_eq!(map.remove(&1), None);
    map.get_or_init(&1, || 10).unwrap();
    assert_eq!(map.remove(&1), Some(10));
    assert_eq!(map.get(&1), None);
    assert_eq!(map.remove(&1), None);
    // Vacant again: the next call runs its job.
    assert_eq!(map.get_or_init(&1, || 11), Ok(11));
}

#[test]
fn keys_whose_hashes_collide_are_kept_apart_by_every_call() {
    let map: OnceMap<u32, u32, OneBucket> = OnceMap::with_hasher(OneBucket);
    for key in 1..=3 {
        assert_eq!(map.get_or_init(&key, || key * 10), Ok(key * 10));
    }
    let guard = vacant(map.entry(&4));
    assert_eq!(map.get(&2), Some(20));
    assert!(matches!(map.entry(&3), Entry::Ready(30)));
    assert_eq!(map.remove(&2), Some(20));
    assert_eq!(map.remove(&2), None, "2 was removed, not another key");
    assert_eq!(
        (map.get(&1), map.get(&2), map.get(&3)),
        (Some(10), None, Some(30))
    );
    let waiter = pending(map.entry(&4));
    guard.complete(40);
    assert_eq!(waiter.wait(), Ok(40));
    assert_eq!(map.get(&4), Some(40));
    assert_eq!(map.wait(&5), Err(WaitError::Unregistered));
}

#[test]
fn remove_leaves_a_job_in_flight_alone_and_its_waiters_get_the_value() {
    within(DEADLINE, "remove while in flight", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let waiting = s.spawn(|| map.get_or_init(&1, || panic!("the job is in flight")));
            await_waiters(&map, &1, 1);
            assert_eq!(map.remove(&1), None);
            // Still the same job, with its waiter.
            assert_eq!(waiters_of(&map, &1), Some(1));
            guard.complete(10);
            assert_eq!(waiting.join().unwrap(), Ok(10));
        });
        assert_eq!(map.get(&1), Some(10));
    });
}

#[test]
fn string_keys_are_looked_up_with_str() {
    within(DEADLINE, "borrowed keys", || {
        let map: OnceMap<String, usize> = OnceMap::new();
        let guard = vacant(map.entry("numpy"));
        assert_eq!(guard.key(), "numpy");
        thread::scope(|s| {
            let waiting = s.spawn(|| map.wait("numpy"));
            await_waiters(&map, &"numpy".to_string(), 1);
            guard.complete(5);
            assert_eq!(waiting.join().unwrap(), Ok(5));
        });
        assert_eq!(map.get("numpy"), Some(5));
        assert!(matches!(map.entry("numpy"), Entry::Ready(5)));
        assert_eq!(map.get_or_init("numpy", || unreachable!()), Ok(5));
        assert_eq!(map.remove("numpy"), Some(5));
        assert_eq!(map.get_or_try_init("scipy", || Ok::<_, &str>(5)), Ok(5));
    });
}

#[test]
fn a_map_with_a_std_hasher_runs_jobs_once_like_the_default() {
    let map: OnceMap<String, u32, RandomState> = OnceMap::with_hasher(RandomState::new());
    assert_eq!(map.get_or_init("a", || 1), Ok(1));
    assert_eq!(map.get_or_init("a", || 2), Ok(1));
    assert_eq!(map.get("a"), Some(1));
}
