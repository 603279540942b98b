//! Dropping a `Guard` without completing wakes every waiter: `Waiter::wait` returns
//! `Abandoned`, and `OnceMap::wait` arriving after the drop finds the key unregistered.
//! Nobody hangs.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn abandoned_owner_wakes_every_waiter() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiters: Vec<_> = (0..2)
            .map(|_| common::spawn_on(&map, move |map| map.wait(&1)))
            .collect();
        drop(guard);
        for waiter in waiters {
            let result = waiter.join().unwrap();
            assert!(
                matches!(result, Err(WaitError::Abandoned | WaitError::Unregistered)),
                "{result:?}"
            );
        }
        // The key is vacant again: the next caller owns the job.
        assert!(matches!(map.entry(&1), Entry::Vacant(_)));
    });
}
