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
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use inflight::{CacheError, UnzipCache};
use sha2::{Digest, Sha256};

mod demo;
mod report;

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
        let demo = demo::demo_set(&scratch.path().join("archives"))?;
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

    let report = report::Report {
        archives: archives.len(),
        distinct: distinct.len(),
        threads: args.threads,
        root: &root,
        stats: cache.stats(),
        failures: &failures,
        wall,
    };
    report.print(&mut std::io::stdout().lock())?;
    Ok(report.ok())
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
