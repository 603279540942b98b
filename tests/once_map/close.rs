//! `close`: blocked waiters return `Closed`, new jobs are refused, published values and
//! jobs already running are kept.

use std::sync::mpsc;
use std::thread;

use inflight::{Entry, OnceMap, TryInitError, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant, waiters_of};

#[test]
fn closing_the_map_wakes_every_blocked_waiter_with_closed() {
    const KEYS: u32 = 3;
    const WAITERS: u32 = 8;
    within(DEADLINE, "close wakes waiters", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guards: Vec<_> = (0..KEYS).map(|key| vacant(map.entry(&key))).collect();
        thread::scope(|s| {
            // Each kind of wait, spread over the keys.
            let waiters: Vec<_> = (0..WAITERS)
                .map(|i| {
                    let map = &map;
                    let key = i % KEYS;
                    s.spawn(move || match i % 4 {
                        0 => map.wait(&key),
                        1 => map.get_or_init(&key, || unreachable!("the key is in flight")),
                        2 => match map.get_or_try_init(&key, || Ok::<_, &str>(0)) {
                            Err(TryInitError::Wait(error)) => Err(error),
                            other => panic!("expected a wait error, got {other:?}"),
                        },
                        _ => pending(map.entry(&key)).wait(),
                    })
                })
                .collect();
            for key in 0..KEYS {
                let expected = (0..WAITERS).filter(|i| i % KEYS == key).count();
                await_waiters(&map, &key, expected);
            }
            assert!(!map.is_closed());
            map.close();
            assert!(map.is_closed());
            for waiter in waiters {
                assert_eq!(waiter.join().unwrap(), Err(WaitError::Closed));
            }
        });
        // The jobs themselves were not interrupted; their owners may still settle them.
        assert_eq!(map.in_flight().len(), KEYS as usize);
        for guard in guards {
            let key = *guard.key();
            guard.complete(key);
        }
        assert_eq!(map.get(&0), Some(0));
    });
}

#[test]
fn a_closed_map_refuses_new_jobs_but_serves_published_values() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    map.get_or_init(&1, || 10).unwrap();
    map.close();
    map.close(); // harmless

    assert!(matches!(map.entry(&2), Entry::Closed));
    assert_eq!(map.get_or_init(&2, || 20), Err(WaitError::Closed));
    assert_eq!(
        map.get_or_try_init(&2, || Ok::<_, &str>(20)),
        Err(TryInitError::Wait(WaitError::Closed))
    );
    assert_eq!(map.wait(&2), Err(WaitError::Closed));
    assert_eq!(map.get(&2), None);
    assert!(map.in_flight().is_empty(), "no job was started");

    assert_eq!(map.get(&1), Some(10));
    assert_eq!(map.get_or_init(&1, || unreachable!()), Ok(10));
    assert!(matches!(map.entry(&1), Entry::Ready(10)));
    assert_eq!(map.wait(&1), Ok(10));
}

#[test]
fn a_job_running_during_close_still_publishes_its_value() {
    within(DEADLINE, "job survives close", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let (owning, owns) = mpsc::channel();
        let (closed, is_closed) = mpsc::channel::<()>();
        thread::scope(|s| {
            let map = &map;
            let owner = s.spawn(move || {
                map.get_or_init(&1, || {
                    owning.send(()).unwrap();
                    is_closed.recv().unwrap();
                    10
                })
            });
            owns.recv().unwrap();
            let waiting = s.spawn(|| map.wait(&1));
            await_waiters(map, &1, 1);
            map.close();
            assert_eq!(waiting.join().unwrap(), Err(WaitError::Closed));
            // A key in flight on a closed map refuses newcomers too.
            assert!(matches!(map.entry(&1), Entry::Closed));
            assert_eq!(waiters_of(map, &1), Some(0));
            closed.send(()).unwrap();
            assert_eq!(owner.join().unwrap(), Ok(10));
        });
        assert_eq!(map.get(&1), Some(10));
        assert_eq!(map.get_or_init(&1, || unreachable!()), Ok(10));
        assert!(map.in_flight().is_empty());
    });
}
