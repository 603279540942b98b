//! Keys whose `Hash` panics. The map runs `Hash` and `Eq` under its lock (unavoidable
//! for a hash map); the contract says a panic there must not leave the map locked or
//! inconsistent, and no waiter may hang because an owner went away.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use inflight::{Guard, OnceMap, WaitError};

use crate::support::{DEADLINE, await_waiters, expected_panic, vacant, within};

thread_local! {
    /// How many more `Hash` calls on this thread succeed before one panics
    /// (`None`: never panic).
    static HASHES_UNTIL_PANIC: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Makes the `n`th next `Hash` of a [`Touchy`] key on this thread panic (`n` from 1).
fn panic_on_hash(n: u32) {
    HASHES_UNTIL_PANIC.with(|cell| cell.set(Some(n - 1)));
}

fn never_panic_on_hash() {
    HASHES_UNTIL_PANIC.with(|cell| cell.set(None));
}

/// A key whose `Hash` panics on demand, on the thread that asked for it only.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let panic_now = HASHES_UNTIL_PANIC.with(|cell| match cell.get() {
            Some(0) => {
                cell.set(None);
                true
            }
            Some(n) => {
                cell.set(Some(n - 1));
                false
            }
            None => false,
        });
        if panic_now {
            expected_panic();
        }
        self.0.hash(state);
    }
}

#[test]
fn a_hash_panic_during_lookup_or_insertion_leaves_the_map_usable() {
    within(DEADLINE, "hash panic on lookup", || {
        let map: OnceMap<Touchy, u32> = OnceMap::new();
        // Not empty, so that a lookup hashes its key.
        assert_eq!(map.get_or_init(&Touchy(0), || 0), Ok(0));
        // 1: the lookup panics; 2: the lookup works and the insertion panics.
        for n in 1..=2 {
            panic_on_hash(n);
            let result =
                panic::catch_unwind(AssertUnwindSafe(|| map.get_or_init(&Touchy(1), || 1)));
            never_panic_on_hash();
            assert!(
                result.is_err(),
                "hash call {n} should have panicked: {result:?}"
            );
            // Not locked, and the key is still vacant.
            assert!(map.in_flight().is_empty());
            assert_eq!(map.get(&Touchy(1)), None);
        }
        assert_eq!(map.get_or_init(&Touchy(1), || 1), Ok(1));
        assert_eq!(map.wait(&Touchy(1)), Ok(1));
    });
}

/// Runs one owner that settles its job with `settle` while the key's `Hash` panics on
/// its next call, with one waiter blocked; checks that the owner sees a panic, that the
/// waiter is released with a result `accept` allows, and that the key works again.
fn settle_with_a_panicking_hash(
    what: &'static str,
    settle: fn(Guard<'_, Touchy, u32>),
    accept: fn(&Result<u32, WaitError>) -> bool,
) {
    within(DEADLINE, what, move || {
        let map: Arc<OnceMap<Touchy, u32>> = Arc::new(OnceMap::new());
        let guard = vacant(map.entry(&Touchy(1)));
        // Not scoped: if the waiter is stranded, report it instead of joining forever.
        let waiting = thread::spawn({
            let map = Arc::clone(&map);
            move || map.wait(&Touchy(1))
        });
        await_waiters(&map, &Touchy(1), 1);
        // Settling looks the key up again, and that `Hash` panics.
        panic_on_hash(1);
        let settled = panic::catch_unwind(AssertUnwindSafe(|| settle(guard)));
        never_panic_on_hash();
        assert!(settled.is_err(), "{what}: the panic reaches the owner");

        let deadline = Instant::now() + Duration::from_secs(5);
        while !waiting.is_finished() {
            assert!(
                Instant::now() < deadline,
                "{what}: the waiter is stranded: the guard is gone, yet in_flight() = {:?}",
                map.in_flight()
            );
            thread::sleep(Duration::from_millis(1));
        }
        let result = waiting.join().unwrap();
        assert!(accept(&result), "{what}: the waiter got {result:?}");
        assert!(map.in_flight().is_empty(), "{what}: the job is settled");
        // The key is usable again (published, or vacant for a new job).
        let again = map.get_or_init(&Touchy(1), || 2);
        assert!(matches!(again, Ok(1 | 2)), "{what}: {again:?}");
    });
}

#[test]
fn a_hash_panic_while_the_owner_completes_still_releases_its_waiters() {
    settle_with_a_panicking_hash(
        "complete",
        |guard| guard.complete(1),
        |result| matches!(result, Ok(1) | Err(WaitError::Abandoned)),
    );
}

#[test]
fn a_hash_panic_while_the_owner_fails_still_releases_its_waiters() {
    settle_with_a_panicking_hash(
        "fail",
        |guard| guard.fail("no"),
        |result| matches!(result, Err(WaitError::Failed(_) | WaitError::Abandoned)),
    );
}

#[test]
fn a_hash_panic_while_the_owner_drops_its_guard_still_releases_its_waiters() {
    settle_with_a_panicking_hash(
        "drop",
        |guard| drop(guard),
        |result| matches!(result, Err(WaitError::Abandoned)),
    );
}

#[test]
fn a_hash_panic_while_a_panicking_job_unwinds_releases_the_waiters_without_aborting() {
    settle_with_a_panicking_hash(
        "drop while unwinding",
        |guard| {
            let _owned = guard;
            // The guard is dropped during this panic's unwinding, and its key's
            // `Hash` panics then: a second panic, which must not abort the process.
            expected_panic()
        },
        |result| matches!(result, Err(WaitError::Abandoned)),
    );
}
