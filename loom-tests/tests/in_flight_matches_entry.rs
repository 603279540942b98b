//! `in_flight` agrees with the slot states: while a thread owns a job, a snapshot shows
//! exactly that key and owner, or nothing; a key seen published never shows as in flight.

mod common;

use std::sync::Arc;

use inflight::OnceMap;
use loom::thread;

#[test]
fn in_flight_shows_exactly_the_jobs_in_flight() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let owner = common::spawn_on(&map, |map| {
            let me = thread::current().id();
            (me, map.get_or_init(&1, || 1))
        });
        let published_before = map.get(&1);
        let snapshot = map.in_flight();
        let (owner_id, result) = owner.join().unwrap();
        assert_eq!(result, Ok(1));
        match snapshot.as_slice() {
            [] => {}
            [job] => {
                assert_eq!(job.key, 1);
                assert_eq!(job.owner, owner_id);
                assert_eq!(job.waiters, 0);
            }
            more => panic!("one key, yet {} jobs in flight", more.len()),
        }
        // A published key never shows as in flight again.
        if published_before.is_some() {
            assert!(snapshot.is_empty(), "{snapshot:?}");
        }
        assert!(map.in_flight().is_empty());
    });
}
