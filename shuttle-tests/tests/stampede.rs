//! Stampedes: many threads ask for the same keys at once. The job of each key runs
//! exactly once and every caller gets its key's value, whether it called
//! `get_or_init`, waited with `wait`, or went through `entry` and a `Waiter`.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};
use shuttle::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn sixteen_callers_of_one_key_run_its_job_once_and_all_get_the_value() {
    common::check("stampede: 16 callers, one key", || {
        let map = Arc::new(OnceMap::<u32, usize>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let runs = Arc::clone(&runs);
                common::spawn_on(&map, move |map| {
                    map.get_or_init(&1, || runs.fetch_add(1, Ordering::Relaxed) + 10)
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.join().unwrap(), Ok(10));
        }
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert!(map.in_flight().is_empty());
    });
}

/// Asks for `key` in one of four ways; `Ok` with the value, or what the caller saw
/// if it came too early (`wait` before anyone registered the key) or too late for a
/// `Waiter` (an abandoned owner: none here).
fn ask(
    map: &OnceMap<u32, u32>,
    key: u32,
    how: usize,
    runs: &AtomicUsize,
) -> Result<u32, WaitError> {
    let job = || {
        runs.fetch_add(1, Ordering::Relaxed);
        key * 10
    };
    match how % 4 {
        0 => map.get_or_init(&key, job),
        1 => match map.wait(&key) {
            // Nobody had registered the key yet: run it like everyone else.
            Err(WaitError::Unregistered) => map.get_or_init(&key, job),
            other => other,
        },
        2 => match map.entry(&key) {
            Entry::Ready(value) => Ok(value),
            Entry::Pending(waiter) => waiter.wait(),
            Entry::Vacant(guard) => {
                let value = job();
                guard.complete(value);
                Ok(value)
            }
            Entry::Closed => Err(WaitError::Closed),
        },
        _ => map
            .get_or_try_init(&key, || Ok::<_, String>(job()))
            .map_err(|error| panic!("no job fails here: {error:?}")),
    }
}

#[test]
fn twelve_callers_of_two_keys_asking_four_ways_each_get_their_keys_value() {
    common::check("stampede: 12 callers, two keys, four ways", || {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let runs = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let callers: Vec<_> = (0..12)
            .map(|i| {
                let key = 1 + (i % 2) as u32;
                let runs = Arc::clone(&runs);
                common::spawn_on(&map, move |map| {
                    (key, ask(map, key, i / 2, &runs[key as usize - 1]))
                })
            })
            .collect();
        for caller in callers {
            let (key, got) = caller.join().unwrap();
            assert_eq!(got, Ok(key * 10), "key {key}");
        }
        for key in [1, 2] {
            assert_eq!(
                runs[key as usize - 1].load(Ordering::Relaxed),
                1,
                "key {key}"
            );
            assert_eq!(map.get(&key), Some(key * 10));
        }
        assert!(map.in_flight().is_empty());
    });
}
