//! `close` racing many waiters of every kind and the owner's completion. Each waiter
//! gets the value or `Closed` (or, for a `Waiter` with a zero timeout, `TimedOut`),
//! nobody hangs, nothing stays in flight, and the value, once published, stays
//! readable after the close.

mod common;

use std::sync::Arc;
use std::time::Duration;

use inflight::{Entry, OnceMap, TryInitError, WaitError};

#[test]
fn close_racing_ten_waiters_and_a_completion_leaves_no_one_waiting() {
    common::check("close: 10 waiters, closer, owner", || {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiters: Vec<_> = (0..10)
            .map(|i| {
                common::spawn_on(&map, move |map| match i % 5 {
                    0 => map.wait(&1),
                    1 => map.get_or_init(&1, || unreachable!("the main thread owns the job")),
                    2 => match map.get_or_try_init(&1, || Ok::<_, String>(0)) {
                        Ok(value) => Ok(value),
                        Err(TryInitError::Wait(error)) => Err(error),
                        Err(other) => panic!("no job fails here: {other:?}"),
                    },
                    3 => match map.entry(&1) {
                        Entry::Pending(waiter) => waiter.wait(),
                        Entry::Ready(value) => Ok(value),
                        Entry::Closed => Err(WaitError::Closed),
                        Entry::Vacant(_) => panic!("the main thread owns the job"),
                    },
                    _ => match map.entry(&1) {
                        Entry::Pending(waiter) => waiter.wait_timeout(Duration::ZERO),
                        Entry::Ready(value) => Ok(value),
                        Entry::Closed => Err(WaitError::Closed),
                        Entry::Vacant(_) => panic!("the main thread owns the job"),
                    },
                })
            })
            .collect();
        let closer = common::spawn_on(&map, |map| map.close());
        guard.complete(7);
        for (i, waiter) in waiters.into_iter().enumerate() {
            let got = waiter.join().unwrap();
            let allowed = match got {
                Ok(7) | Err(WaitError::Closed) => true,
                Err(WaitError::TimedOut) => i % 5 == 4,
                _ => false,
            };
            assert!(allowed, "waiter {i} got {got:?}");
        }
        closer.join().unwrap();
        assert!(map.is_closed());
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&1), Some(7));
        assert!(matches!(map.entry(&2), Entry::Closed));
    });
}

#[test]
fn close_wakes_eight_blocked_waiters_of_two_jobs_that_never_settle_on_their_own() {
    common::check("close: 8 waiters of 2 stuck jobs", || {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let guards = [1, 2].map(|key| match map.entry(&key) {
            Entry::Vacant(guard) => guard,
            _ => panic!("a new map has no value"),
        });
        let waiters: Vec<_> = (0..8)
            .map(|i| {
                let key = 1 + i % 2;
                common::spawn_on(&map, move |map| match i % 4 {
                    0 | 1 => map.wait(&key),
                    2 => map.get_or_init(&key, || unreachable!("the main thread owns it")),
                    _ => match map.entry(&key) {
                        Entry::Pending(waiter) => waiter.wait(),
                        Entry::Closed => Err(WaitError::Closed),
                        _ => panic!("the main thread owns the job"),
                    },
                })
            })
            .collect();
        // Only close can free them: the owners settle after every waiter returned.
        map.close();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Err(WaitError::Closed));
        }
        for guard in guards {
            let key = *guard.key();
            guard.complete(key);
        }
        assert_eq!(map.get(&2), Some(2));
        assert!(map.in_flight().is_empty());
    });
}
