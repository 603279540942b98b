//! Re-entrancy and wait cycles are reported as `WouldDeadlock`, never hang; chains
//! that are not cycles are never reported.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use inflight::{OnceMap, TryInitError, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant, waiters_of};

#[test]
fn waiting_on_its_own_key_inside_the_job_is_would_deadlock_at_once() {
    within(DEADLINE, "re-entrant get_or_init", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let value = map.get_or_init(&1, || {
            assert_eq!(
                map.get_or_init(&1, || unreachable!("the key is in flight")),
                Err(WaitError::WouldDeadlock)
            );
            assert_eq!(map.wait(&1), Err(WaitError::WouldDeadlock));
            assert_eq!(
                map.get_or_try_init(&1, || Ok::<_, &str>(0)),
                Err(TryInitError::Wait(WaitError::WouldDeadlock))
            );
            assert_eq!(pending(map.entry(&1)).wait(), Err(WaitError::WouldDeadlock));
            // The failed waits left no waiter registered.
            assert_eq!(map.in_flight()[0].waiters, 0);
            // Other keys still work from inside the job.
            assert_eq!(map.get_or_init(&2, || 2), Ok(2));
            1
        });
        assert_eq!(value, Ok(1));
        assert!(map.in_flight().is_empty());
    });
}

/// What one participant of a wait cycle saw.
#[derive(Debug)]
struct Participant {
    /// The result of the wait on the next key of the cycle, inside its own job.
    inner: Result<u64, WaitError>,
    /// The result of its own `get_or_init`.
    outer: Result<u64, WaitError>,
}

/// Runs one wait cycle: thread `i` owns `keys[i]`, all line up on a barrier, then
/// thread `i` waits on `keys[(i + 1) % n]` from inside its job. Every job completes with
/// its own key's value (times 10) whatever its wait returned.
fn run_cycle(map: &OnceMap<u64, u64>, keys: &[u64]) -> Vec<Participant> {
    let barrier = Barrier::new(keys.len());
    let ran_foreign_job = AtomicBool::new(false);
    let participants = thread::scope(|s| {
        let handles: Vec<_> = (0..keys.len())
            .map(|i| {
                let (barrier, ran_foreign_job) = (&barrier, &ran_foreign_job);
                let (own, next) = (keys[i], keys[(i + 1) % keys.len()]);
                s.spawn(move || {
                    let mut inner = None;
                    let outer = map.get_or_init(&own, || {
                        // Everyone owns their key before anyone waits.
                        barrier.wait();
                        inner = Some(map.get_or_init(&next, || {
                            ran_foreign_job.store(true, Ordering::SeqCst);
                            0
                        }));
                        own * 10
                    });
                    Participant {
                        inner: inner.expect("the job ran on its owner"),
                        outer,
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert!(
        !ran_foreign_job.load(Ordering::SeqCst),
        "a waiter ran a job that was in flight"
    );
    participants
}

/// Checks a cycle's outcome: exactly one participant got `WouldDeadlock`, every other
/// got the value of the key it waited on, and every job completed.
fn assert_one_would_deadlock(keys: &[u64], participants: &[Participant]) {
    let victims = participants
        .iter()
        .filter(|p| p.inner == Err(WaitError::WouldDeadlock))
        .count();
    assert_eq!(victims, 1, "keys {keys:?}: {participants:?}");
    for (i, p) in participants.iter().enumerate() {
        let next = keys[(i + 1) % keys.len()];
        if p.inner.is_ok() {
            assert_eq!(p.inner, Ok(next * 10), "keys {keys:?}: {participants:?}");
        }
        assert_eq!(p.outer, Ok(keys[i] * 10), "keys {keys:?}: {participants:?}");
    }
}

#[test]
fn two_owners_waiting_on_each_others_keys_get_exactly_one_would_deadlock() {
    within(DEADLINE, "two-key cycle", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        for round in 0..50 {
            let keys = [round * 2 + 1, round * 2 + 2];
            let participants = run_cycle(&map, &keys);
            assert_one_would_deadlock(&keys, &participants);
        }
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn three_owners_in_a_wait_cycle_get_exactly_one_would_deadlock() {
    within(DEADLINE, "three-key cycle", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        for round in 0..30 {
            let keys = [round * 3 + 1, round * 3 + 2, round * 3 + 3];
            let participants = run_cycle(&map, &keys);
            assert_one_would_deadlock(&keys, &participants);
        }
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_cycle_victim_that_fails_its_job_frees_the_other_owner_with_the_error() {
    within(DEADLINE, "cycle victim fails", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        for round in 0..30 {
            let keys = [round * 2 + 1, round * 2 + 2];
            let barrier = Barrier::new(2);
            let results: Vec<_> = thread::scope(|s| {
                let handles: Vec<_> = (0..2)
                    .map(|i| {
                        let (barrier, map) = (&barrier, &map);
                        let (own, next) = (keys[i], keys[1 - i]);
                        s.spawn(move || {
                            map.get_or_try_init(&own, || {
                                barrier.wait();
                                match map.get_or_init(&next, || 0) {
                                    // The victim gives up with an error...
                                    Err(WaitError::WouldDeadlock) => Err("cycle"),
                                    // ...which reaches the other owner, who completes.
                                    Err(WaitError::Failed(error))
                                        if error.downcast_ref::<&str>() == Some(&"cycle") =>
                                    {
                                        Ok(own)
                                    }
                                    other => panic!("unexpected wait result {other:?}"),
                                }
                            })
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let victim = results
                .iter()
                .position(|r| *r == Err(TryInitError::Failed(Arc::new("cycle"))))
                .unwrap_or_else(|| panic!("no victim: {results:?}"));
            let survivor = 1 - victim;
            assert_eq!(results[survivor], Ok(keys[survivor]), "{results:?}");
            assert_eq!(map.get(&keys[victim]), None, "failures are not memoized");
        }
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_chain_of_waits_without_a_cycle_never_reports_would_deadlock() {
    within(DEADLINE, "wait chain", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        for round in 0..30 {
            let [a, b, c] = [round * 3 + 1, round * 3 + 2, round * 3 + 3];
            let (c_owned, c_is_owned) = mpsc::channel();
            let (b_owned, b_is_owned) = mpsc::channel();
            let results = thread::scope(|s| {
                let map = &map;
                let third = s.spawn(move || {
                    map.get_or_init(&c, || {
                        c_owned.send(()).unwrap();
                        // Complete only once the whole chain A -> B -> C is waiting.
                        await_waiters(map, &c, 1);
                        await_waiters(map, &b, 1);
                        c * 10
                    })
                });
                c_is_owned.recv().unwrap();
                let second = s.spawn(move || {
                    map.get_or_init(&b, || {
                        b_owned.send(()).unwrap();
                        map.get_or_init(&c, || 0).unwrap() + 1
                    })
                });
                b_is_owned.recv().unwrap();
                let first = s.spawn(move || map.get_or_init(&a, || map.wait(&b).unwrap() + 1));
                [first, second, third].map(|h| h.join().unwrap())
            });
            assert_eq!(results, [Ok(c * 10 + 2), Ok(c * 10 + 1), Ok(c * 10)]);
        }
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn a_waiter_handed_to_another_thread_waits_there_without_would_deadlock() {
    within(DEADLINE, "waiter handed over", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        // Registered by the owner itself, but waited on by another thread: that thread
        // runs no job, so its wait is no cycle.
        let waiter = pending(map.entry(&1));
        let (about_to_wait, is_about_to_wait) = mpsc::channel();
        thread::scope(|s| {
            let waiting = s.spawn(move || {
                about_to_wait.send(()).unwrap();
                waiter.wait()
            });
            is_about_to_wait.recv().unwrap();
            // A wrongly reported `WouldDeadlock` would return at once; a right wait
            // blocks until the owner completes.
            thread::sleep(Duration::from_millis(20));
            assert!(!waiting.is_finished(), "{:?}", waiting.join());
            guard.complete(10);
            assert_eq!(waiting.join().unwrap(), Ok(10));
        });
    });
}

#[test]
fn an_owner_whose_wait_timed_out_is_not_counted_as_waiting_by_a_later_cycle_check() {
    within(DEADLINE, "timed-out wait, then a cycle check", || {
        let map: OnceMap<u64, u64> = OnceMap::new();
        // This thread owns key 2 throughout.
        let two = vacant(map.entry(&2));
        let (owned, gave_up) = (Barrier::new(2), Barrier::new(2));
        thread::scope(|s| {
            // The other thread owns key 1 and, once this thread has given up waiting
            // for key 1, waits for key 2 from inside key 1's job.
            let other = s.spawn(|| {
                let mut inner = None;
                let outer = map.get_or_init(&1, || {
                    owned.wait();
                    gave_up.wait();
                    inner = Some(map.wait(&2));
                    10
                });
                (outer, inner)
            });
            owned.wait();
            // Blocked on key 1 (recorded as waiting for key 1's owner), then gives up.
            let timed_out = pending(map.entry(&1)).wait_timeout(Duration::from_millis(20));
            assert_eq!(timed_out, Err(WaitError::TimedOut));
            assert_eq!(waiters_of(&map, &1), Some(0));
            gave_up.wait();
            // This thread waits for nothing now, so the other thread's wait for key 2
            // closes no cycle and blocks. A record of the wait that timed out, left
            // behind, would make it one (key 1's owner -> key 2's owner, this thread ->
            // key 1's owner): `WouldDeadlock` at once.
            let deadline = Instant::now() + Duration::from_secs(10);
            while waiters_of(&map, &2) != Some(1) && !other.is_finished() {
                assert!(Instant::now() < deadline, "the wait for key 2 never showed");
                thread::sleep(Duration::from_millis(1));
            }
            two.complete(20);
            let (outer, inner) = other.join().unwrap();
            assert_eq!(inner, Some(Ok(20)), "the wait for key 2 got its value");
            assert_eq!(outer, Ok(10));
        });
        assert!(map.in_flight().is_empty());
    });
}
