//! `remove` racing a waiter and the completion: remove never disturbs the job in
//! flight, a registered waiter gets the value even when it was removed before the
//! waiter woke, and the map ends consistent with what `remove` returned.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};

#[test]
fn remove_never_disturbs_a_job_in_flight() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiter = common::spawn_on(&map, move |map| map.wait(&1));
        let remover = common::spawn_on(&map, move |map| map.remove(&1));
        guard.complete(7);
        let removed = remover.join().unwrap();
        let waited = waiter.join().unwrap();
        assert!(matches!(removed, None | Some(7)));
        match waited {
            Ok(7) => {}
            // Only possible when the value was published and removed before the
            // waiter looked the key up.
            Err(WaitError::Unregistered) => assert_eq!(removed, Some(7)),
            other => panic!("unexpected {other:?}"),
        }
        let expected = if removed.is_some() { None } else { Some(7) };
        assert_eq!(map.get(&1), expected);
    });
}
