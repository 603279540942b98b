//! Two threads close a two-key wait cycle: T1 owns A and waits on B, T2 owns B and
//! waits on A. Whichever closes the cycle last (loom tries both orders) gets
//! `WouldDeadlock` at once; the other gets the value it waited for once the first
//! completes its own key.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

#[test]
fn exactly_one_thread_of_a_two_key_cycle_gets_would_deadlock() {
    common::check(|| {
        let map = Arc::new(OnceMap::<&'static str, u32>::new());
        let owning = Arc::new(AtomicUsize::new(0));
        let side = |mine: &'static str, theirs: &'static str, value: u32| {
            let owning = Arc::clone(&owning);
            common::spawn_on(&map, move |map| {
                let Entry::Vacant(guard) = map.entry(&mine) else {
                    panic!("each side is the only one to take its own key")
                };
                // Both own their key before either waits.
                owning.fetch_add(1, Ordering::SeqCst);
                while owning.load(Ordering::SeqCst) < 2 {
                    thread::yield_now();
                }
                let result = map.wait(&theirs);
                guard.complete(value);
                result
            })
        };
        let t1 = side("A", "B", 1);
        let t2 = side("B", "A", 2);
        let (r1, r2) = (t1.join().unwrap(), t2.join().unwrap());
        match (r1, r2) {
            (Err(WaitError::WouldDeadlock), Ok(1)) | (Ok(2), Err(WaitError::WouldDeadlock)) => {}
            other => panic!("expected exactly one WouldDeadlock, got {other:?}"),
        }
    });
}
