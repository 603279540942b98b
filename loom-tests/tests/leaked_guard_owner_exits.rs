//! A leaked guard: its owner thread exits without settling. `in_flight` reports the
//! job with `owner_exited` (set by the owner thread's thread-local as it goes), its
//! waiter blocks until `close` wakes it, and other keys work meanwhile.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn a_leaked_guard_shows_its_owner_exited_and_only_close_frees_its_waiter() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let leaker = common::spawn_on(&map, |map| {
            let Entry::Vacant(guard) = map.entry(&1) else {
                panic!("the leaker is the only one to take key 1")
            };
            std::mem::forget(guard);
        });
        let waiter = common::spawn_on(&map, |map| map.wait(&1));
        leaker.join().unwrap();
        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1, "the leaked job stays in flight");
        assert!(jobs[0].owner_exited, "{:?}", jobs[0]);
        assert_eq!(map.get_or_init(&2, || 2), Ok(2));
        map.close();
        // Registered before the close, or refused by it: `Closed` either way (the
        // waiter may also have arrived before the leaker took the key).
        match waiter.join().unwrap() {
            Err(WaitError::Closed | WaitError::Unregistered) => {}
            other => panic!("{other:?}"),
        }
    });
}
