//! `get_or_try_init`: a failing owner hands a clone of its error to the callers waiting
//! at that moment, the key becomes vacant, and a later call runs its job again.

mod common;

use std::sync::Arc;

use inflight::{OnceMap, TryInitError};

#[test]
fn get_or_try_init_shares_the_error_and_a_later_call_retries() {
    common::check(|| {
        let map = Arc::new(OnceMap::<u32, u32>::new());
        let failing = common::spawn_on(&map, move |map| {
            map.get_or_try_init(&1, || Err::<u32, _>("boom"))
        });
        let succeeding = common::spawn_on(&map, move |map| {
            map.get_or_try_init(&1, || Ok::<_, &str>(5))
        });
        let failing = failing.join().unwrap();
        let succeeding = succeeding.join().unwrap();
        // Each either ran its own job or got the other's outcome.
        assert!(
            matches!(failing, Ok(5) | Err(TryInitError::Failed("boom"))),
            "{failing:?}"
        );
        assert!(
            matches!(succeeding, Ok(5) | Err(TryInitError::Failed("boom"))),
            "{succeeding:?}"
        );
        let later = map.get_or_try_init(&1, || Ok::<_, &str>(9));
        if succeeding == Ok(5) {
            // Published: memoized.
            assert_eq!(later, Ok(5));
        } else {
            // The failure was shared with the waiter, and not memoized.
            assert_eq!(failing, Err(TryInitError::Failed("boom")));
            assert_eq!(later, Ok(9));
        }
    });
}
