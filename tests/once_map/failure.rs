//! Failures are shared with the callers waiting at that moment, not memoized.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use inflight::{Entry, OnceMap, TryInitError, WaitError};

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, pending, vacant};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("boom: {0}")]
struct Boom(&'static str);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("other error {0}")]
struct OtherError(u32);

#[test]
fn a_failed_job_shares_its_error_with_every_waiting_caller_then_the_key_is_vacant() {
    const WAITERS: usize = 3;
    within(DEADLINE, "shared failure", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let waiter_jobs = AtomicUsize::new(0);
        let (owning, owns) = mpsc::channel();
        thread::scope(|s| {
            let owner = s.spawn(|| {
                map.get_or_try_init(&1, || {
                    owning.send(()).unwrap();
                    await_waiters(&map, &1, WAITERS);
                    Err(Boom("disk full"))
                })
            });
            owns.recv().unwrap();
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    s.spawn(|| {
                        map.get_or_try_init(&1, || {
                            waiter_jobs.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Boom>(0)
                        })
                    })
                })
                .collect();
            assert_eq!(
                owner.join().unwrap(),
                Err(TryInitError::Failed(Boom("disk full")))
            );
            for waiter in waiters {
                assert_eq!(
                    waiter.join().unwrap(),
                    Err(TryInitError::Failed(Boom("disk full")))
                );
            }
        });
        assert_eq!(waiter_jobs.load(Ordering::SeqCst), 0, "waiters ran no job");
        assert_eq!(map.get(&1), None, "failures are not memoized");
        assert!(map.in_flight().is_empty());
        // The next call runs its job and succeeds.
        let runs = AtomicUsize::new(0);
        let value = map.get_or_try_init(&1, || {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Boom>(5)
        });
        assert_eq!(value, Ok(5));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(map.get(&1), Some(5));
    });
}

#[test]
fn a_failure_of_another_error_type_reaches_waiters_as_wait_error_failed() {
    within(DEADLINE, "foreign failure", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let (owning, owns) = mpsc::channel();
        thread::scope(|s| {
            let owner = s.spawn(|| {
                map.get_or_try_init(&1, || {
                    owning.send(()).unwrap();
                    await_waiters(&map, &1, 3);
                    Err(OtherError(42))
                })
            });
            owns.recv().unwrap();
            let try_waiter = s.spawn(|| map.get_or_try_init(&1, || Ok::<_, Boom>(0)));
            let init_waiter = s.spawn(|| map.get_or_init(&1, || 0));
            let plain_waiter = s.spawn(|| pending(map.entry(&1)).wait());
            assert_eq!(
                owner.join().unwrap(),
                Err(TryInitError::Failed(OtherError(42)))
            );
            match try_waiter.join().unwrap() {
                Err(TryInitError::Wait(WaitError::Failed(error))) => {
                    assert_eq!(error.downcast_ref::<OtherError>(), Some(&OtherError(42)));
                }
                other => panic!("expected Wait(Failed(OtherError)), got {other:?}"),
            }
            for result in [init_waiter.join().unwrap(), plain_waiter.join().unwrap()] {
                match result {
                    Err(WaitError::Failed(error)) => {
                        assert_eq!(error.downcast_ref::<OtherError>(), Some(&OtherError(42)));
                    }
                    other => panic!("expected Failed(OtherError), got {other:?}"),
                }
            }
        });
        assert_eq!(map.get(&1), None);
    });
}

#[test]
fn guard_fail_hands_one_shared_error_to_every_waiter() {
    within(DEADLINE, "guard fail", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let waiters: Vec<_> = (0..2).map(|_| s.spawn(|| map.wait(&1))).collect();
            await_waiters(&map, &1, 2);
            guard.fail(Boom("bad wheel"));
            let errors: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
            for error in &errors {
                match error {
                    Err(WaitError::Failed(e)) => {
                        assert_eq!(e.downcast_ref::<Boom>(), Some(&Boom("bad wheel")))
                    }
                    other => panic!("expected Failed(Boom), got {other:?}"),
                }
            }
            // One job's error, shared (not two copies of it).
            assert_eq!(errors[0], errors[1]);
        });
        assert!(matches!(map.entry(&1), Entry::Vacant(_)));
    });
}

/// The error a waiter receives from `guard` failing with `fail`.
fn shared_failure(fail: impl FnOnce(inflight::Guard<'_, u32, u32>)) -> inflight::JobError {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let guard = vacant(map.entry(&1));
    let waiter = pending(map.entry(&1));
    fail(guard);
    match waiter.wait() {
        Err(WaitError::Failed(error)) => error,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn a_job_error_displays_debugs_and_chains_as_the_job_error_it_carries() {
    let cause = std::io::Error::other("connection refused");
    let job = shared_failure(|guard| guard.fail(Chain(cause)));
    assert_eq!(job.to_string(), "mirror unreachable");
    assert_eq!(
        format!("{job:?}"),
        r#"Chain(Custom { kind: Other, error: "connection refused" })"#
    );
    let source = std::error::Error::source(&job).expect("the job error's own source");
    assert_eq!(source.to_string(), "connection refused");

    let message = shared_failure(|guard| guard.fail_with_message(String::from("disk full")));
    assert_eq!(message.to_string(), "disk full");
    assert_eq!(format!("{message:?}"), r#""disk full""#);
    assert!(std::error::Error::source(&message).is_none());
}

#[test]
fn wait_errors_are_equal_by_variant_and_failures_only_when_they_share_one_job_error() {
    let first = WaitError::Failed(shared_failure(|guard| guard.fail(Boom("a"))));
    let second = WaitError::Failed(shared_failure(|guard| guard.fail(Boom("a"))));
    assert_eq!(first, first.clone(), "a clone shares the job's error");
    assert_ne!(
        first, second,
        "two jobs' errors, even alike, are two failures"
    );
    assert_ne!(first, WaitError::Closed);
    assert_ne!(WaitError::Abandoned, WaitError::Closed);
    assert_eq!(WaitError::TimedOut, WaitError::TimedOut);
}

/// A job error with a cause, to see `JobError` pass both on.
#[derive(Debug, thiserror::Error)]
#[error("mirror unreachable")]
struct Chain(#[source] std::io::Error);
