//! `get_or_try_init`: a failing owner hands its error, the one `Arc` it made, to the
//! callers waiting at that moment; the key becomes vacant, and a later call runs its
//! job again.

mod common;

use std::sync::Arc;

use inflight::{OnceMap, TryInitError};

/// The error of a result that failed with "boom", if it did.
fn boom(result: &Result<u32, TryInitError<String>>) -> Option<Arc<String>> {
    match result {
        Err(TryInitError::Failed(error)) if error.as_str() == "boom" => Some(Arc::clone(error)),
        _ => None,
    }
}

#[test]
fn get_or_try_init_shares_the_error_and_a_later_call_retries() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let failing = common::spawn_on(&map, move |map| {
            map.get_or_try_init(&1, || Err::<u32, _>(String::from("boom")))
        });
        let succeeding = common::spawn_on(&map, move |map| {
            map.get_or_try_init(&1, || Ok::<_, String>(5))
        });
        let failing = failing.join().unwrap();
        let succeeding = succeeding.join().unwrap();
        // Each either ran its own job or got the other's outcome.
        assert!(failing == Ok(5) || boom(&failing).is_some(), "{failing:?}");
        assert!(
            succeeding == Ok(5) || boom(&succeeding).is_some(),
            "{succeeding:?}"
        );
        let later = map.get_or_try_init(&1, || Ok::<_, String>(9));
        match (boom(&failing), boom(&succeeding)) {
            (Some(own), Some(shared)) => {
                // The failure was shared with the waiter, as the owner's own `Arc`, and
                // not memoized.
                assert!(Arc::ptr_eq(&own, &shared));
                assert_eq!(later, Ok(9));
            }
            // Published: memoized.
            _ => assert_eq!(later, Ok(5)),
        }
    });
}
