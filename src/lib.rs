//! Run a keyed job once while it is in flight, and unzip archives into a shared cache
//! exactly once.
//!
//! A package installer runs many jobs on many threads, and two of them ask for the same
//! archive, the same metadata, the same build at the same moment. `inflight` makes the
//! second caller wait for the first one's result instead of doing the work again, and
//! makes sure nobody waits forever when the first one fails, panics or re-enters.
//!
//! # API sketch
//!
//! ```text
//! OnceMap<K, V, S = FxBuildHasher>
//!     get(&Q) -> Option<V>                                  never blocks
//!     entry(&Q) -> Entry { Ready(V) | Pending(Waiter) | Vacant(Guard) | Closed }
//!                                                           never blocks
//!     get_or_init(&Q, FnOnce() -> V) -> Result<V, WaitError>          blocks on a job in flight
//!     get_or_try_init(&Q, FnOnce() -> Result<V, E>) -> Result<V, TryInitError<E>>
//!     wait(&Q) -> Result<V, WaitError>                      blocks on a job in flight
//!     remove(&Q) -> Option<V>                               never blocks
//!     close()                                               never blocks; wakes every waiter
//!     in_flight() -> Vec<InFlight<K>>                       never blocks
//! Guard::complete(V) | Guard::fail(E) | drop(Guard) = abandon
//! Waiter::wait() | wait_timeout(Duration) | wait_deadline(Instant)
//! ```
//!
//! "Never blocks" means the call takes the map's one mutex for a few hash-map
//! operations and never waits for a job.
//!
//! # Guarantees
//!
//! - **Once while in flight.** For a key, at most one job runs at a time; callers that
//!   arrive while it runs wait for it and get a clone of its value.
//! - **No waiter hangs because an owner went away.** The owner's [`Guard`] settles the
//!   key on every path: `complete` publishes, `fail` hands the error to the current
//!   waiters and makes the key vacant, and dropping the guard (early return, `?`,
//!   panic) wakes every waiter with [`WaitError::Abandoned`];
//!   [`OnceMap::get_or_init`] callers then retry and one of them becomes the owner.
//! - **Failures are shared, not memoized.** The next call after a failure runs the job
//!   again. Store a `Result` as `V` to memoize failures.
//! - **Re-entry and wait cycles are errors, not hangs.** A thread that waits for a job
//!   it runs itself, or closes a cycle of owners waiting for each other's jobs
//!   (A waits on B, B waits on A, or longer), gets [`WaitError::WouldDeadlock`] at
//!   once. Cycles that pass through something the map cannot see (a second map, a
//!   lock, a channel, a thread join) cannot be detected.
//! - **Per-key wake-ups.** Each job in flight has its own condvar: settling key A
//!   wakes only A's waiters.
//! - **No user code under the lock** except the keys' `Hash`, `Eq` and, on first
//!   insertion, `ToOwned`; a panic in those leaves the map unlocked and unchanged.
//!
//! # Compared with the alternatives
//!
//! - `std::sync::OnceLock` / `once_cell`: one value, not a map; a panicking
//!   initializer lets the next caller retry, but there is no error sharing, no
//!   cancellation and no deadlock detection (re-entrant init deadlocks or panics).
//! - `Mutex<HashMap<K, Arc<OnceLock<V>>>>`: the usual hand-rolled single-flight map;
//!   failures cannot be shared with the waiters, and a job that waits on its own key
//!   hangs.
//! - uv's `once-map` (async, dashmap + `Notify`): waiters of an owner that is dropped
//!   or panics wait forever; no error sharing, no deadlock detection.
//! - Go's `singleflight`: shares errors, but a panicking function leaves the waiters
//!   with a panic, and re-entry deadlocks.
//!
//! # Model-checked
//!
//! Every arrow of the slot state machine, close and the cycle detection have loom
//! models in `loom-tests/` that explore all interleavings of the exact code that ships
//! (`src/sync.rs` swaps in loom's primitives under `--cfg loom`).

#![forbid(unsafe_code)]

mod cache;
mod error;
mod once_map;
mod sync;
mod unzip;

pub use cache::{CacheStats, UnzipCache};
pub use error::{CacheError, JobError, TryInitError, UnzipError, WaitError};
pub use once_map::{Entry, Guard, InFlight, OnceMap, Waiter};
pub use unzip::{Extracted, Limits, Progress, Unzipper};

/// The README's examples, compiled and run as doc tests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
