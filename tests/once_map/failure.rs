//! Failures are shared with the callers waiting at that moment, not memoized: one
//! error, in one allocation, for the owner and every waiter.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
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
fn a_failed_job_shares_its_one_error_with_every_waiting_caller_then_the_key_is_vacant() {
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
                    // `io::Error` is not `Clone`: every caller gets this one allocation.
                    Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
                })
            });
            owns.recv().unwrap();
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    s.spawn(|| {
                        map.get_or_try_init(&1, || {
                            waiter_jobs.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, io::Error>(0)
                        })
                    })
                })
                .collect();
            let Err(TryInitError::Failed(own)) = owner.join().unwrap() else {
                panic!("the owner gets its own error")
            };
            assert_eq!(own.kind(), io::ErrorKind::StorageFull);
            for waiter in waiters {
                match waiter.join().unwrap() {
                    Err(TryInitError::Failed(shared)) => {
                        assert!(Arc::ptr_eq(&shared, &own), "one error, not copies");
                    }
                    other => panic!("expected the owner's error, got {other:?}"),
                }
            }
        });
        assert_eq!(waiter_jobs.load(Ordering::SeqCst), 0, "waiters ran no job");
        assert_eq!(map.get(&1), None, "failures are not memoized");
        assert!(map.in_flight().is_empty());
        // The next call runs its job and succeeds.
        let runs = AtomicUsize::new(0);
        let value = map.get_or_try_init(&1, || {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, io::Error>(5)
        });
        assert_eq!(value.unwrap(), 5);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(map.get(&1), Some(5));
    });
}

#[test]
fn waiters_of_every_kind_share_the_allocation_of_a_try_init_error() {
    within(DEADLINE, "one allocation", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let (owning, owns) = mpsc::channel();
        thread::scope(|s| {
            let owner = s.spawn(|| {
                map.get_or_try_init(&1, || {
                    owning.send(()).unwrap();
                    await_waiters(&map, &1, 3);
                    Err(Chain(io::Error::other("connection refused")))
                })
            });
            owns.recv().unwrap();
            let plain_waiter = s.spawn(|| pending(map.entry(&1)).wait());
            let init_waiter = s.spawn(|| map.get_or_init(&1, || 0));
            let key_waiter = s.spawn(|| map.wait(&1));
            let Err(TryInitError::Failed(own)) = owner.join().unwrap() else {
                panic!("the owner gets its own error")
            };
            for result in [
                plain_waiter.join().unwrap(),
                init_waiter.join().unwrap(),
                key_waiter.join().unwrap(),
            ] {
                let Err(WaitError::Failed(job)) = result else {
                    panic!("expected Failed, got {result:?}")
                };
                let inside = job.downcast_ref::<Chain>().expect("the job's error");
                assert!(std::ptr::eq(inside, &*own), "the owner's allocation");
                // Shown as a message: the cause goes only to `get_or_try_init` callers,
                // through their transparent `TryInitError` (tests/error_chain.rs).
                assert_eq!(job.to_string(), "mirror unreachable");
                assert!(std::error::Error::source(&job).is_none());
            }
        });
    });
}

#[test]
fn a_guard_failing_with_the_callers_error_type_hands_try_init_waiters_that_error() {
    within(DEADLINE, "guard fail to try waiters", || {
        let map: OnceMap<u32, u32> = OnceMap::new();
        let guard = vacant(map.entry(&1));
        thread::scope(|s| {
            let try_waiters: Vec<_> = (0..2)
                .map(|_| s.spawn(|| map.get_or_try_init(&1, || Ok::<_, Boom>(0))))
                .collect();
            let plain_waiter = s.spawn(|| map.wait(&1));
            await_waiters(&map, &1, 3);
            guard.fail(Boom("bad wheel"));
            let errors: Vec<Arc<Boom>> = try_waiters
                .into_iter()
                .map(|waiter| match waiter.join().unwrap() {
                    Err(TryInitError::Failed(error)) => error,
                    other => panic!("expected Failed(Boom), got {other:?}"),
                })
                .collect();
            assert_eq!(*errors[0], Boom("bad wheel"));
            assert!(Arc::ptr_eq(&errors[0], &errors[1]));
            let Err(WaitError::Failed(job)) = plain_waiter.join().unwrap() else {
                panic!("expected Failed")
            };
            let inside = job.downcast_ref::<Boom>().expect("the job's error");
            assert!(std::ptr::eq(inside, &*errors[0]));
        });
        assert!(matches!(map.entry(&1), Entry::Vacant(_)));
    });
}

#[test]
fn try_init_errors_clone_share_and_compare_without_the_error_being_clone() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let error = map
        .get_or_try_init(&1, || Err(io::Error::other("mirror unreachable")))
        .unwrap_err();
    let copy = error.clone();
    match (&error, &copy) {
        (TryInitError::Failed(a), TryInitError::Failed(b)) => assert!(Arc::ptr_eq(a, b)),
        other => panic!("{other:?}"),
    }
    assert_eq!(copy.to_string(), "mirror unreachable");
    assert_eq!(
        format!("{copy:?}"),
        r#"Failed(Custom { kind: Other, error: "mirror unreachable" })"#
    );

    // `PartialEq` when the error is: `Failed` compares the errors, `Wait` the waits.
    let boom = |text| TryInitError::<Boom>::Failed(Arc::new(Boom(text)));
    assert_eq!(boom("a"), boom("a"));
    assert_ne!(boom("a"), boom("b"));
    assert_ne!(boom("a"), TryInitError::Wait(WaitError::Closed));
    assert_eq!(
        TryInitError::<Boom>::Wait(WaitError::Closed),
        TryInitError::Wait(WaitError::Closed).clone()
    );
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
                Err(TryInitError::Failed(Arc::new(OtherError(42))))
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
