//! The plan's peak heap against the central directory's size, measured with a
//! counting global allocator (its own test binary, so no other test's allocations
//! count).
//!
//! Each shape ends with 4 bytes no entry owns, so the plan runs to its last check
//! (coverage, after every entry is in the tree and the file list) and refuses the
//! archive there: nothing is written, and the peak heap of the call, less the peak of
//! the same call on a one-entry archive (the read buffers, the staging paths), is the
//! plan's. It is compared with the central directory's size; `src/unzip/plan.rs`
//! states the bound this checks.
//!
//! Run `cargo test --release --test plan_memory -- --nocapture` to see the numbers.

#![cfg(not(loom))]

#[path = "unzip/forge.rs"]
mod forge;

use std::path::Path;
use std::sync::Mutex;

use forge::{Archive, Raw};
use inflight::{Limits, UnzipError, Unzipper};
use peak_alloc::PeakAlloc;

/// The system allocator, counting the bytes live and the most ever live.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// One measurement at a time: the counters are global.
static SERIAL: Mutex<()> = Mutex::new(());

/// The central directory's size in `bytes`, from the end record.
fn cd_size(bytes: &[u8]) -> usize {
    let end = bytes.len() - 22;
    u32::from_le_bytes(bytes[end + 12..end + 16].try_into().unwrap()) as usize
}

/// A fresh directory, on `/dev/shm` where there is one.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

/// The peak heap above what was live before, while the plan reads `bytes` (and
/// refuses them at its very end).
fn peak_of_plan(bytes: &[u8]) -> usize {
    let dir = scratch();
    let archive = dir.path().join("a.zip");
    std::fs::write(&archive, bytes).unwrap();
    let dest = dir.path().join("out");
    let unzipper = Unzipper::new().limits(Limits::none());
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let refused = unzipper.unzip(&archive, &dest);
    let peak = ALLOCATOR.peak_usage() - before;
    assert!(
        matches!(refused, Err(UnzipError::UnlistedBytes { len: 4, .. })),
        "{refused:?}"
    );
    peak
}

/// `count` empty files at `name(i)`, then 4 bytes that belong to no entry.
fn archive(count: usize, name: impl Fn(usize) -> String) -> Vec<u8> {
    let entries: Vec<Raw> = (0..count).map(|i| Raw::stored(&name(i), b"")).collect();
    Archive {
        after: vec![(count - 1, b"junk".to_vec())],
        ..Archive::new(entries)
    }
    .bytes()
}

/// A path of `depth` components of `width` bytes each, unique from its first one.
fn deep(i: usize, depth: usize, width: usize) -> String {
    let mut parts = vec![format!("{i:0width$}")];
    parts.extend((1..depth).map(|d| format!("{:0width$}", d % 10)));
    parts.join("/")
}

#[test]
fn the_plan_stays_within_a_small_multiple_of_the_central_directory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fixed = peak_of_plan(&archive(1, |_| "x".to_owned()));
    let shapes: [(&str, Vec<u8>); 4] = [
        // Long, deep names: 64 levels of 60 bytes (about 3.9 kB a name), each entry
        // under its own top directory, so every name implies 63 new directories.
        ("long deep names", archive(400, |i| deep(i, 64, 60))),
        // Short, deep names: 64 levels of one byte (after a unique first level).
        ("short deep names", archive(2_000, |i| deep(i, 64, 1))),
        // Many flat one-component names: the per-entry overhead.
        ("flat tiny names", archive(40_000, |i| format!("{i:x}"))),
        // A wheel-like shape: a few packages, modules in them.
        (
            "wheel-like names",
            archive(20_000, |i| {
                format!("pkg{}/sub{}/module_{i}.py", i % 7, i % 50)
            }),
        ),
    ];
    for (shape, bytes) in &shapes {
        let cd = cd_size(bytes);
        let peak = peak_of_plan(bytes).saturating_sub(fixed);
        let ratio = peak as f64 / cd as f64;
        println!(
            "{shape:>18}: central directory {cd:>9} bytes, plan peak {peak:>10} bytes, {ratio:5.2}x"
        );
        // The bound `src/unzip/plan.rs` states: 16 times, 20 where the file system
        // folds names (the tree indexes folded names too).
        let times = if cfg!(any(windows, target_os = "macos")) {
            20
        } else {
            16
        };
        assert!(
            peak <= times * cd + (1 << 20),
            "{shape}: {peak} bytes for a central directory of {cd}"
        );
    }
}

/// The peak heap above what was live before while `run` extracts into a
/// [`scratch`] directory, and what it returned.
fn peak_of<T>(run: impl FnOnce(&Path) -> T) -> (usize, T) {
    let dir = scratch();
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let done = run(dir.path());
    (ALLOCATOR.peak_usage() - before, done)
}

/// A stream keeps more than the plan (the records it walked, for the check at the
/// end, and up to 16 MiB of blocks in flight), but its directories cost what the
/// plan's do: a name 64 levels deep is kept as its components, not as 64 prefixes of
/// up to 3.9 kB each (as a set of whole paths did: 140 MB for this archive). Linux
/// only: paths of 3.9 kB are past what macOS and Windows take.
#[cfg(target_os = "linux")]
#[test]
fn a_stream_of_deep_names_keeps_its_directories_as_the_plan_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let entries: Vec<Raw> = (0..500)
        .map(|i| Raw::stored(&deep(i, 64, 60), b""))
        .collect();
    let bytes = Archive::new(entries).bytes();
    let unzipper = Unzipper::new().limits(Limits::none());
    let (seekable, done) = peak_of(|dir| {
        let archive = dir.join("a.zip");
        std::fs::write(&archive, &bytes).unwrap();
        unzipper.unzip(&archive, dir.join("out"))
    });
    assert_eq!(done.unwrap().dirs, 31_500);
    let (streamed, done) = peak_of(|dir| unzipper.unzip_reader(&bytes[..], dir.join("out")));
    assert_eq!(done.unwrap().dirs, 31_500);
    println!(
        "deep names streamed: archive {} bytes, peak {streamed} bytes (seekable {seekable})",
        bytes.len()
    );
    assert!(
        streamed <= seekable + 2 * bytes.len() + (17 << 20),
        "{streamed} bytes streamed, {seekable} seekable, for {} bytes of archive",
        bytes.len()
    );
}

/// Bytes after a central directory's signature are the stream's tail, held once for
/// the check at the end: a stream of 64 MiB of them holds 64 MiB, not a copy more.
#[test]
fn a_stream_s_tail_is_held_once() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut bytes = b"PK\x01\x02".to_vec();
    bytes.resize(64 << 20, 0);
    let (peak, refused) = peak_of(|dir| Unzipper::new().unzip_reader(&bytes[..], dir.join("out")));
    assert!(refused.is_err());
    println!("a tail of 64 MiB: peak {peak} bytes");
    // The tail, the 16 MiB of blocks it passed through, and some room.
    assert!(peak <= (64 + 16 + 4) << 20, "{peak} bytes");
}
