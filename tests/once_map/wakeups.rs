//! Settling key A wakes only A's waiters.

use std::thread;
use std::time::Duration;

use inflight::OnceMap;

use crate::common::within;
use crate::support::{DEADLINE, await_waiters, vacant, waiters_of};

#[test]
fn completing_one_key_leaves_the_waiters_of_another_key_blocked() {
    within(DEADLINE, "per-key wake-ups", || {
        let map: OnceMap<char, &str> = OnceMap::new();
        let (a, b) = (vacant(map.entry(&'a')), vacant(map.entry(&'b')));
        thread::scope(|s| {
            let waiters_a: Vec<_> = (0..2).map(|_| s.spawn(|| map.wait(&'a'))).collect();
            let waiters_b: Vec<_> = (0..2).map(|_| s.spawn(|| map.wait(&'b'))).collect();
            await_waiters(&map, &'a', 2);
            await_waiters(&map, &'b', 2);

            a.complete("value of a");
            for waiter in waiters_a {
                assert_eq!(waiter.join().unwrap(), Ok("value of a"));
            }
            // B's waiters are still blocked and still counted, a while later too.
            thread::sleep(Duration::from_millis(50));
            assert_eq!(waiters_of(&map, &'b'), Some(2));
            assert!(waiters_b.iter().all(|w| !w.is_finished()));

            b.complete("value of b");
            for waiter in waiters_b {
                assert_eq!(waiter.join().unwrap(), Ok("value of b"));
            }
        });
        assert!(map.in_flight().is_empty());
    });
}

#[test]
fn failing_or_abandoning_one_key_leaves_the_waiters_of_another_key_blocked() {
    within(DEADLINE, "per-key wake-ups on failure", || {
        let map: OnceMap<char, u32> = OnceMap::new();
        let a = vacant(map.entry(&'a'));
        let b = vacant(map.entry(&'b'));
        let c = vacant(map.entry(&'c'));
        thread::scope(|s| {
            let waiting_a = s.spawn(|| map.wait(&'a'));
            let waiting_b = s.spawn(|| map.wait(&'b'));
            let waiting_c = s.spawn(|| map.wait(&'c'));
            for key in ['a', 'b', 'c'] {
                await_waiters(&map, &key, 1);
            }
            a.fail_with_message("a failed");
            drop(b);
            assert!(waiting_a.join().unwrap().is_err());
            assert!(waiting_b.join().unwrap().is_err());
            thread::sleep(Duration::from_millis(50));
            assert_eq!(waiters_of(&map, &'c'), Some(1));
            assert!(!waiting_c.is_finished());
            c.complete(3);
            assert_eq!(waiting_c.join().unwrap(), Ok(3));
        });
    });
}
