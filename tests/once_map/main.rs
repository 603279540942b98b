//! Real-thread integration tests for `OnceMap`.
//!
//! Every scenario that could hang runs on spawned threads under a deadline
//! ([`common::within`], shared with the other test binaries), so a lost wakeup or an
//! undetected deadlock fails the test with a message instead of blocking CI. Threads
//! are lined up with barriers and channels, and "thread X is now waiting" is observed
//! through `OnceMap::in_flight` waiter counts ([`support::await_waiters`], which polls
//! them). A test sleeps only where time itself is the point: to let a wrongly woken
//! or wrongly refused waiter show itself before asserting it is still blocked, to let
//! `running_for` grow, for a timeout to pass, or to give the stress run's jobs some
//! length; no test passes because a sleep was long enough.
//!
//! Modules follow the contract in the crate docs (`src/lib.rs`) and the README's
//! OnceMap section: publishing, abandonment, failure sharing, timeouts, re-entrancy
//! and wait cycles, per-key wake-ups, close, the `in_flight` diagnostic, keys and
//! values that misbehave, leaked guards, the `Debug` output, and a seeded stress run.

#[path = "../common/mod.rs"]
mod common;

mod abandon;
mod close;
mod deadlock;
mod debug;
mod failure;
mod hostile_keys;
mod hostile_values;
mod in_flight;
mod leaks;
mod leaving;
mod publish;
mod stress;
mod support;
mod timeout;
mod wakeups;
