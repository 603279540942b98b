//! A seeded stress run: many threads, thousands of overlapping keys, jobs that succeed,
//! fail and panic, waits of every kind, and deliberate two-key wait cycles mixed in.
//!
//! Each key has an atomic record of its jobs, checked from inside the jobs themselves:
//! no two jobs of one key ever run at once, no job runs after the key's value was
//! published, at most one job per key succeeds, and every value any caller receives is
//! that one published value. The whole run has a deadline, so a lost wakeup or an
//! undetected cycle fails the test instead of hanging it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use inflight::{Entry, JobError, OnceMap, TryInitError, WaitError};

use crate::common::within;
use crate::support::{ExpectedPanic, XorShift, expected_panic};

/// Workers; they pair up (0 with 1, 2 with 3, ...) for the wait cycles, so even.
const THREADS: usize = 8;
/// Operations per worker.
const OPS: u64 = 60_000;
/// Workers line up on a barrier every `EPOCH` operations, and in each epoch all of them
/// pick keys among the same `KEYS_PER_EPOCH`: they collide on the same keys at the same
/// time instead of drifting apart.
const EPOCH: u64 = 256;
const KEYS_PER_EPOCH: u64 = 128;
/// Keys with tracked jobs.
const KEYS: u64 = OPS.div_ceil(EPOCH) * KEYS_PER_EPOCH;
/// Every `CYCLE_EVERY` operations, each pair of workers runs one two-key wait cycle.
const CYCLE_EVERY: u64 = 200;
const ROUNDS: u64 = OPS / CYCLE_EVERY;
/// Cycle keys live above the tracked keys.
const CYCLE_BASE: u64 = 1 << 40;
const SEED: u64 = 0x0005_eed0_f00d;

/// The error of the jobs that fail on purpose.
#[derive(Debug, Clone, thiserror::Error)]
#[error("job of key {key} failed")]
struct JobFailed {
    key: u64,
}

/// How a job ends.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Succeed,
    Fail,
    Panic,
    /// Only through `entry`: the caller drops its guard.
    Abandon,
}

/// What the jobs of one key did.
#[derive(Debug, Default)]
struct KeyRecord {
    /// A job of this key is running now.
    running: AtomicBool,
    /// The one value a job of this key published (0: none yet).
    published: AtomicU64,
}

/// What one participant of a wait cycle saw.
#[derive(Debug)]
struct CycleSide {
    pair: usize,
    round: u64,
    role: u64,
    inner: Result<u64, WaitError>,
    outer: Result<u64, WaitError>,
}

#[derive(Debug, Default)]
struct Stats {
    successes: AtomicUsize,
    failures: AtomicUsize,
    panics: AtomicUsize,
    /// A caller received a value it did not produce.
    shared_values: AtomicUsize,
    /// A caller received another caller's failure or abandonment while waiting.
    shared_errors: AtomicUsize,
    pending_entries: AtomicUsize,
    timeouts: AtomicUsize,
}

struct Run {
    map: OnceMap<u64, u64>,
    keys: Vec<KeyRecord>,
    runs: AtomicU64,
    epoch_barrier: Barrier,
    pair_barriers: Vec<Barrier>,
    cycles: Mutex<Vec<CycleSide>>,
    violations: Mutex<Vec<String>>,
    stats: Stats,
}

impl Run {
    fn new() -> Self {
        Run {
            map: OnceMap::new(),
            keys: (0..KEYS).map(|_| KeyRecord::default()).collect(),
            runs: AtomicU64::new(0),
            epoch_barrier: Barrier::new(THREADS),
            pair_barriers: (0..THREADS / 2).map(|_| Barrier::new(2)).collect(),
            cycles: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            stats: Stats::default(),
        }
    }

    /// Records a broken guarantee. Workers never panic on one (a panicking worker would
    /// leave its cycle partner at the barrier); the test asserts at the end.
    fn violation(&self, message: String) {
        self.violations.lock().unwrap().push(message);
    }

    /// The body of every job of a tracked key.
    fn job(&self, key: u64, kind: Kind) -> Result<u64, JobFailed> {
        let record = &self.keys[key as usize];
        if record.running.swap(true, SeqCst) {
            self.violation(format!("key {key}: two jobs ran at once"));
        }
        let published = record.published.load(SeqCst);
        if published != 0 {
            self.violation(format!(
                "key {key}: a job ran after {published:#x} was published"
            ));
        }
        let run = self.runs.fetch_add(1, SeqCst) + 1;
        // Stay in flight a while, so that others pile up on the key: mostly a
        // yield, now and then a sleep long enough for waiters to park and time out.
        // (Yields are cheap on an idle machine but cost a time slice on a loaded one,
        // hence not on every run.)
        if run.is_multiple_of(64) {
            thread::sleep(Duration::from_micros(100));
        } else if run.is_multiple_of(4) {
            thread::yield_now();
        }
        match kind {
            Kind::Succeed => {
                let value = (key << 32) | run;
                if let Err(earlier) = record.published.compare_exchange(0, value, SeqCst, SeqCst) {
                    self.violation(format!(
                        "key {key}: a second job succeeded after {earlier:#x}"
                    ));
                }
                self.stats.successes.fetch_add(1, SeqCst);
                record.running.store(false, SeqCst);
                Ok(value)
            }
            Kind::Fail | Kind::Abandon => {
                self.stats.failures.fetch_add(1, SeqCst);
                record.running.store(false, SeqCst);
                Err(JobFailed { key })
            }
            Kind::Panic => {
                self.stats.panics.fetch_add(1, SeqCst);
                record.running.store(false, SeqCst);
                expected_panic()
            }
        }
    }

    /// A value a caller received must be the key's one published value.
    fn check_value(&self, key: u64, value: u64, ran_own_job: bool) {
        let published = self.keys[key as usize].published.load(SeqCst);
        if value != published || value >> 32 != key {
            self.violation(format!(
                "key {key}: received {value:#x}, but {published:#x} was published"
            ));
        }
        if !ran_own_job {
            self.stats.shared_values.fetch_add(1, SeqCst);
        }
    }

    /// A job error a caller received must be an error of a job of this key.
    fn check_error(&self, key: u64, error: &JobError, what: &str) {
        match error.downcast_ref::<JobFailed>() {
            Some(failed) if failed.key == key => {
                self.stats.shared_errors.fetch_add(1, SeqCst);
            }
            _ => self.violation(format!(
                "key {key}: {what} received a foreign error {error:?}"
            )),
        }
    }

    fn unexpected(&self, key: u64, what: &str, result: &dyn std::fmt::Debug) {
        self.violation(format!("key {key}: {what} returned {result:?}"));
    }

    fn worker(&self, thread: usize) {
        let mut rng = XorShift::new(SEED ^ thread as u64);
        for i in 0..OPS {
            if i % EPOCH == 0 {
                self.epoch_barrier.wait();
            }
            if i % CYCLE_EVERY == CYCLE_EVERY / 2 {
                self.cycle(thread / 2, i / CYCLE_EVERY, (thread % 2) as u64);
                continue;
            }
            let key = i / EPOCH * KEYS_PER_EPOCH + rng.below(KEYS_PER_EPOCH);
            let map = &self.map;
            let mut ran = false;
            match rng.below(100) {
                0..50 => match map.get_or_init(&key, || {
                    ran = true;
                    self.job(key, Kind::Succeed).unwrap_or_default()
                }) {
                    Ok(value) => self.check_value(key, value, ran),
                    Err(WaitError::Failed(error)) => self.check_error(key, &error, "get_or_init"),
                    other => self.unexpected(key, "get_or_init", &other),
                },
                50..75 => {
                    let kind = if rng.below(3) == 0 {
                        Kind::Succeed
                    } else {
                        Kind::Fail
                    };
                    match map.get_or_try_init(&key, || {
                        ran = true;
                        self.job(key, kind)
                    }) {
                        Ok(value) => self.check_value(key, value, ran),
                        Err(TryInitError::Failed(error)) if error.key == key => {
                            if !ran {
                                self.stats.shared_errors.fetch_add(1, SeqCst);
                            }
                        }
                        other => self.unexpected(key, "get_or_try_init", &other),
                    }
                }
                75..85 => {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| {
                        map.get_or_init(&key, || {
                            ran = true;
                            self.job(key, Kind::Panic).unwrap_or_default()
                        })
                    }));
                    match result {
                        Ok(Ok(value)) => self.check_value(key, value, ran),
                        Ok(Err(WaitError::Failed(error))) => {
                            self.check_error(key, &error, "get_or_init (panicking job)")
                        }
                        Ok(other) => self.unexpected(key, "get_or_init (panicking job)", &other),
                        Err(payload) if payload.is::<ExpectedPanic>() && ran => {}
                        Err(_) => self.violation(format!("key {key}: an unexpected panic")),
                    }
                }
                85..92 => match map.wait(&key) {
                    Ok(value) => self.check_value(key, value, false),
                    Err(WaitError::Unregistered) => {}
                    Err(WaitError::Abandoned) => {
                        self.stats.shared_errors.fetch_add(1, SeqCst);
                    }
                    Err(WaitError::Failed(error)) => self.check_error(key, &error, "wait"),
                    other => self.unexpected(key, "wait", &other),
                },
                _ => self.through_entry(key, &mut rng),
            }
        }
    }

    /// The low-level protocol: settle a guard by hand, or wait with a timeout.
    fn through_entry(&self, key: u64, rng: &mut XorShift) {
        match self.map.entry(&key) {
            Entry::Ready(value) => self.check_value(key, value, false),
            Entry::Pending(waiter) => {
                self.stats.pending_entries.fetch_add(1, SeqCst);
                match waiter.wait_timeout(Duration::from_micros(rng.below(300))) {
                    Ok(value) => self.check_value(key, value, false),
                    Err(WaitError::TimedOut) => {
                        self.stats.timeouts.fetch_add(1, SeqCst);
                    }
                    Err(WaitError::Abandoned) => {
                        self.stats.shared_errors.fetch_add(1, SeqCst);
                    }
                    Err(WaitError::Failed(error)) => self.check_error(key, &error, "Waiter"),
                    other => self.unexpected(key, "Waiter::wait_timeout", &other),
                }
            }
            Entry::Vacant(guard) => {
                let kind = [Kind::Succeed, Kind::Fail, Kind::Abandon][rng.below(3) as usize];
                match (kind, self.job(key, kind)) {
                    (Kind::Succeed, Ok(value)) => guard.complete(value),
                    (Kind::Fail, Err(error)) => guard.fail(error),
                    _ => drop(guard),
                }
            }
            Entry::Closed => self.violation(format!("key {key}: closed, but nobody closed")),
        }
    }

    /// One side of a two-key wait cycle: own one key, line up with the partner, then
    /// wait on the partner's key from inside the job.
    fn cycle(&self, pair: usize, round: u64, role: u64) {
        let base = CYCLE_BASE + (pair as u64 * ROUNDS + round) * 2;
        let (own, other) = (base + role, base + 1 - role);
        let mut inner = None;
        let outer = self.map.get_or_init(&own, || {
            self.pair_barriers[pair].wait();
            inner = Some(self.map.get_or_init(&other, || {
                self.violation(format!("cycle key {other}: a waiter ran the owner's job"));
                0
            }));
            own + 1
        });
        let Some(inner) = inner else {
            self.violation(format!("cycle key {own}: its owner's job did not run"));
            return;
        };
        self.cycles.lock().unwrap().push(CycleSide {
            pair,
            round,
            role,
            inner,
            outer,
        });
    }

    fn assert_cycles(&self) {
        let mut sides = std::mem::take(&mut *self.cycles.lock().unwrap());
        assert_eq!(
            sides.len(),
            THREADS * ROUNDS as usize,
            "every cycle side ran"
        );
        sides.sort_by_key(|side| (side.pair, side.round, side.role));
        for both in sides.chunks(2) {
            let [first, second] = both else {
                unreachable!("an even number of sides")
            };
            assert_eq!((first.pair, first.round), (second.pair, second.round));
            let victims = both
                .iter()
                .filter(|side| side.inner == Err(WaitError::WouldDeadlock))
                .count();
            assert_eq!(victims, 1, "exactly one side reports the cycle: {both:?}");
            let base = CYCLE_BASE + (first.pair as u64 * ROUNDS + first.round) * 2;
            for side in both {
                let (own, other) = (base + side.role, base + 1 - side.role);
                assert_eq!(side.outer, Ok(own + 1), "{both:?}");
                if side.inner.is_ok() {
                    assert_eq!(side.inner, Ok(other + 1), "{both:?}");
                }
            }
        }
    }
}

#[test]
fn stress_mixed_jobs_and_wait_cycles_keep_every_guarantee() {
    const _: () = assert!(THREADS.is_multiple_of(2), "workers pair up for the cycles");
    let stats = within(Duration::from_secs(120), "stress", || {
        let run = Run::new();
        let start = Barrier::new(THREADS);
        let began = Instant::now();
        thread::scope(|s| {
            for thread in 0..THREADS {
                let (run, start) = (&run, &start);
                s.spawn(move || {
                    start.wait();
                    run.worker(thread);
                });
            }
        });
        let elapsed = began.elapsed();

        let violations = run.violations.lock().unwrap();
        assert!(
            violations.is_empty(),
            "{} violations (seed {SEED:#x}), first ones: {:#?}",
            violations.len(),
            &violations[..violations.len().min(20)]
        );
        drop(violations);
        run.assert_cycles();
        assert!(run.map.in_flight().is_empty(), "every job settled");

        // Finally every key gets its value, published exactly once.
        for key in 0..KEYS {
            let value = run
                .map
                .get_or_init(&key, || run.job(key, Kind::Succeed).unwrap_or_default());
            let published = run.keys[key as usize].published.load(SeqCst);
            assert_eq!(value, Ok(published), "key {key}");
            assert_eq!(run.map.get(&key), Some(published), "key {key}");
        }
        assert!(run.violations.lock().unwrap().is_empty());
        (elapsed, run.stats)
    });
    let (elapsed, stats) = stats;
    eprintln!("stress: {elapsed:?}, {stats:?}");
    // The run must actually have exercised sharing, failures, panics and waiting.
    for (what, count) in [
        ("successes", &stats.successes),
        ("failures", &stats.failures),
        ("panics", &stats.panics),
        ("shared values", &stats.shared_values),
        ("shared errors", &stats.shared_errors),
        ("pending entries", &stats.pending_entries),
    ] {
        assert!(
            count.load(SeqCst) > 0,
            "the stress run saw no {what}: {stats:?}"
        );
    }
}
