//! Three threads race `get_or_init` on one key: the job runs exactly once and all three
//! get its value.

mod common;

use std::sync::Arc;

use inflight::OnceMap;
use loom::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn get_or_init_runs_the_job_exactly_once() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, usize>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let racers: Vec<_> = (0..3)
            .map(|_| {
                let runs = Arc::clone(&runs);
                common::spawn_on(&map, move |map| {
                    map.get_or_init(&1, || runs.fetch_add(1, Ordering::Relaxed) + 10)
                })
            })
            .collect();
        for racer in racers {
            assert_eq!(racer.join().unwrap(), Ok(10));
        }
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}
