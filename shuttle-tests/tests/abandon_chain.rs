//! Abandon chains: the owners of one key give up one after another (a panic in
//! `get_or_init`, a dropped `Guard`), and each time a waiting caller takes the job
//! over, until one completes it. Every caller that did not give up gets that one value.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};
use shuttle::sync::atomic::{AtomicUsize, Ordering};

/// How many runs give up before one succeeds.
const GIVE_UPS: usize = 3;

#[test]
fn three_panicking_owners_in_a_row_hand_the_job_on_until_one_of_eight_callers_completes_it() {
    common::quiet_intended_panics();
    common::check("abandon chain: 8 callers, 3 panics", || {
        let map = Arc::new(OnceMap::<u32, usize>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let runs = Arc::clone(&runs);
                common::spawn_on(&map, move |map| {
                    catch_unwind(AssertUnwindSafe(|| {
                        map.get_or_init(&1, || {
                            let run = runs.fetch_add(1, Ordering::Relaxed);
                            if run < GIVE_UPS {
                                panic!("intended: the owner gives up");
                            }
                            run
                        })
                    }))
                    .ok()
                })
            })
            .collect();
        let results: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        // Each run is made by a different caller (one panics out of its call).
        let panicked = results.iter().filter(|r| r.is_none()).count();
        assert_eq!(panicked, GIVE_UPS, "{results:?}");
        for result in results.into_iter().flatten() {
            assert_eq!(result, Ok(GIVE_UPS));
        }
        assert_eq!(runs.load(Ordering::Relaxed), GIVE_UPS + 1);
        assert_eq!(map.get(&1), Some(GIVE_UPS));
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn guards_dropped_in_a_row_wake_their_waiters_and_leave_the_key_to_the_next_owner() {
    common::check("abandon chain: 3 droppers, 4 waiters, 1 completer", || {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let dropped = Arc::new(AtomicUsize::new(0));
        // Three threads take the key and drop the guard; the fourth completes it once
        // all three have given up. Those that find the key taken wait for it instead.
        let owners: Vec<_> = (0..4)
            .map(|i| {
                let dropped = Arc::clone(&dropped);
                common::spawn_on(&map, move |map| {
                    loop {
                        match map.entry(&1) {
                            Entry::Vacant(guard) if i < 3 => {
                                drop(guard);
                                dropped.fetch_add(1, Ordering::SeqCst);
                                return None;
                            }
                            Entry::Vacant(guard) if dropped.load(Ordering::SeqCst) == 3 => {
                                guard.complete(9);
                                return Some(Ok(9));
                            }
                            // Too early: give it back and try again.
                            Entry::Vacant(guard) => drop(guard),
                            Entry::Ready(value) => return Some(Ok(value)),
                            Entry::Pending(waiter) => match waiter.wait() {
                                Err(WaitError::Abandoned) => {}
                                other => return Some(other),
                            },
                            Entry::Closed => unreachable!("nobody closes the map"),
                        }
                        shuttle::thread::yield_now();
                    }
                })
            })
            .collect();
        // Plain waiters: `Abandoned` or `Unregistered` when they hit a gap; then retry.
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                common::spawn_on(&map, |map| {
                    loop {
                        match map.wait(&1) {
                            Err(WaitError::Abandoned | WaitError::Unregistered) => {
                                shuttle::thread::yield_now()
                            }
                            other => return other,
                        }
                    }
                })
            })
            .collect();
        for owner in owners {
            assert!(matches!(owner.join().unwrap(), None | Some(Ok(9))));
        }
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Ok(9));
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
        assert!(map.in_flight().is_empty());
    });
}
