//! The main job: many threads ask one `UnzipCache` for the same archives at once.
//!
//! ```text
//! cargo run --release --example unzip -- [ARCHIVE...] [--into DIR] [--threads N] [--repeat K]
//! ```
//!
//! With no archive given it builds a demo set first: two dozen wheel-like archives in
//! three shapes (many small source files, a few large shared-library-like files, and a
//! mix) in a temporary directory. Then N threads request every archive K times, in an
//! interleaved order so that several threads ask for the same archive at the same
//! moment, and it prints what happened. `--into DIR` keeps the extracted cache in
//! `DIR` (run twice to see everything found on disk); otherwise a temporary directory
//! is used and removed at the end. A progress bar appears on stderr when it is a
//! terminal.
//!
//! Exits non-zero if any request failed, or if some archive was not resolved exactly
//! once (extracted, or found complete on disk) by this process.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use inflight::{CacheError, UnzipCache};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

struct Args {
    archives: Vec<PathBuf>,
    into: Option<PathBuf>,
    threads: usize,
    repeat: usize,
}

const USAGE: &str =
    "usage: unzip [ARCHIVE...] [--into DIR] [--threads N] [--repeat K]  (no ARCHIVE: a demo set)";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        archives: Vec::new(),
        into: None,
        threads: 8,
        repeat: 4,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.to_str() {
            Some("--into") => args.into = Some(PathBuf::from(value("--into")?)),
            Some("--threads") => args.threads = number(&value("--threads")?, "--threads")?,
            Some("--repeat") => args.repeat = number(&value("--repeat")?, "--repeat")?,
            Some("-h" | "--help") => return Err(USAGE.to_string()),
            Some(flag) if flag.starts_with("--") => {
                return Err(format!("unknown flag {flag}\n{USAGE}"));
            }
            _ => args.archives.push(PathBuf::from(arg)),
        }
    }
    Ok(args)
}

fn number(text: &std::ffi::OsStr, name: &str) -> Result<usize, String> {
    text.to_str()
        .and_then(|t| t.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{name} needs a positive number, got {text:?}"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<bool> {
    let scratch = tempfile::tempdir()?;
    let archives = if args.archives.is_empty() {
        let started = Instant::now();
        let demo = demo_set(&scratch.path().join("archives"))?;
        eprintln!(
            "built a demo set of {} archives in {:.2} s",
            demo.len(),
            started.elapsed().as_secs_f64()
        );
        demo
    } else {
        args.archives.clone()
    };
    let root = args
        .into
        .clone()
        .unwrap_or_else(|| scratch.path().join("cache"));
    let cache = UnzipCache::new(&root);

    let hashing = Instant::now();
    let ids: Vec<String> = archives
        .iter()
        .map(|a| content_id(a))
        .collect::<std::io::Result<_>>()?;
    eprintln!(
        "hashed {} archives in {:.2} s",
        archives.len(),
        hashing.elapsed().as_secs_f64()
    );
    // Every archive K times, interleaved (all archives, then all again), so that with
    // N threads pulling in order several of them want one archive at the same moment.
    let requests: Vec<usize> = (0..args.repeat).flat_map(|_| 0..archives.len()).collect();
    let distinct: BTreeSet<&str> = ids.iter().map(String::as_str).collect();

    let bar = progress_bar(requests.len());
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let failures: Vec<(String, CacheError)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..args.threads)
            .map(|_| {
                s.spawn(|| {
                    let mut failed = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&archive) = requests.get(i) else {
                            break;
                        };
                        if let Err(error) = cache.unzip(&archives[archive], &ids[archive]) {
                            failed.push((ids[archive].clone(), error));
                        }
                        if let Some(bar) = &bar {
                            bar.inc(1);
                        }
                    }
                    failed
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker threads do not panic"))
            .collect()
    });
    let wall = started.elapsed();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let stats = cache.stats();
    // A failed extraction resolved nothing: only the ones that succeeded count.
    let extracted = stats.extractions - stats.failures;
    let resolved = extracted + stats.found_on_disk;
    let once_each = resolved == distinct.len() as u64;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "inflight unzip: {} archives ({} distinct by content), {} requests from {} threads into {}",
        archives.len(),
        distinct.len(),
        stats.requests,
        args.threads,
        root.display()
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
            failures.len().to_string(),
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
            format!("{:.3} s", wall.as_secs_f64()),
            "from the first request to the last answer",
        ),
        (
            "throughput",
            throughput(stats.bytes, wall),
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
        distinct.len()
    )?;
    for (id, error) in &failures {
        writeln!(out, "  error: {id}: {}", error_chain(error))?;
    }
    Ok(failures.is_empty() && once_each)
}

/// The cache id of an archive: the SHA-256 of its bytes, in hex, as installers key
/// their caches. Two archives share an id exactly when they hold the same bytes,
/// whatever their paths or names: a file name alone would let `a/pkg-1.0.whl` be
/// served the files of a different `b/pkg-1.0.whl`.
fn content_id(archive: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(archive)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn progress_bar(total: usize) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} requests")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    Some(bar)
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

/// Builds 24 wheel-like archives in `dir`: eight of each shape.
fn demo_set(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut archives = Vec::new();
    for i in 0..8 {
        // Like django: hundreds of small source files in nested packages.
        let files: Vec<(String, Vec<u8>)> = (0..250)
            .map(|f| {
                let name = format!("smallpkg{i}/mod{}/sub{}/file{f}.py", f % 7, f % 3);
                (name, text(&mut rng, 500 + (f * 37) % 4000))
            })
            .collect();
        archives.push(write_archive(
            dir,
            &format!("smallpkg{i}-1.0-py3-none-any"),
            &files,
        )?);
    }
    for i in 0..8 {
        // Like numpy: a few large shared-library-like files.
        let files = vec![
            (format!("bigpkg{i}/_core.so"), binary(&mut rng, 2 << 20)),
            (format!("bigpkg{i}/_linalg.so"), binary(&mut rng, 1 << 20)),
            (format!("bigpkg{i}/__init__.py"), text(&mut rng, 800)),
        ];
        archives.push(write_archive(
            dir,
            &format!("bigpkg{i}-2.0-cp312-linux_x86_64"),
            &files,
        )?);
    }
    for i in 0..8 {
        // Mixed: some sources and one medium library.
        let mut files: Vec<(String, Vec<u8>)> = (0..60)
            .map(|f| {
                (
                    format!("mixpkg{i}/m{}/f{f}.py", f % 5),
                    text(&mut rng, 1500),
                )
            })
            .collect();
        files.push((
            format!("mixpkg{i}/_speedups.so"),
            binary(&mut rng, 768 << 10),
        ));
        archives.push(write_archive(
            dir,
            &format!("mixpkg{i}-3.1-cp312-linux_x86_64"),
            &files,
        )?);
    }
    Ok(archives)
}

fn write_archive(dir: &Path, stem: &str, files: &[(String, Vec<u8>)]) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{stem}.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path)?);
    for (name, data) in files {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(if name.ends_with(".so") { 0o755 } else { 0o644 });
        zip.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(data)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    Ok(path)
}

/// Source-code-like bytes: words from a small vocabulary, so they compress like code.
fn text(rng: &mut XorShift, len: usize) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "def ", "return ", "self", ".value", " = ", "import ", "(x)", ":\n    ", "if ", "None",
        "\n", "class ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[(rng.next() % WORDS.len() as u64) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

/// Machine-code-like bytes: half compressible (runs and a small alphabet), half noise.
fn binary(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let r = rng.next();
        if r.is_multiple_of(2) {
            out.extend_from_slice(&r.to_le_bytes());
        } else {
            out.extend(std::iter::repeat_n((r >> 8) as u8 & 0x1f, 8));
        }
    }
    out.truncate(len);
    out
}

/// A tiny deterministic generator, so the demo set is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
