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
//!
//! `INFLIGHT_BENCH_ARCHIVES=a.whl:b.whl` adds a group per archive named there (real
//! wheels, say), read where they are: put them on tmpfs too to leave the disk out.

// criterion 0.7's `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use inflight::Unzipper;
use rayon::prelude::*;
use zip::ZipArchive;

mod shapes;

use shapes::make_archive;

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

/// One benchmark group: a generated shape, or an archive named in
/// `INFLIGHT_BENCH_ARCHIVES`.
struct Archive {
    label: String,
    path: PathBuf,
    /// The shape to generate at `path`; `None` for a given archive, read in place.
    shape: Option<&'static str>,
}

/// The archives named in `INFLIGHT_BENCH_ARCHIVES` (a path list, `:`-separated on
/// Unix), each its own group named after its file name up to the first `-` (a
/// wheel's project name).
fn given_archives() -> Vec<Archive> {
    let Some(list) = std::env::var_os("INFLIGHT_BENCH_ARCHIVES") else {
        return Vec::new();
    };
    std::env::split_paths(&list)
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or(path.as_os_str())
                .to_string_lossy();
            let label = name.split('-').next().unwrap_or(&name).to_owned();
            Archive {
                label,
                path,
                shape: None,
            }
        })
        .collect()
}

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
    let generated_shapes = ["small", "large", "mixed"].map(|shape| Archive {
        label: shape.to_owned(),
        path: work.path().join(format!("{shape}.zip")),
        shape: Some(shape),
    });
    for Archive {
        label,
        path: archive,
        shape,
    } in generated_shapes.into_iter().chain(given_archives())
    {
        // Generated on first use, so a filtered run (`cargo bench --bench unzip small`)
        // only pays for the shapes it measures. A given archive is there already.
        let generated = std::cell::Cell::new(false);
        let mut group = c.benchmark_group(&label);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (name, extract) in contenders {
            let mut run = 0u64;
            group.bench_function(name, |b| {
                if let Some(shape) = shape
                    && !generated.replace(true)
                {
                    make_archive(&archive, shape);
                }
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        run += 1;
                        let dest = work.path().join(format!("out-{label}-{name}-{run}"));
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
