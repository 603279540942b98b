//! `in_flight`: the diagnostic to look at when a program seems stuck.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use inflight::OnceMap;

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, vacant};

#[test]
fn in_flight_reports_key_owner_thread_name_waiters_and_growing_running_time() {
    within(DEADLINE, "in_flight", || {
        let map: OnceMap<String, u32> = OnceMap::new();
        let (owning, owns) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let map = &map;
        thread::scope(|s| {
            let owner = thread::Builder::new()
                .name("wheel-builder".into())
                .spawn_scoped(s, move || {
                    map.get_or_init("numpy", || {
                        owning.send(thread::current().id()).unwrap();
                        released.recv().unwrap();
                        1
                    })
                })
                .unwrap();
            let owner_id = owns.recv().unwrap();
            let waiters: Vec<_> = (0..2).map(|_| s.spawn(|| map.wait("numpy"))).collect();
            await_waiters(map, &"numpy".to_string(), 2);

            let first = map.in_flight();
            assert_eq!(first.len(), 1);
            assert_eq!(first[0].key, "numpy");
            assert_eq!(first[0].owner, owner_id);
            assert_eq!(first[0].owner_name.as_deref(), Some("wheel-builder"));
            assert_eq!(first[0].waiters, 2);
            thread::sleep(Duration::from_millis(20));
            let second = map.in_flight();
            assert!(
                second[0].running_for >= first[0].running_for + Duration::from_millis(20),
                "running_for went from {:?} to {:?}",
                first[0].running_for,
                second[0].running_for
            );

            release.send(()).unwrap();
            assert_eq!(owner.join().unwrap(), Ok(1));
            for waiter in waiters {
                assert_eq!(waiter.join().unwrap(), Ok(1));
            }
        });
        assert!(
            map.in_flight().is_empty(),
            "nothing in flight after completion"
        );
    });
}

#[test]
fn in_flight_lists_every_job_and_an_unnamed_owner_has_no_name() {
    within(DEADLINE, "in_flight unnamed", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        thread::scope(|s| {
            s.spawn(|| {
                let (a, b) = (vacant(map.entry(&1)), vacant(map.entry(&2)));
                let mut jobs = map.in_flight();
                jobs.sort_by_key(|job| job.key);
                assert_eq!(jobs.iter().map(|job| job.key).collect::<Vec<_>>(), [1, 2]);
                for job in &jobs {
                    assert_eq!(job.owner, thread::current().id());
                    assert_eq!(job.owner_name, None);
                    assert_eq!(job.waiters, 0);
                }
                a.complete(1);
                assert_eq!(map.in_flight().len(), 1);
                drop(b);
                assert!(map.in_flight().is_empty());
            });
        });
    });
}
