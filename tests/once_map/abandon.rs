//! An owner that goes away without a value (dropped guard, panic) never leaves a
//! waiter hanging.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use inflight::{Entry, OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, ExpectedPanic, await_waiters, expected_panic, pending, vacant};

#[test]
fn dropping_a_guard_wakes_every_waiter_with_abandoned() {
    within(DEADLINE, "abandon wakes waiters", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let waiters: Vec<_> = (0..3)
                .map(|_| s.spawn(|| pending(map.entry(&1)).wait()))
                .collect();
            await_waiters(&map, &1, 3);
            drop(guard);
            for waiter in waiters {
                assert_eq!(waiter.join().unwrap(), Err(WaitError::Abandoned));
            }
        });
        assert!(map.in_flight().is_empty());
        assert!(
            matches!(map.entry(&1), Entry::Vacant(_)),
            "an abandoned key is vacant again"
        );
    });
}

#[test]
fn a_panicking_owner_hands_the_job_to_one_waiting_get_or_init_caller() {
    const WAITERS: usize = 3;
    within(DEADLINE, "panicking owner", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let retries = AtomicUsize::new(0);
        let (owning, owns) = mpsc::channel();
        thread::scope(|s| {
            let owner = s.spawn(|| {
                panic::catch_unwind(AssertUnwindSafe(|| {
                    map.get_or_init(&1, || {
                        owning.send(()).unwrap();
                        await_waiters(&map, &1, WAITERS);
                        expected_panic()
                    })
                }))
            });
            owns.recv().unwrap();
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    s.spawn(|| {
                        map.get_or_init(&1, || {
                            retries.fetch_add(1, Ordering::SeqCst);
                            7
                        })
                    })
                })
                .collect();
            let payload = owner
                .join()
                .unwrap()
                .expect_err("the owner's panic propagates");
            assert!(payload.is::<ExpectedPanic>());
            for waiter in waiters {
                assert_eq!(waiter.join().unwrap(), Ok(7));
            }
        });
        assert_eq!(
            retries.load(Ordering::SeqCst),
            1,
            "exactly one waiter becomes the new owner"
        );
        assert_eq!(map.get(&1), Some(7));
    });
}

#[test]
fn an_owner_returning_early_from_get_or_try_init_with_a_panic_frees_its_waiters() {
    within(DEADLINE, "panicking try owner", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let (owning, owns) = mpsc::channel();
        thread::scope(|s| {
            let owner = s.spawn(|| {
                panic::catch_unwind(AssertUnwindSafe(|| {
                    map.get_or_try_init(&1, || -> Result<u32, String> {
                        owning.send(()).unwrap();
                        await_waiters(&map, &1, 2);
                        expected_panic()
                    })
                }))
            });
            owns.recv().unwrap();
            let plain = s.spawn(|| pending(map.entry(&1)).wait());
            let retrying = s.spawn(|| map.get_or_try_init(&1, || Ok::<_, String>(8)));
            assert!(owner.join().unwrap().is_err());
            assert_eq!(plain.join().unwrap(), Err(WaitError::Abandoned));
            assert_eq!(retrying.join().unwrap(), Ok(8));
        });
    });
}
