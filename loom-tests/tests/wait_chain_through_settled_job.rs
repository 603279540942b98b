//! No false `WouldDeadlock`: T2 waits on B (owned by T1); T1 completes B and then
//! waits on A (owned by T2). Until T2 wakes, the map still records it as waiting on B,
//! whose owner is T1, which looks like a cycle; the settled job must end the chain, so
//! both threads get their values.

mod common;

use std::sync::Arc;

use inflight::{Entry, Guard, OnceMap};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Takes `key` and waits until both threads own their key.
fn own<'a>(
    map: &'a OnceMap<&'static str, u32>,
    key: &'static str,
    owning: &AtomicUsize,
) -> Guard<'a, &'static str, u32> {
    let Entry::Vacant(guard) = map.entry(&key) else {
        panic!("each thread is the only one to take its own key")
    };
    owning.fetch_add(1, Ordering::SeqCst);
    while owning.load(Ordering::SeqCst) < 2 {
        thread::yield_now();
    }
    guard
}

#[test]
fn a_wait_chain_through_a_settled_job_is_not_a_cycle() {
    common::check(|| {
        let map = Arc::new(OnceMap::<&'static str, u32>::new());
        let owning = Arc::new(AtomicUsize::new(0));
        let t1 = {
            let owning = Arc::clone(&owning);
            common::spawn_on(&map, move |map| {
                own(map, "B", &owning).complete(2);
                map.wait(&"A")
            })
        };
        let t2 = {
            let owning = Arc::clone(&owning);
            common::spawn_on(&map, move |map| {
                let guard = own(map, "A", &owning);
                let b = map.wait(&"B");
                guard.complete(1);
                b
            })
        };
        assert_eq!(t1.join().unwrap(), Ok(1));
        assert_eq!(t2.join().unwrap(), Ok(2));
    });
}
