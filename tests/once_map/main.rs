//! Real-thread integration tests for `OnceMap`.
//!
//! Every scenario that could hang runs on spawned threads under a deadline
//! ([`support::within`]), so a lost wakeup or an undetected deadlock fails the test
//! with a message instead of blocking CI. Threads are lined up with barriers, and
//! "thread X is now waiting" is observed through `OnceMap::in_flight` waiter counts
//! ([`support::await_waiters`]), never by sleeping.
//!
//! Modules follow the contract in `DESIGN.md` ("OnceMap semantics"):
//! publishing, abandonment, failure sharing, timeouts, re-entrancy and wait cycles,
//! per-key wake-ups, close, the `in_flight` diagnostic, and a seeded stress run.

mod abandon;
mod close;
mod deadlock;
mod failure;
mod hostile_keys;
mod hostile_values;
mod in_flight;
mod leaks;
mod publish;
mod stress;
mod support;
mod timeout;
mod wakeups;
