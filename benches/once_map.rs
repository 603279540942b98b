//! OnceMap against baselines written here and measured in the same run.
//!
//! ```text
//! cargo bench --bench once_map
//! ```
//!
//! 1. `hit`: `get` of a published key vs a plain `parking_lot::Mutex<FxHashMap>`
//!    lookup + clone (target: within 1.5x), and vs the same map keeping `Arc<V>` and
//!    cloning `V` after unlocking, which is what OnceMap does so that no user `Clone`
//!    runs under its lock.
//! 2. `stampede/T`: T threads start on one key behind a barrier, the job sleeps 1 ms;
//!    the time reported is from the job's end to the last thread holding the value
//!    (target: under 0.5 ms), and every iteration asserts the job ran once.
//! 3. `many_keys`: T threads x disjoint or overlapping key sets, `get_or_init`
//!    throughput vs `Mutex<FxHashMap<K, Arc<OnceLock<V>>>>`.
//! 4. `wake_latency`: from `complete` to the blocked waiter returning; median and p99
//!    are printed after the criterion line.
//! 5. `failure_chain/k`: the job fails k times before it succeeds, vs the same retry
//!    loop on a plain mutex map.
//!
//! Nothing here writes files.

// criterion 0.7's `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use inflight::{Entry, OnceMap, TryInitError};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

type Value = Arc<str>;

fn hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("hit");
    let keys: Vec<String> = (0..1024)
        .map(|i| format!("package-{i}-1.0-py3-none-any"))
        .collect();
    let value: Value = Arc::from("site-packages/package");

    let map: OnceMap<String, Value> = OnceMap::new();
    let plain: Mutex<FxHashMap<String, Value>> = Mutex::new(FxHashMap::default());
    for key in &keys {
        map.get_or_init(key.as_str(), || value.clone()).unwrap();
        plain.lock().insert(key.clone(), value.clone());
    }

    let mut i = 0;
    group.bench_function("once_map_get", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(map.get(keys[i].as_str()))
        })
    });
    let mut i = 0;
    group.bench_function("mutex_map_get_clone", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(plain.lock().get(keys[i].as_str()).cloned())
        })
    });
    // The same discipline as OnceMap (no user `Clone` under the lock): values kept in an
    // `Arc`, the `Arc` cloned under the lock and `V` cloned after unlocking.
    let shared: Mutex<FxHashMap<String, Arc<Value>>> = Mutex::new(FxHashMap::default());
    for key in &keys {
        shared.lock().insert(key.clone(), Arc::new(value.clone()));
    }
    let mut i = 0;
    group.bench_function("mutex_map_clone_outside_lock", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            let found = shared.lock().get(keys[i].as_str()).cloned();
            black_box(found.map(|v| Value::clone(&v)))
        })
    });
    group.finish();
}

fn stampede(c: &mut Criterion) {
    let mut group = c.benchmark_group("stampede");
    group.sample_size(20);
    for threads in [2usize, 4, 8] {
        group.bench_with_input(
            BenchmarkId::from_parameter(threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += stampede_once(threads);
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

/// One stampede; returns the time from the job's end to the last thread's return.
fn stampede_once(threads: usize) -> Duration {
    let map: OnceMap<u32, u64> = OnceMap::new();
    let runs = AtomicUsize::new(0);
    let job_end = OnceLock::new();
    let barrier = Barrier::new(threads);
    let last = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let value = map.get_or_init(&1, || {
                        runs.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(1));
                        let _ = job_end.set(Instant::now());
                        42
                    });
                    assert_eq!(value, Ok(42));
                    Instant::now()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("stampede threads do not panic"))
            .max()
            .expect("at least one thread")
    });
    assert_eq!(runs.load(Ordering::Relaxed), 1, "the job ran exactly once");
    last.saturating_duration_since(*job_end.get().expect("the job ran"))
}

fn many_keys(c: &mut Criterion) {
    let mut group = c.benchmark_group("many_keys");
    group.sample_size(20);
    const THREADS: usize = 4;
    const KEYS: u64 = 2000;
    for (shape, overlap) in [("disjoint", false), ("overlapping", true)] {
        // Overlapping: every thread asks for all keys, each from its own start.
        // Disjoint: each thread asks for its own quarter.
        let keys_of = move |t: usize| -> Vec<u64> {
            if overlap {
                (0..KEYS)
                    .map(|k| (k + t as u64 * KEYS / 4) % KEYS)
                    .collect()
            } else {
                (0..KEYS / THREADS as u64)
                    .map(|k| k + t as u64 * KEYS)
                    .collect()
            }
        };
        let keys: Vec<Vec<u64>> = (0..THREADS).map(keys_of).collect();
        group.bench_function(BenchmarkId::new("once_map", shape), |b| {
            b.iter(|| {
                let map: OnceMap<u64, u64> = OnceMap::new();
                run_threads(&keys, |k| map.get_or_init(&k, || black_box(k * 2)).unwrap());
            })
        });
        group.bench_function(BenchmarkId::new("mutex_map_of_once_locks", shape), |b| {
            b.iter(|| {
                let map: Mutex<FxHashMap<u64, Arc<OnceLock<u64>>>> =
                    Mutex::new(FxHashMap::default());
                run_threads(&keys, |k| {
                    let cell = Arc::clone(map.lock().entry(k).or_default());
                    *cell.get_or_init(|| black_box(k * 2))
                });
            })
        });
    }
    group.finish();
}

fn run_threads(keys: &[Vec<u64>], op: impl Fn(u64) -> u64 + Sync) {
    let barrier = Barrier::new(keys.len());
    std::thread::scope(|s| {
        for mine in keys {
            let (barrier, op) = (&barrier, &op);
            s.spawn(move || {
                barrier.wait();
                for &k in mine {
                    black_box(op(k));
                }
            });
        }
    });
}

fn wake_latency(c: &mut Criterion) {
    let map: Arc<OnceMap<u64, u64>> = Arc::new(OnceMap::new());
    let (ask, asked) = mpsc::channel::<u64>();
    let (answer, answered) = mpsc::channel::<Instant>();
    // One long-lived waiter thread: it blocks on the key it is told, and reports when
    // it returned.
    let waiter = {
        let map = Arc::clone(&map);
        std::thread::spawn(move || {
            for key in asked {
                let value = map.wait(&key);
                assert_eq!(value, Ok(key));
                let _ = answer.send(Instant::now());
            }
        })
    };
    let mut samples = Vec::new();
    let mut key = 0;
    c.bench_function("wake_latency", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                key += 1;
                let Entry::Vacant(guard) = map.entry(&key) else {
                    unreachable!("fresh key")
                };
                ask.send(key).expect("the waiter thread runs");
                // Wait until the waiter is registered and (almost surely) parked.
                while map.in_flight().first().map_or(0, |job| job.waiters) == 0 {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_micros(50));
                let start = Instant::now();
                guard.complete(key);
                let woke = answered.recv().expect("the waiter answers");
                let latency = woke.saturating_duration_since(start);
                samples.push(latency);
                total += latency;
                map.remove(&key);
            }
            total
        })
    });
    drop(ask);
    waiter.join().expect("the waiter thread does not panic");
    samples.sort();
    if !samples.is_empty() {
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        println!(
            "wake_latency over {} wake-ups: median {:?}, p99 {:?}",
            samples.len(),
            at(0.5),
            at(0.99)
        );
    }
}

fn failure_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("failure_chain");
    for k in [0usize, 1, 4] {
        group.bench_with_input(BenchmarkId::new("once_map", k), &k, |b, &k| {
            b.iter(|| {
                let map: OnceMap<u32, u64> = OnceMap::new();
                let mut attempts = 0;
                loop {
                    let result = map.get_or_try_init(&1, || {
                        attempts += 1;
                        if attempts <= k {
                            Err("transient")
                        } else {
                            Ok(7)
                        }
                    });
                    match result {
                        Ok(value) => break black_box(value),
                        Err(TryInitError::Failed(_)) => continue,
                        Err(other) => panic!("{other:?}"),
                    }
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("mutex_map", k), &k, |b, &k| {
            b.iter(|| {
                let map: Mutex<FxHashMap<u32, u64>> = Mutex::new(FxHashMap::default());
                let mut attempts = 0;
                loop {
                    if let Some(value) = map.lock().get(&1) {
                        break black_box(*value);
                    }
                    attempts += 1;
                    let result: Result<u64, &str> = if attempts <= k {
                        Err("transient")
                    } else {
                        Ok(7)
                    };
                    if let Ok(value) = result {
                        map.lock().insert(1, value);
                    }
                }
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = hit, stampede, many_keys, wake_latency, failure_chain
}
criterion_main!(benches);
