//! Streaming extraction (`Unzipper::unzip_reader`) against the seekable path, with
//! the archive arriving at a bounded rate, as a download does.
//!
//! For each archive (the three shapes of `benches/unzip.rs`, and the real archives
//! named in `INFLIGHT_BENCH_ARCHIVES`, colon-separated) and each rate (25, 100 and
//! 400 MB/s, and unthrottled), interleaved, `INFLIGHT_BENCH_ROUNDS` rounds (default
//! 5), median wall times of:
//!
//! - `receive`: reading the throttled stream to its end and doing nothing with it;
//! - `seekable`: `Unzipper::unzip` on the archive file (as if it had been downloaded
//!   first; the download time is not counted), the whole call;
//! - `streaming`: `Unzipper::unzip_reader` on the throttled stream, from its first
//!   byte (the stream's first read, when the rate's clock starts) to the published
//!   directory: what the call does before it reads (its staging directory, its
//!   threads, 0.2-0.4 ms here) is not counted, as the download's own start is not.
//!
//! `INFLIGHT_BENCH_RATES` picks the rates (comma-separated MB/s, `file` for
//! unthrottled; `INFLIGHT_BENCH_RATES=400,file`) and `INFLIGHT_BENCH_SHAPES` the
//! shapes (comma-separated, empty for none), to measure one case at a time. Without
//! `--bench` (as `cargo test --benches` runs it) every archive is extracted once from a
//! file, whatever the rates.
//!
//! The target (issue 23): at a bounded rate, `streaming` within 1.1x of the larger of
//! `receive` and `seekable`; unthrottled, `streaming` within 1.3x of `seekable`. The
//! table prints both ratios.
//!
//! A second table (Unix) gives each contender's CPU time, the whole process's
//! (`CLOCK_PROCESS_CPUTIME_ID`, every thread) over the contender's run, medians: what
//! the stream spends beyond the seekable path and receiving, and how busy each path
//! keeps the cores (CPU time over cores times wall time). `receive` reads 64 KiB at a
//! time, as the stream's reading thread asks, so its CPU time is what receiving costs
//! the stream.
//!
//! Not a criterion bench: one sample at 25 MB/s of a 100 MB archive takes 4 s, and
//! the quantity of interest is a ratio of medians across three contenders. Archives
//! and outputs go to a fresh directory in `/dev/shm` (tmpfs) unless
//! `INFLIGHT_BENCH_DIR` names another place; everything is removed at the end.
//!
//! ```sh
//! cargo bench --bench stream
//! INFLIGHT_BENCH_ARCHIVES=/dev/shm/numpy.whl cargo bench --bench stream
//! # One download from stdin into DEST (a new directory), timed from the first byte:
//! curl -s http://127.0.0.1:8765/numpy.whl | cargo bench --bench stream -- --stdin DEST
//! ```
//!
//! `--stdin` is how `benches/README.md` puts this crate beside uv's own streaming
//! install of the same wheels, served on loopback.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use inflight::Unzipper;

mod shapes;

/// A reader that delivers `inner`'s bytes at `rate` bytes per second at most, in
/// chunks of at most 64 KiB, as a network download would: it sleeps until each
/// chunk's time has come.
struct Throttled<R> {
    inner: R,
    rate: Option<f64>,
    /// When the first byte was asked for: the clock of the rate, and where the
    /// issue's "time from the first byte" starts.
    started: Arc<OnceLock<Instant>>,
    sent: u64,
}

impl<R: Read> Throttled<R> {
    fn new(inner: R, rate: Option<f64>) -> Self {
        Throttled {
            inner,
            rate,
            started: Arc::default(),
            sent: 0,
        }
    }
}

impl<R: Read> Read for Throttled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len().min(64 << 10);
        let started = *self.started.get_or_init(Instant::now);
        if let Some(rate) = self.rate {
            // This chunk may go once the bytes before it have had their time.
            let due = Duration::from_secs_f64(self.sent as f64 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let n = self.inner.read(&mut buf[..len])?;
        self.sent += n as u64;
        Ok(n)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The CPU time the process has used so far, every thread's, ended ones included.
#[cfg(unix)]
fn cpu_time() -> Option<Duration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

/// Not measured here.
#[cfg(not(unix))]
fn cpu_time() -> Option<Duration> {
    None
}

/// Runs `run`, and returns its wall time and the process's CPU time meanwhile.
fn timed(run: impl FnOnce()) -> (Duration, Option<Duration>) {
    timed_from(&OnceLock::new(), run)
}

/// As [`timed`], but the wall time runs from `first` (the stream's first read) if
/// `run` set it, not from the call: the time from the first byte to the published
/// directory, without what the call does before it reads (its staging directory,
/// its threads). Its CPU time is the whole call's.
fn timed_from(first: &OnceLock<Instant>, run: impl FnOnce()) -> (Duration, Option<Duration>) {
    let cpu = cpu_time();
    let called = Instant::now();
    run();
    let ended = Instant::now();
    let wall = ended - first.get().copied().unwrap_or(called).max(called);
    (
        wall,
        cpu.zip(cpu_time()).map(|(before, after)| after - before),
    )
}

/// One contender's rounds: wall times, and CPU times where measured.
#[derive(Default)]
struct Rounds {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Rounds {
    fn push(&mut self, (wall, cpu): (Duration, Option<Duration>)) {
        self.wall.push(wall);
        self.cpu.extend(cpu);
    }

    /// Median wall time, and median CPU time if every round had one.
    fn medians(self) -> (Duration, Option<Duration>) {
        let measured = self.cpu.len() == self.wall.len();
        let cpu = measured.then(|| median(self.cpu));
        (median(self.wall), cpu)
    }
}

/// `--stdin DEST`: extracts the archive on stdin into `DEST`, and prints the time from
/// the first byte to the published directory.
fn from_stdin(dest: &str) {
    let mut stdin = io::stdin().lock();
    // Wait for the first byte, so the time is the extraction's, not the sender's start.
    let mut first = [0u8; 1];
    let got = stdin.read(&mut first).expect("stdin");
    let started = Instant::now();
    let stream = io::Read::chain(&first[..got], stdin);
    let done = Unzipper::new()
        .unzip_reader(stream, dest)
        .expect("the archive extracts");
    println!(
        "{} files, {} bytes in {:.1} ms",
        done.files,
        done.bytes,
        started.elapsed().as_secs_f64() * 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--stdin") {
        from_stdin(args.get(at + 1).expect("--stdin needs a destination"));
        return;
    }
    let base = std::env::var_os("INFLIGHT_BENCH_DIR")
        .map_or_else(|| PathBuf::from("/dev/shm"), PathBuf::from);
    let work = tempfile::tempdir_in(&base).expect("a scratch directory");
    let rounds: usize = std::env::var("INFLIGHT_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    // `cargo bench --no-run` builds this; `cargo test --benches` runs it with
    // `--bench` absent: keep that run short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let mut archives: Vec<(String, PathBuf)> = Vec::new();
    let shapes_given = std::env::var("INFLIGHT_BENCH_SHAPES").ok();
    let shapes: Vec<&str> = shapes_given.as_deref().map_or_else(
        || vec!["small", "large", "mixed"],
        |given| {
            given
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        },
    );
    for shape in shapes {
        let path = work.path().join(format!("{shape}.zip"));
        shapes::make_archive(&path, shape);
        archives.push((shape.to_owned(), path));
    }
    if let Ok(given) = std::env::var("INFLIGHT_BENCH_ARCHIVES") {
        for path in given.split(':').filter(|p| !p.is_empty()) {
            let name = Path::new(path)
                .file_name()
                .map_or(path.to_owned(), |n| n.to_string_lossy().into_owned());
            archives.push((name, PathBuf::from(path)));
        }
    }
    let rates: Vec<Option<f64>> = if quick {
        vec![None]
    } else if let Ok(given) = std::env::var("INFLIGHT_BENCH_RATES") {
        given
            .split(',')
            .map(|rate| match rate.trim() {
                "file" => None,
                mb => Some(mb.parse::<f64>().expect("a rate in MB/s, or `file`") * 1e6),
            })
            .collect()
    } else {
        vec![Some(25e6), Some(100e6), Some(400e6), None]
    };
    let rounds = if quick { 1 } else { rounds };
    println!(
        "| archive | MB | rate | receive | seekable | streaming | streaming / max(receive, seekable) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let unzipper = Unzipper::new();
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let mut cpu_rows = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut n = 0;
    for (name, archive) in &archives {
        let mb = fs::metadata(archive).expect("the archive").len() as f64 / 1e6;
        for &rate in &rates {
            let (mut receive, mut seekable, mut streaming) =
                (Rounds::default(), Rounds::default(), Rounds::default());
            for _ in 0..rounds {
                let mut download = Throttled::new(File::open(archive).unwrap(), rate);
                let first = Arc::clone(&download.started);
                receive.push(timed_from(&first, || {
                    while download.read(&mut chunk).unwrap() > 0 {}
                }));

                n += 1;
                let dest = work.path().join(format!("out-{n}"));
                seekable.push(timed(|| {
                    unzipper.unzip(archive, &dest).unwrap();
                }));
                fs::remove_dir_all(&dest).unwrap();

                n += 1;
                let dest = work.path().join(format!("out-{n}"));
                let stream = Throttled::new(
                    BufReader::with_capacity(64 << 10, File::open(archive).unwrap()),
                    rate,
                );
                let first = Arc::clone(&stream.started);
                streaming.push(timed_from(&first, || {
                    unzipper.unzip_reader(stream, &dest).unwrap();
                }));
                fs::remove_dir_all(&dest).unwrap();
            }
            let ((receive, receive_cpu), (seekable, seekable_cpu), (streaming, streaming_cpu)) =
                (receive.medians(), seekable.medians(), streaming.medians());
            let target = if rate.is_some() {
                receive.max(seekable)
            } else {
                seekable
            };
            let rate = rate.map_or("file".to_owned(), |r| format!("{:.0} MB/s", r / 1e6));
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
            println!(
                "| {name} | {mb:.1} | {rate} | {} | {} | {} | **{:.2}x** |",
                ms(receive),
                ms(seekable),
                ms(streaming),
                streaming.as_secs_f64() / target.as_secs_f64()
            );
            if let (Some(receive_cpu), Some(seekable_cpu), Some(streaming_cpu)) =
                (receive_cpu, seekable_cpu, streaming_cpu)
            {
                let cpu_ms = |d: Duration| d.as_secs_f64() * 1e3;
                let busy = |cpu: Duration, wall: Duration| {
                    cpu.as_secs_f64() / (cores * wall.as_secs_f64())
                };
                cpu_rows.push(format!(
                    "| {name} | {rate} | {:.1} ms | {:.1} ms | {:.1} ms | {:+.1} ms | {:.0}% | {:.0}% |",
                    cpu_ms(receive_cpu),
                    cpu_ms(seekable_cpu),
                    cpu_ms(streaming_cpu),
                    cpu_ms(streaming_cpu) - cpu_ms(seekable_cpu) - cpu_ms(receive_cpu),
                    100.0 * busy(seekable_cpu, seekable),
                    100.0 * busy(streaming_cpu, streaming),
                ));
            }
        }
    }
    if !cpu_rows.is_empty() {
        println!();
        println!(
            "| archive | rate | receive CPU | seekable CPU | streaming CPU | streaming - seekable - receive | seekable busy | streaming busy |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for row in cpu_rows {
            println!("{row}");
        }
    }
}
