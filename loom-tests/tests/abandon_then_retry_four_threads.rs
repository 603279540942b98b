//! Four threads race one key; the first owner panics. Every survivor gets the value of
//! exactly one successful run, whichever of them takes the job over. Preemption bound
//! 3 (the suite's default): 1.9 s here; bound 4 takes 21 s, unbounded far longer.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use inflight::OnceMap;
use loom::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn four_racers_survive_an_owner_panic_with_one_successful_run() {
    common::quiet_intended_panics();
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let good_runs = Arc::new(AtomicUsize::new(0));
        let panicker = common::spawn_on(&map, |map| {
            catch_unwind(AssertUnwindSafe(|| {
                map.get_or_init(&1, || panic!("intended: the owner panics"))
            }))
            .is_err()
        });
        let survivors: Vec<_> = (0..3)
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
        for survivor in survivors {
            assert_eq!(survivor.join().unwrap(), Ok(2));
        }
        let _panicked = panicker.join().unwrap();
        assert_eq!(good_runs.load(Ordering::Relaxed), 1);
        assert_eq!(map.get(&1), Some(2));
    });
}
