//! A job that waits on its own key gets `WouldDeadlock` at once instead of hanging,
//! while another thread races for the same key.

mod common;

use std::sync::Arc;

use inflight::{OnceMap, WaitError};

#[test]
fn a_job_waiting_on_its_own_key_gets_would_deadlock() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let reentrant = common::spawn_on(&map, |map| {
            map.get_or_init(&1, || {
                assert_eq!(map.wait(&1), Err(WaitError::WouldDeadlock));
                assert_eq!(map.get_or_init(&1, || 0), Err(WaitError::WouldDeadlock));
                5
            })
        });
        let other = common::spawn_on(&map, move |map| map.get_or_init(&1, || 5));
        assert_eq!(reentrant.join().unwrap(), Ok(5));
        assert_eq!(other.join().unwrap(), Ok(5));
    });
}
