//! Two keys settled concurrently by two owners, each with its own waiter: each waiter
//! gets its own key's value. With one condvar per flight, a notify sent to the wrong
//! key's condvar leaves a waiter parked, which loom reports as a deadlock.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap};

#[test]
fn two_keys_complete_concurrently_and_each_waiter_gets_its_own_value() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let owner = |key: u32| {
            common::spawn_on(&map, move |map| {
                let Entry::Vacant(guard) = map.entry(&key) else {
                    // The waiter got here first and owns the job: nothing to do.
                    return;
                };
                guard.complete(key * 10);
            })
        };
        let owners = [owner(1), owner(2)];
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|key| common::spawn_on(&map, move |map| map.get_or_init(&key, || key * 10)))
            .collect();
        for (waiter, key) in waiters.into_iter().zip([1, 2]) {
            assert_eq!(waiter.join().unwrap(), Ok(key * 10));
        }
        for owner in owners {
            owner.join().unwrap();
        }
    });
}
