//! The report the main job prints: what each cache did, in this process and in the
//! others, and whether every archive and metadata file was resolved exactly once.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// What one process's requests to one cache came to, by outcome.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
    pub(crate) requests: u64,
    pub(crate) built: u64,
    pub(crate) waited_for_thread: u64,
    pub(crate) waited_for_process: u64,
    pub(crate) found_on_disk: u64,
    pub(crate) remembered: u64,
    pub(crate) failed: u64,
    /// The ids this process built (extracted, or wrote the metadata of).
    pub(crate) built_ids: Vec<String>,
}

impl Counts {
    /// Distinct ids this process resolved: built, found on disk, or got from another
    /// process it waited for. A failure resolved nothing.
    fn resolved(&self) -> u64 {
        self.built + self.found_on_disk + self.waited_for_process
    }

    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.built += other.built;
        self.waited_for_thread += other.waited_for_thread;
        self.waited_for_process += other.waited_for_process;
        self.found_on_disk += other.found_on_disk;
        self.remembered += other.remembered;
        self.failed += other.failed;
        self.built_ids.extend(other.built_ids.iter().cloned());
    }

    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {}",
            self.requests,
            self.built,
            self.waited_for_thread,
            self.waited_for_process,
            self.found_on_disk,
            self.remembered,
            self.failed,
            if self.built_ids.is_empty() {
                "-".to_owned()
            } else {
                self.built_ids.join(",")
            }
        )
    }

    fn decode(fields: &mut std::str::SplitWhitespace<'_>) -> Option<Counts> {
        let mut number = || fields.next()?.parse().ok();
        let mut counts = Counts {
            requests: number()?,
            built: number()?,
            waited_for_thread: number()?,
            waited_for_process: number()?,
            found_on_disk: number()?,
            remembered: number()?,
            failed: number()?,
            built_ids: Vec::new(),
        };
        let ids = fields.next()?;
        if ids != "-" {
            counts.built_ids = ids.split(',').map(str::to_owned).collect();
        }
        Some(counts)
    }
}

/// What one process did: its requests to both caches, its failures, what it wrote.
#[derive(Debug, Default, Clone)]
pub(crate) struct Run {
    pub(crate) wheels: Counts,
    pub(crate) metadata: Counts,
    /// The id (and which cache) of each failed request, with its error chain.
    pub(crate) failures: Vec<(String, String)>,
    pub(crate) files: u64,
    pub(crate) bytes: u64,
}

/// The line another process prints for the one that started it.
const TAG: &str = "inflight-main-job-counts:";

impl Run {
    /// One line for the process that started this one (`--child`).
    pub(crate) fn encode(&self) -> String {
        format!(
            "{TAG} {} {} {} {} {} {}",
            self.wheels.encode(),
            self.metadata.encode(),
            self.files,
            self.bytes,
            self.failures.len(),
            self.failures
                .iter()
                .map(|(id, _)| id.replace(' ', "_"))
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    /// The counts of another process, from its [`Run::encode`] line.
    pub(crate) fn decode(line: &str) -> Option<Run> {
        let mut fields = line.strip_prefix(TAG)?.split_whitespace();
        let wheels = Counts::decode(&mut fields)?;
        let metadata = Counts::decode(&mut fields)?;
        let files = fields.next()?.parse().ok()?;
        let bytes = fields.next()?.parse().ok()?;
        let failed: usize = fields.next()?.parse().ok()?;
        let failures = fields
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| (id.to_owned(), "failed in another process".to_owned()))
            .take(failed)
            .collect();
        Some(Run {
            wheels,
            metadata,
            failures,
            files,
            bytes,
        })
    }
}

/// What happened in one run of the main job, in every process.
pub(crate) struct Report<'a> {
    pub(crate) archives: usize,
    /// Distinct ids: archives with distinct bytes.
    pub(crate) distinct: usize,
    pub(crate) threads: usize,
    pub(crate) root: &'a Path,
    pub(crate) here: Run,
    /// The other processes (`--processes`).
    pub(crate) elsewhere: Vec<Run>,
    pub(crate) wall: Duration,
}

/// Whether each process resolved each distinct id of one cache exactly once, and no
/// id was built by two processes.
struct Verdict {
    each_process_once: bool,
    built_twice: Vec<String>,
    total: Counts,
}

impl Report<'_> {
    fn runs(&self) -> impl Iterator<Item = &Run> {
        std::iter::once(&self.here).chain(&self.elsewhere)
    }

    fn verdict(&self, cache: impl Fn(&Run) -> &Counts) -> Verdict {
        let mut total = Counts::default();
        let mut each_process_once = true;
        for run in self.runs() {
            each_process_once &= cache(run).resolved() == self.distinct as u64;
            total.add(cache(run));
        }
        let mut seen = BTreeSet::new();
        let built_twice = total
            .built_ids
            .iter()
            .filter(|id| !seen.insert(id.as_str()))
            .cloned()
            .collect();
        Verdict {
            each_process_once,
            built_twice,
            total,
        }
    }

    /// The run succeeded: no request failed in any process, every process resolved
    /// every distinct archive and metadata file exactly once, and no process built
    /// what another had built.
    pub(crate) fn ok(&self) -> bool {
        let wheels = self.verdict(|run| &run.wheels);
        let metadata = self.verdict(|run| &run.metadata);
        self.runs().all(|run| run.failures.is_empty())
            && [wheels, metadata]
                .iter()
                .all(|v| v.each_process_once && v.built_twice.is_empty())
    }

    pub(crate) fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let processes = 1 + self.elsewhere.len();
        let wheels = self.verdict(|run| &run.wheels);
        let metadata = self.verdict(|run| &run.metadata);
        let (w, m) = (&wheels.total, &metadata.total);
        let files: u64 = self.runs().map(|run| run.files).sum();
        let bytes: u64 = self.runs().map(|run| run.bytes).sum();
        let failures: Vec<&(String, String)> = self.runs().flat_map(|run| &run.failures).collect();
        let from = if processes == 1 {
            format!("{} threads", self.threads)
        } else {
            format!("{} threads in each of {processes} processes", self.threads)
        };
        writeln!(
            out,
            "inflight unzip: {} archives ({} distinct by content), {} requests from {from} into {}",
            self.archives,
            self.distinct,
            w.requests,
            self.root.display()
        )?;
        writeln!(out, "  {:<20} {:>12} {:>10}", "", "wheels", "metadata")?;
        let both: [(&str, u64, u64, &str); 6] = [
            (
                "built",
                w.built,
                m.built,
                "extractions run, METADATA files written",
            ),
            (
                "waited for a thread",
                w.waited_for_thread,
                m.waited_for_thread,
                "requests that waited for another thread's build",
            ),
            (
                "waited for a process",
                w.waited_for_process,
                m.waited_for_process,
                "requests that waited for another process's build",
            ),
            (
                "answered at once",
                w.remembered,
                m.remembered,
                "requests for an entry already resolved in this process",
            ),
            (
                "found on disk",
                w.found_on_disk,
                m.found_on_disk,
                "entries already complete under the cache root",
            ),
            ("failed", w.failed, m.failed, "requests that got an error"),
        ];
        for (name, wheels, metadata, meaning) in both {
            writeln!(out, "  {name:<20} {wheels:>12} {metadata:>10}   {meaning}")?;
        }
        let one: [(&str, String, &str); 4] = [
            ("files", files.to_string(), "files written"),
            ("bytes", megabytes(bytes), "uncompressed bytes written"),
            (
                "wall time",
                format!("{:.3} s", self.wall.as_secs_f64()),
                "from the first request to the last answer",
            ),
            (
                "throughput",
                throughput(bytes, self.wall),
                "bytes written / wall time",
            ),
        ];
        for (name, value, meaning) in one {
            writeln!(out, "  {name:<20} {value:>12} {:>10}   {meaning}", "")?;
        }
        self.resolved_line(out, "each archive resolved once", "extracted", &wheels)?;
        self.resolved_line(
            out,
            "each metadata file resolved once",
            "written",
            &metadata,
        )?;
        for (id, error) in failures {
            writeln!(out, "  error: {id}: {error}")?;
        }
        Ok(())
    }

    fn resolved_line(
        &self,
        out: &mut impl Write,
        what: &str,
        built: &str,
        verdict: &Verdict,
    ) -> std::io::Result<()> {
        let total = &verdict.total;
        let yes = verdict.each_process_once && verdict.built_twice.is_empty();
        let yes = if yes { "yes" } else { "NO" };
        if self.elsewhere.is_empty() {
            writeln!(
                out,
                "  {what}: {yes} ({} {built} + {} found on disk = {} of {} distinct)",
                total.built,
                total.found_on_disk,
                total.resolved(),
                self.distinct
            )?;
        } else {
            writeln!(
                out,
                "  {what}: {yes} ({} {built} + {} found on disk + {} waited for another process = {} of {} distinct x {} processes; {} by two processes)",
                total.built,
                total.found_on_disk,
                total.waited_for_process,
                total.resolved(),
                self.distinct,
                1 + self.elsewhere.len(),
                if verdict.built_twice.is_empty() {
                    "none".to_owned()
                } else {
                    verdict.built_twice.len().to_string()
                }
            )?;
        }
        Ok(())
    }
}

/// `error` and its sources, joined by `: `.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
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
