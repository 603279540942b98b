//! What a [`DiskCache`](crate::DiskCache) tells its caller about its requests: each
//! request's [`Outcome`], the events of a build, the builds in flight, and counters.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How one request was answered, for an installer's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// This request ran the build, on its own thread, and published the entry
    /// (possibly after waiting for another process that gave up or died).
    Built,
    /// Another thread of this process was building the id; this request waited for
    /// it and got its entry.
    WaitedForThread,
    /// Another process held the id's lock; this request waited for it and then found
    /// the entry it had built.
    WaitedForProcess,
    /// The entry was complete on disk (an earlier run, another process) and nothing
    /// was built.
    FoundOnDisk,
    /// This process had already resolved the id, and its entry is still on disk.
    Remembered,
    /// The request got an error.
    Failed,
}

/// A request's outcome and its answer, from
/// [`DiskCache::resolve`](crate::DiskCache::resolve) and
/// [`DiskCache::resolve_file`](crate::DiskCache::resolve_file).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resolution<E> {
    /// How the request was answered ([`Outcome::Failed`] exactly when `result` is
    /// an error).
    pub outcome: Outcome,
    /// The entry's path, or why there is none.
    pub result: Result<PathBuf, crate::DiskCacheError<E>>,
}

/// Something a build went through, reported to the callback of
/// [`DiskCache::on_event`](crate::DiskCache::on_event) on the thread that owns the
/// build, outside every lock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheEvent {
    /// Another process holds the id's lock: this request waits for it (until the
    /// lock timeout, if one is set). Reported once per request.
    WaitingForProcess {
        /// The id.
        id: Arc<str>,
        /// The lock file the other process holds.
        lock: PathBuf,
    },
    /// The build starts, in the staging entry.
    Building {
        /// The id.
        id: Arc<str>,
        /// The staging directory or file the build fills.
        staging: PathBuf,
    },
    /// The build succeeded and its entry is published.
    Built {
        /// The id.
        id: Arc<str>,
        /// The published entry.
        path: PathBuf,
    },
    /// The build failed (its error goes to the request and its waiters).
    Failed {
        /// The id.
        id: Arc<str>,
    },
}

/// Where a build in flight is, from [`DiskCache::in_flight`](crate::DiskCache::in_flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Looking at the disk and taking the id's lock.
    Starting,
    /// Waiting for another process that holds the id's lock.
    WaitingForProcess,
    /// Running the build.
    Building,
}

/// One id being resolved by a thread of this process right now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InFlightBuild {
    /// The id.
    pub id: String,
    /// What the owning thread is doing.
    pub phase: Phase,
    /// How long since the owning thread took the id, at least.
    pub running_for: Duration,
    /// Other threads of this process waiting for it.
    pub waiters: usize,
}

/// Counters of what a [`DiskCache`](crate::DiskCache) has done, from
/// [`DiskCache::stats`](crate::DiskCache::stats). Requests are counted by their
/// [`Outcome`]: `requests` is the sum of the six outcome counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskCacheStats {
    /// Requests (`get_or_build`, `get_or_build_file`, `resolve`, `resolve_file`).
    pub requests: u64,
    /// Requests that ran the build and published its entry ([`Outcome::Built`]).
    pub built: u64,
    /// Requests that waited for another thread's build ([`Outcome::WaitedForThread`]).
    pub waited_for_thread: u64,
    /// Requests that waited for another process's build ([`Outcome::WaitedForProcess`]).
    pub waited_for_process: u64,
    /// Requests that found the entry complete on disk ([`Outcome::FoundOnDisk`]).
    pub found_on_disk: u64,
    /// Requests answered from what this process had resolved ([`Outcome::Remembered`]).
    pub remembered: u64,
    /// Requests that got an error ([`Outcome::Failed`]).
    pub failed: u64,
    /// Builds that ran and failed (each also counts as a failed request, as do the
    /// requests that waited for it).
    pub build_failures: u64,
}

/// The counters behind [`DiskCacheStats`], updated with relaxed atomics: they are
/// statistics, nothing is published through them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    built: AtomicU64,
    waited_for_thread: AtomicU64,
    waited_for_process: AtomicU64,
    found_on_disk: AtomicU64,
    remembered: AtomicU64,
    failed: AtomicU64,
    build_failures: AtomicU64,
}

impl Counters {
    pub(crate) fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Built => &self.built,
            Outcome::WaitedForThread => &self.waited_for_thread,
            Outcome::WaitedForProcess => &self.waited_for_process,
            Outcome::FoundOnDisk => &self.found_on_disk,
            Outcome::Remembered => &self.remembered,
            Outcome::Failed => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn build_failed(&self) {
        self.build_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> DiskCacheStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DiskCacheStats {
            requests: load(&self.requests),
            built: load(&self.built),
            waited_for_thread: load(&self.waited_for_thread),
            waited_for_process: load(&self.waited_for_process),
            found_on_disk: load(&self.found_on_disk),
            remembered: load(&self.remembered),
            failed: load(&self.failed),
            build_failures: load(&self.build_failures),
        }
    }
}
