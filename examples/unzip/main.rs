//! The main job: many threads (and, on request, several processes) ask two caches for
//! the same things at once: an `UnzipCache` of extracted wheels, and a `DiskCache` of
//! each wheel's `METADATA`, a single file built from the extracted wheel.
//!
//! ```text
//! cargo run --release --example unzip -- [ARCHIVE...] [--into DIR] [--threads N] [--repeat K] [--processes P]
//! ```
//!
//! With no archive given it builds a demo set first: two dozen wheel-like archives in
//! three shapes (many small source files, a few large shared-library-like files, and a
//! mix) in a temporary directory. Then N threads request every archive K times, in an
//! interleaved order so that several threads ask for the same archive at the same
//! moment: each request extracts the wheel through the wheel cache (`DIR/wheels/<id>`)
//! and then asks the metadata cache for its `METADATA` (`DIR/metadata/<id>`). With
//! `--processes P`, P - 1 more processes of this program run the same requests against
//! the same caches at the same time, and the report sums them. `--into DIR` keeps the
//! caches in `DIR` (run twice to see everything found on disk); otherwise a temporary
//! directory is used and removed at the end. A progress bar appears on stderr when it
//! is a terminal.
//!
//! Exits non-zero if any request failed, or if some archive or metadata file was not
//! resolved exactly once by each process, or was built by two processes.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use inflight::{DiskCache, Outcome, UnzipCache};
use sha2::{Digest, Sha256};

mod demo;
mod report;

use report::{Counts, Run};

struct Args {
    archives: Vec<PathBuf>,
    into: Option<PathBuf>,
    threads: usize,
    repeat: usize,
    processes: usize,
    /// Started by another run of this program: print the counts for it, no report.
    child: bool,
}

const USAGE: &str =
    "usage: unzip [ARCHIVE...] [--into DIR] [--threads N] [--repeat K] [--processes P]

  ARCHIVE         wheels or zip archives to request (none: a demo set of 24 wheels)
  --into DIR      keep the caches in DIR (DIR/wheels, DIR/metadata); default: a temporary one
  --threads N     threads that send requests (default 8)
  --repeat K      requests per archive (default 4)
  --processes P   processes that send them at the same time, on the same caches (default 1)
  -h, --help      this text";

/// What the command line asks for, or what to print and the exit code.
enum Parsed {
    Run(Args),
    Exit(String, u8),
}

fn parse_args() -> Parsed {
    let mut args = Args {
        archives: Vec::new(),
        into: None,
        threads: 8,
        repeat: 4,
        processes: 1,
        child: false,
    };
    let mut it = std::env::args_os().skip(1);
    let usage_error = |message: String| Parsed::Exit(format!("{message}\n{USAGE}"), 2);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed = match arg.to_str() {
            Some("--into") => value("--into").map(|v| args.into = Some(PathBuf::from(v))),
            Some("--threads") => value("--threads")
                .and_then(|v| number(&v, "--threads"))
                .map(|n| args.threads = n),
            Some("--repeat") => value("--repeat")
                .and_then(|v| number(&v, "--repeat"))
                .map(|n| args.repeat = n),
            Some("--processes") => value("--processes")
                .and_then(|v| number(&v, "--processes"))
                .map(|n| args.processes = n),
            Some("--child") => {
                args.child = true;
                Ok(())
            }
            Some("-h" | "--help") => return Parsed::Exit(USAGE.to_string(), 0),
            Some(flag) if flag.starts_with("--") => Err(format!("unknown flag {flag}")),
            _ => {
                args.archives.push(PathBuf::from(arg));
                Ok(())
            }
        };
        if let Err(message) = parsed {
            return usage_error(message);
        }
    }
    Parsed::Run(args)
}

fn number(text: &std::ffi::OsStr, name: &str) -> Result<usize, String> {
    text.to_str()
        .and_then(|t| t.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{name} needs a positive number, got {text:?}"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Parsed::Run(args) => args,
        Parsed::Exit(text, 0) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Parsed::Exit(text, code) => {
            eprintln!("{text}");
            return ExitCode::from(code);
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

    let hashing = Instant::now();
    let ids: Vec<String> = archives
        .iter()
        .map(|a| content_id(a))
        .collect::<std::io::Result<_>>()?;
    if !args.child {
        eprintln!(
            "hashed {} archives in {:.2} s",
            archives.len(),
            hashing.elapsed().as_secs_f64()
        );
    }
    let distinct: BTreeSet<&str> = ids.iter().map(String::as_str).collect();

    // The other processes start first, and run while this one does.
    let others = if args.child {
        Vec::new()
    } else {
        (1..args.processes)
            .map(|_| start_child(&args, &archives, &root))
            .collect::<std::io::Result<Vec<_>>>()?
    };
    let bar = (!args.child)
        .then(|| progress_bar(args.repeat * archives.len()))
        .flatten();
    let started = Instant::now();
    let here = requests(&args, &archives, &ids, &root, bar.as_ref());
    let wall = started.elapsed();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.child {
        println!("{}", here.encode());
        return Ok(true);
    }
    let mut elsewhere = Vec::new();
    for child in others {
        let output = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let counts = text.lines().find_map(Run::decode).ok_or_else(|| {
            std::io::Error::other(format!(
                "another process of the main job ended without its counts ({})",
                output.status
            ))
        })?;
        elsewhere.push(counts);
    }
    let report = report::Report {
        archives: archives.len(),
        distinct: distinct.len(),
        threads: args.threads,
        root: &root,
        here,
        elsewhere,
        wall,
    };
    report.print(&mut std::io::stdout().lock())?;
    Ok(report.ok())
}

/// Starts another process of this program on the same archives and caches.
fn start_child(
    args: &Args,
    archives: &[PathBuf],
    root: &Path,
) -> std::io::Result<std::process::Child> {
    Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg("--into")
        .arg(root)
        .args(["--threads", &args.threads.to_string()])
        .args(["--repeat", &args.repeat.to_string()])
        .args(archives)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
}

/// This process's share: `args.threads` threads send every archive `args.repeat`
/// times, interleaved (all archives, then all again), so that several of them want
/// one archive at the same moment. Each request extracts the wheel, then resolves its
/// metadata file from the extracted tree.
fn requests(
    args: &Args,
    archives: &[PathBuf],
    ids: &[String],
    root: &Path,
    bar: Option<&ProgressBar>,
) -> Run {
    let wheels = UnzipCache::new(root.join("wheels"));
    let metadata = DiskCache::new(root.join("metadata"));
    let order: Vec<usize> = (0..args.repeat).flat_map(|_| 0..archives.len()).collect();
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(Run::default());
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (archive, id) = (&archives[i], &ids[i]);
                    let (outcome, extracted) = wheels.unzip_with_outcome(archive, id);
                    shared.lock().unwrap().wheels.note(id, outcome);
                    match extracted {
                        Ok(dir) => {
                            let answer = metadata.resolve_file(id, |file: &mut std::fs::File| {
                                write_metadata(&dir, file)
                            });
                            let mut run = shared.lock().unwrap();
                            run.metadata.note(id, answer.outcome);
                            if let Err(error) = answer.result {
                                run.failures
                                    .push((format!("{id} (metadata)"), report::chain(&error)));
                            }
                        }
                        Err(error) => {
                            let failure = (id.clone(), report::chain(&error));
                            shared.lock().unwrap().failures.push(failure);
                        }
                    }
                    if let Some(bar) = bar {
                        bar.inc(1);
                    }
                }
            });
        }
    });
    let mut run = shared.into_inner().unwrap();
    let stats = wheels.stats();
    (run.files, run.bytes) = (stats.files, stats.bytes);
    run
}

/// The metadata build: the extracted wheel's `*.dist-info/METADATA`, or, for an
/// archive that is not a wheel, a summary of its top-level names.
fn write_metadata(wheel: &Path, file: &mut std::fs::File) -> std::io::Result<()> {
    let mut top: Vec<String> = std::fs::read_dir(wheel)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    top.sort();
    if let Some(info) = top.iter().find(|name| name.ends_with(".dist-info")) {
        let source = wheel.join(info).join("METADATA");
        if source.is_file() {
            return file.write_all(&std::fs::read(source)?);
        }
    }
    writeln!(
        file,
        "Metadata-Version: 2.1\nSummary: not a wheel; top-level names follow"
    )?;
    for name in top {
        writeln!(file, "Top-Level: {name}")?;
    }
    Ok(())
}

/// The cache id of an archive: the SHA-256 of its bytes, in hex, as installers key
/// their caches. Two archives share an id exactly when they hold the same bytes,
/// whatever their paths or names: a file name alone would let `a/pkg-1.0.whl` be
/// served the files of a different `b/pkg-1.0.whl`.
fn content_id(archive: &Path) -> std::io::Result<String> {
    let named = |e: std::io::Error| {
        std::io::Error::new(
            e.kind(),
            format!("cannot read archive {}: {e}", archive.display()),
        )
    };
    let mut hasher = Sha256::new();
    std::io::copy(
        &mut std::fs::File::open(archive).map_err(named)?,
        &mut hasher,
    )
    .map_err(named)?;
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

impl Counts {
    /// Records one request's outcome for `id`.
    fn note(&mut self, id: &str, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Built => {
                self.built += 1;
                self.built_ids.push(id.to_owned());
            }
            Outcome::WaitedForThread => self.waited_for_thread += 1,
            Outcome::WaitedForProcess => self.waited_for_process += 1,
            Outcome::FoundOnDisk => self.found_on_disk += 1,
            Outcome::Remembered => self.remembered += 1,
            _ => self.failed += 1,
        }
    }
}
