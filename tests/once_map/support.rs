//! Helpers of the OnceMap tests: the deadline, waiting for waiters, quiet expected
//! panics, and a seeded random number generator. `within` (run under a deadline) is
//! shared by every test binary: `tests/common/mod.rs`.

use std::cell::Cell;
use std::hash::{BuildHasher, Hash};
use std::panic;
use std::sync::Once;
use std::thread::{self, LocalKey};
use std::time::{Duration, Instant};

use inflight::{Entry, Guard, OnceMap, Waiter};

/// How long a functional scenario may take before it counts as hung. Generous: the
/// machine has two cores and the test harness runs tests in parallel.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `map.in_flight()` until the job for `key` has exactly `n` registered waiters.
/// Panics after a deadline instead of spinning forever.
pub(crate) fn await_waiters<K, V, S>(map: &OnceMap<K, V, S>, key: &K, n: usize)
where
    K: Eq + Hash + Clone + std::fmt::Debug,
    V: Clone,
    S: BuildHasher,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiters = waiters_of(map, key);
        if waiters == Some(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "key {key:?}: expected {n} waiters, in_flight reports {waiters:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// The number of registered waiters of the job in flight for `key`, or `None` if no job
/// for `key` is in flight.
pub(crate) fn waiters_of<K, V, S>(map: &OnceMap<K, V, S>, key: &K) -> Option<usize>
where
    K: Eq + Hash + Clone,
    V: Clone,
    S: BuildHasher,
{
    map.in_flight()
        .into_iter()
        .find(|job| &job.key == key)
        .map(|job| job.waiters)
}

/// Hashes every key to the same value: every lookup compares keys.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OneBucket;

impl std::hash::BuildHasher for OneBucket {
    type Hasher = OneBucketHasher;
    fn build_hasher(&self) -> OneBucketHasher {
        OneBucketHasher
    }
}

#[derive(Debug)]
pub(crate) struct OneBucketHasher;

impl std::hash::Hasher for OneBucketHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, _bytes: &[u8]) {}
}

/// Counts down `cell`, a thread's budget of calls before a planted panic; panics with
/// [`expected_panic`] when it reaches zero (and disarms it). `None` never panics.
pub(crate) fn maybe_panic(cell: &'static LocalKey<Cell<Option<u32>>>) {
    let panic_now = cell.with(|cell| match cell.get() {
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
}

/// The payload of the panics tests raise on purpose (with `std::panic::panic_any`).
#[derive(Debug)]
pub(crate) struct ExpectedPanic;

/// Panics with [`ExpectedPanic`], after making sure such panics are not printed (the
/// stress test raises thousands). Other panics are reported as usual.
pub(crate) fn expected_panic() -> ! {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<ExpectedPanic>() {
                previous(info);
            }
        }));
    });
    panic::panic_any(ExpectedPanic)
}

/// xorshift64*: a tiny seeded generator, so a failing stress run can be replayed.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        // The state must never be zero.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The waiter of an entry that must be pending. (`Entry` is `Debug` only when its key
/// and value are; naming the variant by hand keeps these helpers open to any of them.)
pub(crate) fn pending<'a, K, V, S>(entry: Entry<'a, K, V, S>) -> Waiter<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    match entry {
        Entry::Pending(waiter) => waiter,
        other => panic!("expected Entry::Pending, got Entry::{}", variant(&other)),
    }
}

/// The guard of an entry that must be vacant.
pub(crate) fn vacant<'a, K, V, S>(entry: Entry<'a, K, V, S>) -> Guard<'a, K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    match entry {
        Entry::Vacant(guard) => guard,
        other => panic!("expected Entry::Vacant, got Entry::{}", variant(&other)),
    }
}

fn variant<K, V, S>(entry: &Entry<'_, K, V, S>) -> &'static str
where
    K: Eq + Hash,
    S: BuildHasher,
{
    match entry {
        Entry::Ready(_) => "Ready",
        Entry::Pending(_) => "Pending",
        Entry::Vacant(_) => "Vacant",
        Entry::Closed => "Closed",
    }
}
