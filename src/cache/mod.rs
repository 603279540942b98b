//! The caches: [`DiskCache`], a keyed on-disk cache of directories and files built at
//! most once at a time across threads and processes, and [`UnzipCache`], the same
//! for extracted archives.
//!
//! | file        | concept                                                               |
//! |-------------|-----------------------------------------------------------------------|
//! | `disk.rs`   | [`DiskCache`]: a `OnceMap` in the process, the file system layer's build-once protocol across processes |
//! | `unzip.rs`  | [`UnzipCache`]: a `DiskCache` whose build is an extraction            |
//! | `id.rs`     | which ids a cache accepts, the same on every platform                 |
//! | `report.rs` | outcomes, events, builds in flight, counters                          |
//! | `error.rs`  | [`DiskCacheError`], and [`CacheError`] for `UnzipCache`               |

mod disk;
mod error;
mod id;
mod report;
mod unzip;

pub use self::disk::DiskCache;
pub use self::error::{CacheError, DiskCacheError};
pub use self::report::{CacheEvent, DiskCacheStats, InFlightBuild, Outcome, Phase, Resolution};
pub use self::unzip::{CacheStats, UnzipCache};
