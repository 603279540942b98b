//! The report the main job prints: what the cache did, and whether every archive was
//! resolved exactly once.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use inflight::{CacheError, CacheStats};

/// What happened in one run.
pub(crate) struct Report<'a> {
    pub(crate) archives: usize,
    /// Distinct ids: archives with distinct bytes.
    pub(crate) distinct: usize,
    pub(crate) threads: usize,
    pub(crate) root: &'a Path,
    pub(crate) stats: CacheStats,
    pub(crate) failures: &'a [(String, CacheError)],
    pub(crate) wall: Duration,
}

impl Report<'_> {
    /// Extractions that succeeded, and those plus the ids found on disk. A failed
    /// extraction resolved nothing.
    fn resolved(&self) -> (u64, u64) {
        let extracted = self.stats.extractions - self.stats.failures;
        (extracted, extracted + self.stats.found_on_disk)
    }

    fn resolved_once_each(&self) -> bool {
        self.resolved().1 == self.distinct as u64
    }

    /// The run succeeded: no request failed and every distinct archive was resolved
    /// (extracted, or found complete on disk) exactly once.
    pub(crate) fn ok(&self) -> bool {
        self.failures.is_empty() && self.resolved_once_each()
    }

    pub(crate) fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let stats = &self.stats;
        let (extracted, resolved) = self.resolved();
        let once_each = self.resolved_once_each();
        writeln!(
            out,
            "inflight unzip: {} archives ({} distinct by content), {} requests from {} threads into {}",
            self.archives,
            self.distinct,
            stats.requests,
            self.threads,
            self.root.display()
        )?;
        let rows: [(&str, String, &str); 9] = [
            (
                "extractions run",
                stats.extractions.to_string(),
                "archives this process extracted",
            ),
            (
                "waited for another",
                stats.waited.to_string(),
                "requests that waited for another thread's extraction",
            ),
            (
                "answered at once",
                stats
                    .requests
                    .saturating_sub(stats.extractions + stats.found_on_disk + stats.waited)
                    .to_string(),
                "requests whose archive was already extracted",
            ),
            (
                "found on disk",
                stats.found_on_disk.to_string(),
                "archives already complete under the cache root",
            ),
            (
                "failed",
                self.failures.len().to_string(),
                "requests that got an error",
            ),
            ("files", stats.files.to_string(), "files written"),
            (
                "bytes",
                megabytes(stats.bytes),
                "uncompressed bytes written",
            ),
            (
                "wall time",
                format!("{:.3} s", self.wall.as_secs_f64()),
                "from the first request to the last answer",
            ),
            (
                "throughput",
                throughput(stats.bytes, self.wall),
                "bytes written / wall time",
            ),
        ];
        for (name, value, meaning) in rows {
            writeln!(out, "  {name:<20} {value:>12}   {meaning}")?;
        }
        writeln!(
            out,
            "  each archive resolved once: {} ({} extracted + {} found on disk = {} of {} distinct)",
            if once_each { "yes" } else { "NO" },
            extracted,
            stats.found_on_disk,
            resolved,
            self.distinct
        )?;
        for (id, error) in self.failures {
            writeln!(out, "  error: {id}: {}", error_chain(error))?;
        }
        Ok(())
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn throughput(bytes: u64, wall: Duration) -> String {
    format!(
        "{:.0} MB/s",
        bytes as f64 / 1e6 / wall.as_secs_f64().max(1e-9)
    )
}
