//! `close` wakes a blocked waiter with `Closed` while the owner keeps running, and
//! races a completion: the waiter gets the value or `Closed`, and the value published
//! after the close stays readable.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn close_wakes_a_blocked_waiter_while_the_owner_still_runs() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiter = common::spawn_on(&map, move |map| map.wait(&1));
        let closer = common::spawn_on(&map, move |map| map.close());
        closer.join().unwrap();
        // Only close can wake it: the job has not completed.
        assert_eq!(waiter.join().unwrap(), Err(WaitError::Closed));
        guard.complete(7);
        assert_eq!(map.get(&1), Some(7));
        assert!(matches!(map.entry(&2), Entry::Closed));
    });
}

#[test]
fn close_racing_a_completion_gives_the_value_or_closed() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiter = common::spawn_on(&map, move |map| map.wait(&1));
        let closer = common::spawn_on(&map, move |map| map.close());
        guard.complete(7);
        let waited = waiter.join().unwrap();
        assert!(
            matches!(waited, Ok(7) | Err(WaitError::Closed)),
            "{waited:?}"
        );
        closer.join().unwrap();
        assert_eq!(map.get(&1), Some(7));
        assert_eq!(map.get_or_init(&1, || 0), Ok(7));
    });
}
