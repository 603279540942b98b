//! The thread-safety promises of the public types, checked by the compiler on every
//! build: a change that breaks one fails to compile here, not in a user's crate.
//!
//! The promise that [`Guard`](crate::Guard) is *not* `Send` (it must be settled on the thread that
//! owns the job) is a `compile_fail` doc test on `Guard`.

use std::path::Path;
use std::sync::Arc;

use crate::{
    CacheError, CacheStats, Extracted, InFlight, JobError, Limits, OnceMap, Progress, TryInitError,
    UnzipCache, UnzipError, Unzipper, WaitError, Waiter,
};

const fn send_sync<T: Send + Sync>() {}
const fn send<T: Send>() {}
const fn error<T: std::error::Error + Send + Sync + 'static>() {}
const fn clone<T: Clone>() {}

const _: () = {
    // A map is shared by reference (or `Arc`) between threads.
    send_sync::<OnceMap<String, Arc<Path>>>();
    send_sync::<OnceMap<u64, u64, std::hash::RandomState>>();
    send_sync::<InFlight<String>>();
    // A waiter may be handed to another thread to wait there.
    send::<Waiter<'static, String, Arc<Path>>>();
    // Errors cross threads (every waiter of a job gets its error) and fit in
    // `Box<dyn Error + Send + Sync>`.
    error::<WaitError>();
    error::<JobError>();
    error::<TryInitError<std::num::ParseIntError>>();
    error::<TryInitError<std::io::Error>>();
    // Every waiter of a failed `get_or_try_init` gets the one error: `E` (here not
    // `Clone`) is shared, never copied.
    clone::<TryInitError<std::io::Error>>();
    error::<UnzipError>();
    error::<CacheError>();
    // The unzipper and the cache are used from any thread, rayon's included.
    send_sync::<Unzipper>();
    send_sync::<UnzipCache>();
    send_sync::<Limits>();
    send_sync::<Progress>();
    send_sync::<Extracted>();
    send_sync::<CacheStats>();
};
