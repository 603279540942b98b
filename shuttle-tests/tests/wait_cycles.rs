//! Wait cycles of three and four owners, each key with a bystander waiting for it too.
//! Owner `i` takes key `i`, waits until every owner holds its key, then waits for key
//! `i + 1` (the last waits for key 0). Exactly one owner, the one that closes the
//! cycle, gets `WouldDeadlock`; it then completes its key, which unwinds the chain:
//! every other owner and every bystander gets the value it waited for.

mod common;

use std::sync::Arc;

use inflight::{Entry, OnceMap, WaitError};
use shuttle::sync::atomic::{AtomicUsize, Ordering};
use shuttle::thread;

fn cycle_of(owners: usize) {
    let map = Arc::new(OnceMap::<usize, usize>::new());
    let owning = Arc::new(AtomicUsize::new(0));
    let owner_threads: Vec<_> = (0..owners)
        .map(|mine| {
            let owning = Arc::clone(&owning);
            common::spawn_on(&map, move |map| {
                let Entry::Vacant(guard) = map.entry(&mine) else {
                    panic!("owner {mine} is the only one to take key {mine}")
                };
                owning.fetch_add(1, Ordering::SeqCst);
                while owning.load(Ordering::SeqCst) < owners {
                    thread::yield_now();
                }
                let waited = map.wait(&((mine + 1) % owners));
                guard.complete(mine * 10);
                waited
            })
        })
        .collect();
    // Bystanders own nothing, so they are never part of the cycle. They may come
    // before the key's owner took it (`Unregistered`, then they retry).
    let bystanders: Vec<_> = (0..owners)
        .map(|key| {
            common::spawn_on(&map, move |map| {
                loop {
                    match map.wait(&key) {
                        Err(WaitError::Unregistered) => thread::yield_now(),
                        other => return other,
                    }
                }
            })
        })
        .collect();
    let results: Vec<_> = owner_threads
        .into_iter()
        .map(|owner| owner.join().unwrap())
        .collect();
    let deadlocked: Vec<_> = (0..owners)
        .filter(|&i| results[i] == Err(WaitError::WouldDeadlock))
        .collect();
    assert_eq!(
        deadlocked.len(),
        1,
        "exactly one owner closes the cycle: {results:?}"
    );
    for (i, result) in results.iter().enumerate() {
        if i != deadlocked[0] {
            assert_eq!(
                *result,
                Ok(((i + 1) % owners) * 10),
                "owner {i}: {results:?}"
            );
        }
    }
    for (key, bystander) in bystanders.into_iter().enumerate() {
        assert_eq!(
            bystander.join().unwrap(),
            Ok(key * 10),
            "bystander of key {key}"
        );
    }
    assert!(map.in_flight().is_empty());
}

#[test]
fn a_cycle_of_three_owners_with_three_bystanders_fails_exactly_one_owner() {
    common::check("wait cycle: 3 owners + 3 bystanders", || cycle_of(3));
}

#[test]
fn a_cycle_of_four_owners_with_four_bystanders_fails_exactly_one_owner() {
    common::check("wait cycle: 4 owners + 4 bystanders", || cycle_of(4));
}
