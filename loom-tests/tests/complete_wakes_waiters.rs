//! `Guard::complete` wakes every waiter of its key, each with the value: one waiter
//! (the basic notify) and two (catches a `notify_one` where `notify_all` is needed).

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn complete_wakes_one_waiter() {
    common::check_with_bound(None, || {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiter = common::spawn_on(&map, move |map| map.wait(&1));
        guard.complete(7);
        assert_eq!(waiter.join().unwrap(), Ok(7));
        assert_eq!(map.get(&1), Some(7));
    });
}

#[test]
fn complete_wakes_two_waiters() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                common::spawn_on(&map, |map| {
                    map.get_or_init(&1, || panic!("the main thread owns the job"))
                })
            })
            .collect();
        guard.complete(7);
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Ok::<_, WaitError>(7));
        }
    });
}
