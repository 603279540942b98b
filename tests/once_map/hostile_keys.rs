//! Keys that misbehave: a `Hash` or `Eq` that panics, and a `Hash` that changes after
//! the key was inserted (a user bug). The map hashes a query once, before taking its
//! lock, and keeps each entry's hash, so settling a job runs no user code and a broken
//! key can only break its own entry: never another key, never `in_flight`, never a
//! waiter.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use inflight::{Guard, OnceMap, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, OneBucket, await_waiters, maybe_panic, vacant, waiters_of};

thread_local! {
    /// How many more `Hash` calls of a [`Touchy`] key on this thread succeed before one
    /// panics (`None`: never panic).
    static HASHES_UNTIL_PANIC: Cell<Option<u32>> = const { Cell::new(None) };
    /// The same for `Eq`.
    static EQS_UNTIL_PANIC: Cell<Option<u32>> = const { Cell::new(None) };
    /// `Hash` calls of `Touchy` keys on this thread.
    static HASHES: Cell<u32> = const { Cell::new(0) };
}

/// Arms `cell` so that the `n`th next call panics (`n` from 1).
fn arm(cell: &'static std::thread::LocalKey<Cell<Option<u32>>>, n: u32) {
    cell.with(|cell| cell.set(Some(n - 1)));
}

fn disarm() {
    HASHES_UNTIL_PANIC.with(|cell| cell.set(None));
    EQS_UNTIL_PANIC.with(|cell| cell.set(None));
}

fn hashes() -> u32 {
    HASHES.with(Cell::get)
}

/// A key whose `Hash` and `Eq` panic on demand, on the thread that asked for it only.
#[derive(Debug, Clone)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        HASHES.with(|count| count.set(count.get() + 1));
        maybe_panic(&HASHES_UNTIL_PANIC);
        self.0.hash(state);
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        maybe_panic(&EQS_UNTIL_PANIC);
        self.0 == other.0
    }
}

impl Eq for Touchy {}

/// Runs `call`, which must panic; re-raises anything that is not the expected panic.
fn assert_panics<T: std::fmt::Debug>(what: &str, call: impl FnOnce() -> T) {
    let result = panic::catch_unwind(AssertUnwindSafe(call));
    disarm();
    assert!(result.is_err(), "{what} should have panicked: {result:?}");
}

#[test]
fn a_hash_panic_in_any_lookup_leaves_the_map_usable_and_unchanged() {
    within(DEADLINE, "hash panic on lookup", || {
        let map: OnceMap<Touchy, u32> = OnceMap::new();
        assert_eq!(map.get_or_init(&Touchy(0), || 0), Ok(0));
        let key = Touchy(1);
        arm(&HASHES_UNTIL_PANIC, 1);
        assert_panics("get_or_init", || map.get_or_init(&key, || 1));
        arm(&HASHES_UNTIL_PANIC, 1);
        assert_panics("entry", || {
            matches!(map.entry(&key), inflight::Entry::Vacant(_))
        });
        arm(&HASHES_UNTIL_PANIC, 1);
        assert_panics("wait", || map.wait(&key));
        arm(&HASHES_UNTIL_PANIC, 1);
        assert_panics("get", || map.get(&Touchy(0)));
        arm(&HASHES_UNTIL_PANIC, 1);
        assert_panics("remove", || map.remove(&Touchy(0)));
        // Not locked, nothing started, nothing lost.
        assert!(map.in_flight().is_empty());
        assert_eq!(map.get(&key), None);
        assert_eq!(map.get(&Touchy(0)), Some(0));
        assert_eq!(map.get_or_init(&key, || 1), Ok(1));
    });
}

#[test]
fn an_eq_panic_in_a_lookup_leaves_the_map_usable_and_unchanged() {
    within(DEADLINE, "eq panic on lookup", || {
        let map: OnceMap<Touchy, u32> = OnceMap::new();
        assert_eq!(map.get_or_init(&Touchy(0), || 0), Ok(0));
        let guard = vacant(map.entry(&Touchy(1)));
        // `Eq` runs (under the lock) only against a stored key with the same hash.
        arm(&EQS_UNTIL_PANIC, 1);
        assert_panics("get of a published key", || map.get(&Touchy(0)));
        arm(&EQS_UNTIL_PANIC, 1);
        assert_panics("entry of a pending key", || {
            matches!(map.entry(&Touchy(1)), inflight::Entry::Pending(_))
        });
        assert_eq!(map.get(&Touchy(0)), Some(0));
        let jobs = map.in_flight();
        assert_eq!(jobs.len(), 1);
        assert_eq!(
            jobs[0].waiters, 0,
            "the panicking entry registered no waiter"
        );
        guard.complete(1);
        assert_eq!(map.get(&Touchy(1)), Some(1));
    });
}

#[test]
fn a_lookup_hashes_its_key_once() {
    let map: OnceMap<Touchy, u32> = OnceMap::new();
    let before = hashes();
    assert_eq!(map.get_or_init(&Touchy(1), || 1), Ok(1));
    assert_eq!(
        hashes() - before,
        1,
        "a miss that runs the job and publishes"
    );
    let before = hashes();
    assert_eq!(map.get(&Touchy(1)), Some(1));
    assert_eq!(hashes() - before, 1, "a hit");
}

/// Settles a job with `settle` while every `Hash` and `Eq` on the owner's thread
/// would panic, with one waiter blocked: settling runs neither, so nothing panics,
/// and the waiter gets a result `accept` allows.
fn settle_with_hostile_key(
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
        arm(&HASHES_UNTIL_PANIC, 1);
        arm(&EQS_UNTIL_PANIC, 1);
        let settled = panic::catch_unwind(AssertUnwindSafe(|| settle(guard)));
        let (hash_armed, eq_armed) = (
            HASHES_UNTIL_PANIC.with(Cell::get),
            EQS_UNTIL_PANIC.with(Cell::get),
        );
        disarm();
        assert_eq!(
            (hash_armed, eq_armed),
            (Some(0), Some(0)),
            "{what}: no Hash or Eq ran"
        );
        assert!(settled.is_ok(), "{what}: settling does not panic");

        let deadline = Instant::now() + Duration::from_secs(5);
        while !waiting.is_finished() {
            assert!(
                Instant::now() < deadline,
                "{what}: the waiter is stranded: in_flight() = {:?}",
                map.in_flight()
            );
            thread::sleep(Duration::from_millis(1));
        }
        let result = waiting.join().unwrap();
        assert!(accept(&result), "{what}: the waiter got {result:?}");
        assert!(map.in_flight().is_empty(), "{what}: the job is settled");
    });
}

#[test]
fn completing_runs_no_hash_or_eq_and_releases_the_waiters() {
    settle_with_hostile_key(
        "complete",
        |guard| guard.complete(1),
        |result| *result == Ok(1),
    );
}

#[test]
fn failing_runs_no_hash_or_eq_and_releases_the_waiters() {
    settle_with_hostile_key(
        "fail",
        |guard| guard.fail_with_message("no"),
        |result| matches!(result, Err(WaitError::Failed(_))),
    );
}

#[test]
fn abandoning_runs_no_hash_or_eq_and_releases_the_waiters() {
    settle_with_hostile_key(
        "drop",
        |guard| drop(guard),
        |result| *result == Err(WaitError::Abandoned),
    );
}

/// One way to settle a job of a map whose keys all share one hash.
type Settle = fn(Guard<'_, Touchy, u32, OneBucket>);

#[test]
fn settling_a_job_whose_key_panics_leaves_every_key_of_the_same_hash_as_it_was() {
    within(DEADLINE, "bystanders of a hostile settle", || {
        // One hash for every key: the settling job's slot sits among its bystanders'.
        let map: OnceMap<Touchy, u32, OneBucket> = OnceMap::with_hasher(OneBucket);
        assert_eq!(map.get_or_init(&Touchy(1), || 10), Ok(10));
        let pending_bystander = vacant(map.entry(&Touchy(2)));
        let settles: [(&str, Settle); 3] = [
            ("complete", |guard| guard.complete(30)),
            ("fail", |guard| guard.fail_with_message("no")),
            ("drop", |guard| drop(guard)),
        ];
        for (what, settle) in settles {
            map.remove(&Touchy(3));
            let guard = vacant(map.entry(&Touchy(3)));
            // Any `Hash` or `Eq` on this thread now panics: settling runs neither.
            arm(&HASHES_UNTIL_PANIC, 1);
            arm(&EQS_UNTIL_PANIC, 1);
            let settled = panic::catch_unwind(AssertUnwindSafe(|| settle(guard)));
            disarm();
            assert!(settled.is_ok(), "{what}: settling does not panic");
            let jobs: Vec<_> = map.in_flight().into_iter().map(|job| job.key.0).collect();
            assert_eq!(jobs, [2], "{what}: only the bystander is still in flight");
            assert_eq!(map.get(&Touchy(1)), Some(10), "{what}: the ready bystander");
            let expected = (what == "complete").then_some(30);
            assert_eq!(map.get(&Touchy(3)), expected, "{what}: its own key");
        }
        pending_bystander.complete(20);
        assert_eq!(map.get(&Touchy(2)), Some(20));
        assert!(map.in_flight().is_empty());
    });
}

/// A key whose hash includes a shared `salt`: changing the salt changes the hash of
/// every copy of the key, including the one the map stored (a user bug).
#[derive(Debug, Clone)]
struct Shifty {
    id: u32,
    salt: Arc<AtomicU64>,
}

impl Shifty {
    fn new(id: u32) -> Self {
        Shifty {
            id,
            salt: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Hash for Shifty {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.id, self.salt.load(Ordering::SeqCst)).hash(state);
    }
}

impl PartialEq for Shifty {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Shifty {}

#[test]
fn a_key_whose_hash_changes_while_its_job_runs_breaks_only_its_own_entry() {
    within(DEADLINE, "shifting hash", || {
        let map: OnceMap<Shifty, u32> = OnceMap::new();
        let broken = Shifty::new(1);
        let (ready, pending) = (Shifty::new(2), Shifty::new(3));
        assert_eq!(map.get_or_init(&ready, || 20), Ok(20));
        // Enough keys that the table has many buckets: a changed hash then really
        // looks elsewhere (in a tiny table every probe sees every entry).
        for id in 100..164 {
            assert_eq!(map.get_or_init(&Shifty::new(id), || id), Ok(id));
        }
        let pending_guard = vacant(map.entry(&pending));
        let (owning, owns) = mpsc::channel();
        let (finish, finished) = mpsc::channel::<()>();
        let start = Barrier::new(3);
        thread::scope(|s| {
            let (map, broken_key) = (&map, &broken);
            let owner = s.spawn(move || {
                let guard = vacant(map.entry(broken_key));
                owning.send(()).unwrap();
                finished.recv().unwrap();
                guard.complete(10);
            });
            owns.recv().unwrap();
            let broken_waiter = s.spawn(|| {
                start.wait();
                map.get_or_init(broken_key, || unreachable!("the owner runs the job"))
            });
            let pending_waiter = s.spawn(|| {
                start.wait();
                map.wait(&pending)
            });
            start.wait();
            await_waiters(map, &broken, 1);
            await_waiters(map, &pending, 1);

            // The bug: the key's hash changes under the map.
            broken.salt.store(0xdead_beef, Ordering::SeqCst);

            // The map's diagnostics and every other key are unaffected.
            let mut jobs = map.in_flight();
            jobs.sort_by_key(|job| job.key.id);
            let keys: Vec<_> = jobs.iter().map(|job| (job.key.id, job.waiters)).collect();
            assert_eq!(keys, [(1, 1), (3, 1)]);
            assert_eq!(map.get(&ready), Some(20));
            assert_eq!(map.get_or_init(&Shifty::new(4), || 40), Ok(40));
            // Only its own lookups miss now.
            assert_eq!(map.get(&broken), None);

            // Its owner and waiter still meet: they go by the flight, not the key.
            finish.send(()).unwrap();
            owner.join().unwrap();
            assert_eq!(broken_waiter.join().unwrap(), Ok(10));
            pending_guard.complete(30);
            assert_eq!(pending_waiter.join().unwrap(), Ok(30));
        });
        assert!(map.in_flight().is_empty());
        assert_eq!(waiters_of(&map, &broken), None);
        // With the changed hash the key is a new key: its job runs again.
        assert_eq!(map.get_or_init(&broken, || 11), Ok(11));
        // With the old hash back, the old value is found again.
        broken.salt.store(0, Ordering::SeqCst);
        assert_eq!(map.get(&broken), Some(10));
        assert_eq!(map.get(&ready), Some(20));
        assert_eq!(map.get(&pending), Some(30));
    });
}
