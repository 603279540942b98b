//! An owner that panics inside `get_or_init` abandons the job; a waiting
//! `get_or_init` caller retries, becomes the new owner, and everyone gets its value.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use inflight::OnceMap;
use loom::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn owner_panic_in_get_or_init_hands_the_job_to_a_waiter() {
    common::quiet_intended_panics();
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let good_runs = Arc::new(AtomicUsize::new(0));
        let panicker = common::spawn_on(&map, |map| {
            catch_unwind(AssertUnwindSafe(|| {
                map.get_or_init(&1, || panic!("intended: the owner panics"))
            }))
        });
        let good: Vec<_> = (0..2)
            .map(|_| {
                let good_runs = Arc::clone(&good_runs);
                common::spawn_on(&map, move |map| {
                    map.get_or_init(&1, || {
                        good_runs.fetch_add(1, Ordering::Relaxed);
                        2
                    })
                })
            })
            .collect();
        for thread in good {
            assert_eq!(thread.join().unwrap(), Ok(2));
        }
        match panicker.join().unwrap() {
            // It panicked as the owner, or arrived after the value was published.
            Err(_) | Ok(Ok(2)) => {}
            Ok(other) => panic!("unexpected {other:?}"),
        }
        assert_eq!(good_runs.load(Ordering::Relaxed), 1);
    });
}
