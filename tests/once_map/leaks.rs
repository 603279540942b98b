//! A leaked guard (`mem::forget`): like a leaked `MutexGuard`, it never settles its
//! job. Its key's waiters block until the map is closed or their deadline; every other
//! key works; `in_flight` keeps listing the job and says when its owner has exited.

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use inflight::{OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant};

#[test]
fn a_leaked_guard_blocks_only_its_key_and_in_flight_shows_its_owner_exited() {
    within(DEADLINE, "leaked guard", || {
        let map: Arc<OnceMap<u32, u32>> = Arc::new(OnceMap::new());
        let (leaked, has_leaked) = mpsc::channel();
        let (exit, may_exit) = mpsc::channel::<()>();
        let leaker = thread::Builder::new()
            .name("leaker".into())
            .spawn({
                let map = Arc::clone(&map);
                move || {
                    std::mem::forget(vacant(map.entry(&1)));
                    leaked.send(thread::current().id()).unwrap();
                    may_exit.recv().unwrap();
                }
            })
            .unwrap();
        let leaker_id = has_leaked.recv().unwrap();

        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1);
        assert_eq!((jobs[0].key, jobs[0].owner), (1, leaker_id));
        assert_eq!(jobs[0].owner_name.as_deref(), Some("leaker"));
        assert!(!jobs[0].owner_exited, "the owner thread still runs");

        exit.send(()).unwrap();
        leaker.join().unwrap();
        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1, "the leaked job stays in flight");
        assert!(jobs[0].owner_exited, "{:?}", jobs[0]);
        assert_eq!(jobs[0].owner_name.as_deref(), Some("leaker"));

        // Its waiters wait until their deadline...
        assert_eq!(
            pending(map.entry(&1)).wait_timeout(Duration::from_millis(20)),
            Err(WaitError::TimedOut)
        );
        // ...while every other key works.
        assert_eq!(map.get_or_init(&2, || 2), Ok(2));
        // ...or until the map is closed.
        let blocked = thread::spawn({
            let map = Arc::clone(&map);
            move || map.wait(&1)
        });
        await_waiters(&map, &1, 1);
        map.close();
        assert_eq!(blocked.join().unwrap(), Err(WaitError::Closed));
        assert_eq!(map.get(&2), Some(2));
    });
}

#[test]
fn an_owner_thread_that_exits_after_settling_leaves_nothing_in_flight() {
    within(DEADLINE, "owner exits", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        thread::scope(|s| {
            s.spawn(|| vacant(map.entry(&1)).complete(1));
        });
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&1), Some(1));
    });
}
