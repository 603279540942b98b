//! `Unzipper` against a serial reference and a naive rayon extractor, on three
//! archive shapes generated at start-up:
//!
//! - `small`: 3,000 text files of 0.2-24 KiB in nested directories (a Django-like
//!   wheel),
//! - `large`: 4 shared-library-like files of 16-32 MiB that compress about 2:1 (a
//!   NumPy-like wheel),
//! - `mixed`: 1,000 small files, 8 of 256 KiB-1 MiB and 2 of 16 MiB.
//!
//! Contenders:
//!
//! - `unzipper`: this crate, rayon's global pool. With `--features libdeflate`,
//!   deflated entries of up to 32 MiB (compressed + uncompressed) are inflated in
//!   memory in one call.
//! - `unzipper_streaming`: the same with `in_memory_limit(0)`: every entry streams
//!   through zlib-rs, as without the feature. Run with `--features libdeflate` to
//!   compare the two decoding paths in one run.
//! - `unzipper_durable`: `unzipper` with `durable(true)` (every file and directory
//!   flushed to the device before the rename). Its cost only means something on a
//!   real disk (`INFLIGHT_BENCH_DIR`): on tmpfs a flush does nothing.
//! - `serial`: a plain loop over `ZipArchive::by_index`, `create_dir_all` for each
//!   file's parent, `File::create`, `io::copy`.
//! - `naive_rayon`: the same body in `par_iter().for_each_init`, each rayon task
//!   opening its own `ZipArchive` on the path.
//!
//! Archives and outputs live in a fresh directory under `/dev/shm` (tmpfs, so the
//! numbers measure CPU and syscalls, not a disk), removed at the end. Set
//! `INFLIGHT_BENCH_DIR` to a directory on a real disk to measure there instead. Each
//! sample extracts into a new directory; removing the outputs happens outside the
//! timed part (`iter_custom`). Sample sizes and times are small so the whole run takes
//! about two minutes.

// criterion 0.7's `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use inflight::Unzipper;
use rayon::prelude::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// A xorshift generator: deterministic content without a dev-dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "def",
    "return",
    "self",
    "import",
    "from",
    "class",
    "None",
    "request",
    "response",
    "model",
    "field",
    "queryset",
    "template",
    "context",
    "if",
    "else",
    "for",
    "in",
    "not",
    "raise",
    "ValueError",
    "kwargs",
    "args",
    "super",
    "__init__",
    "settings",
    "url",
    "path",
    "view",
    "form",
];

/// Python-looking text, about 4:1 under deflate.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let indent = rng.below(4) as usize * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        for _ in 0..rng.below(8) + 2 {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(if rng.below(6) == 0 { b'_' } else { b' ' });
            if rng.below(5) == 0 {
                write!(out, "{}", rng.below(10_000)).unwrap();
            }
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// Machine-code-looking bytes, about 2:1 under deflate.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 600);
    while out.len() < len {
        let run = rng.below(512) as usize + 64;
        if rng.below(2) == 0 {
            out.extend((0..run).map(|_| rng.next() as u8));
        } else {
            let byte = rng.next() as u8;
            out.extend(std::iter::repeat_n(byte, run));
        }
    }
    out.truncate(len);
    out
}

fn small_files(zip: &mut ZipWriter<File>, rng: &mut Rng, count: usize) {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..count {
        let name = format!(
            "pkg/app{}/sub{}/part{}/module_{i}.py",
            i % 12,
            (i / 12) % 8,
            (i / 96) % 3
        );
        zip.start_file(name, options).unwrap();
        let len = 200 + rng.below(24 << 10) as usize;
        zip.write_all(&text(rng, len)).unwrap();
    }
}

fn big_files(zip: &mut ZipWriter<File>, rng: &mut Rng, sizes: &[usize]) {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .large_file(false);
    for (i, &size) in sizes.iter().enumerate() {
        zip.start_file(format!("pkg/.libs/lib{i}.so"), options)
            .unwrap();
        zip.write_all(&binary(rng, size)).unwrap();
    }
}

fn make_archive(path: &Path, shape: &str) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    match shape {
        "small" => small_files(&mut zip, &mut rng, 3_000),
        "large" => big_files(
            &mut zip,
            &mut rng,
            &[32 << 20, 24 << 20, 20 << 20, 16 << 20],
        ),
        _ => {
            small_files(&mut zip, &mut rng, 1_000);
            let medium: Vec<usize> = (0..8).map(|i| (256 << 10) + i * (96 << 10)).collect();
            big_files(&mut zip, &mut rng, &medium);
            let mut zip2 = zip;
            let options =
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            for i in 0..2 {
                zip2.start_file(format!("pkg/data/blob{i}.bin"), options)
                    .unwrap();
                zip2.write_all(&binary(&mut rng, 16 << 20)).unwrap();
            }
            zip2.finish().unwrap();
            return;
        }
    }
    zip.finish().unwrap();
}

/// Writes one entry the way most code does: `create_dir_all` of the parent, then copy.
fn write_entry<R: io::Read + io::Seek>(zip: &mut ZipArchive<R>, index: usize, dest: &Path) {
    let mut entry = zip.by_index(index).unwrap();
    let Some(rel) = entry.enclosed_name() else {
        return;
    };
    let path = dest.join(rel);
    if entry.is_dir() {
        fs::create_dir_all(&path).unwrap();
        return;
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    let mut out = File::create(&path).unwrap();
    io::copy(&mut entry, &mut out).unwrap();
}

fn serial(archive: &Path, dest: &Path) {
    let mut zip = ZipArchive::new(BufReader::new(File::open(archive).unwrap())).unwrap();
    fs::create_dir(dest).unwrap();
    for index in 0..zip.len() {
        write_entry(&mut zip, index, dest);
    }
}

fn naive_rayon(archive: &Path, dest: &Path) {
    let len = ZipArchive::new(BufReader::new(File::open(archive).unwrap()))
        .unwrap()
        .len();
    fs::create_dir(dest).unwrap();
    (0..len).into_par_iter().for_each_init(
        || ZipArchive::new(BufReader::new(File::open(archive).unwrap())).unwrap(),
        |zip, index| write_entry(zip, index, dest),
    );
}

fn unzipper(archive: &Path, dest: &Path) {
    black_box(Unzipper::new().unzip(archive, dest).unwrap());
}

fn unzipper_durable(archive: &Path, dest: &Path) {
    black_box(Unzipper::new().durable(true).unzip(archive, dest).unwrap());
}

fn unzipper_streaming(archive: &Path, dest: &Path) {
    let unzipper = Unzipper::new().in_memory_limit(0);
    black_box(unzipper.unzip(archive, dest).unwrap());
}

/// An extractor under test: archive path, destination (must not exist).
type Extract = fn(&Path, &Path);

fn bench(c: &mut Criterion) {
    let base = std::env::var_os("INFLIGHT_BENCH_DIR")
        .map_or_else(|| PathBuf::from("/dev/shm"), PathBuf::from);
    let work = tempfile::Builder::new()
        .prefix("inflight-bench-")
        .tempdir_in(&base)
        .unwrap();
    let contenders: [(&str, Extract); 5] = [
        ("unzipper", unzipper),
        ("unzipper_durable", unzipper_durable),
        ("unzipper_streaming", unzipper_streaming),
        ("serial", serial),
        ("naive_rayon", naive_rayon),
    ];
    for shape in ["small", "large", "mixed"] {
        let archive = work.path().join(format!("{shape}.zip"));
        // Generated on first use, so a filtered run (`cargo bench --bench unzip small`)
        // only pays for the shapes it measures.
        let generated = std::cell::Cell::new(false);
        let mut group = c.benchmark_group(shape);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (name, extract) in contenders {
            let mut run = 0u64;
            group.bench_function(name, |b| {
                if !generated.replace(true) {
                    make_archive(&archive, shape);
                }
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        run += 1;
                        let dest = work.path().join(format!("out-{shape}-{name}-{run}"));
                        let start = Instant::now();
                        extract(&archive, &dest);
                        total += start.elapsed();
                        fs::remove_dir_all(&dest).unwrap();
                    }
                    total
                });
            });
        }
        group.finish();
        if generated.get() {
            fs::remove_file(&archive).unwrap();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
