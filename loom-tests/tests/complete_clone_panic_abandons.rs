//! The one `V::clone` that runs under the map's lock while the map changes: the copy
//! `Guard::complete` makes for the job's waiters. If it panics, the job is abandoned
//! (a notify path of its own): a `Waiter` gets `Abandoned`, a waiting `get_or_init`
//! caller takes the job over, nobody is stranded, and the map stays consistent.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use inflight::{Entry, OnceMap, WaitError};

/// A value whose next clone panics once `ARMED` is set (one shot). A std atomic: it
/// carries no synchronisation the model needs to explore, only "this clone panics".
#[derive(Debug)]
struct Fragile(u32, Arc<AtomicBool>);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        if self.1.swap(false, Ordering::SeqCst) {
            panic!("intended: V::clone panics");
        }
        Fragile(self.0, Arc::clone(&self.1))
    }
}

/// Executions that took each branch, across the whole model: both must be reached.
static COMPLETED: AtomicUsize = AtomicUsize::new(0);
static ABANDONED: AtomicUsize = AtomicUsize::new(0);

#[test]
fn a_panicking_copy_for_the_waiters_abandons_the_job_and_frees_them() {
    common::quiet_intended_panics();
    common::check(|| {
        let armed = Arc::new(AtomicBool::new(false));
        let map = Arc::new(OnceMap::<u32, Fragile>::new());
        let Entry::Vacant(guard) = map.entry(&1) else {
            panic!("a new map has no value")
        };
        let waiter = common::spawn_on(&map, |map| map.wait(&1).map(|value| value.0));
        let taker = {
            let armed = Arc::clone(&armed);
            common::spawn_on(&map, move |map| {
                map.get_or_init(&1, || Fragile(2, armed))
                    .map(|value| value.0)
            })
        };
        armed.store(true, Ordering::SeqCst);
        let completed = catch_unwind(AssertUnwindSafe(|| {
            guard.complete(Fragile(1, Arc::clone(&armed)))
        }))
        .is_ok();
        // Nobody waited (no copy, no panic): disarm, so no later clone panics.
        armed.store(false, Ordering::SeqCst);

        let waited = waiter.join().unwrap();
        let taken = taker.join().unwrap();
        let branch = if completed { &COMPLETED } else { &ABANDONED };
        branch.fetch_add(1, Ordering::Relaxed);
        if completed {
            assert_eq!(waited, Ok(1));
            assert_eq!(taken, Ok(1));
        } else {
            // The waiters' copy panicked. The waiter was told if it was registered;
            // if it came later it found the key vacant or the new owner's value.
            assert!(
                matches!(
                    waited,
                    Err(WaitError::Abandoned | WaitError::Unregistered) | Ok(2)
                ),
                "{waited:?}"
            );
            assert_eq!(taken, Ok(2), "the get_or_init caller took the job over");
        }
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&1).map(|value| value.0), taken.ok());
    });
    let (completed, abandoned) = (
        COMPLETED.load(Ordering::Relaxed),
        ABANDONED.load(Ordering::Relaxed),
    );
    assert!(
        completed > 0 && abandoned > 0,
        "completed {completed}, abandoned {abandoned}"
    );
}
