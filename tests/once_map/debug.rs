//! The `Debug` output of the public types: what a `{:?}` in a log or a failed
//! assertion shows. Counts and ids, never the map's contents, and never a wait for the
//! map's lock.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread;

use inflight::{Entry, OnceMap};

use crate::common::within;
use crate::support::{DEADLINE, pending, vacant};

#[test]
fn debug_shows_the_entry_state_the_guards_key_and_flight_and_the_waiters_owner() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    assert_eq!(
        format!("{map:?}"),
        "OnceMap { ready: 0, in_flight: 0, closed: false, .. }"
    );
    assert_eq!(map.get_or_init(&1, || 10), Ok(10)); // flight 0
    assert_eq!(format!("{:?}", map.entry(&1)), "Ready(10)");

    let guard = vacant(map.entry(&2)); // flight 1
    assert_eq!(format!("{guard:?}"), "Guard { key: 2, flight: 1, .. }");
    let owner = thread::current().id();
    let waiter = pending(map.entry(&2));
    assert_eq!(
        format!("{waiter:?}"),
        format!("Waiter {{ flight: 1, owner: {owner:?}, registered: true, .. }}")
    );
    assert_eq!(
        format!("{:?}", map.entry(&2)),
        format!("Pending(Waiter {{ flight: 1, owner: {owner:?}, registered: true, .. }})")
    );
    assert_eq!(
        format!("{map:?}"),
        "OnceMap { ready: 1, in_flight: 1, closed: false, .. }"
    );
    drop(waiter);
    drop(guard);
    assert_eq!(
        format!("{:?}", map.entry(&3)),
        "Vacant(Guard { key: 3, flight: 2, .. })"
    );
    map.close();
    assert_eq!(format!("{:?}", map.entry(&4)), "Closed");
    assert_eq!(
        format!("{map:?}"),
        "OnceMap { ready: 1, in_flight: 0, closed: true, .. }"
    );
}

/// A value whose `clone` (which runs under the map's lock on a hit) formats the map.
#[derive(Debug)]
struct Peek;

static PEEKED: OnceLock<OnceMap<u32, Peek>> = OnceLock::new();

thread_local! {
    static SEEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

impl Clone for Peek {
    fn clone(&self) -> Self {
        let shown = format!("{:?}", PEEKED.get().expect("the map is set up first"));
        SEEN.with(|seen| *seen.borrow_mut() = Some(shown));
        Peek
    }
}

#[test]
fn debug_of_a_map_whose_lock_is_held_says_locked_instead_of_waiting() {
    // Under a deadline: a `Debug` that waited for the lock would deadlock here.
    within(DEADLINE, "debug under the lock", || {
        let map = PEEKED.get_or_init(OnceMap::new);
        vacant(map.entry(&1)).complete(Peek);
        // The hit clones the value under the map's lock; that clone formats the map.
        assert!(matches!(map.entry(&1), Entry::Ready(Peek)));
        let seen = SEEN.with(|seen| seen.borrow_mut().take());
        assert_eq!(seen.as_deref(), Some("OnceMap { locked: true, .. }"));
    });
}
