//! The plan's peak heap against the central directory's size, measured with a
//! counting global allocator (its own test binary, so no other test's allocations
//! count).
//!
//! Each shape is extracted whole (the plan stays alive while the files are written),
//! and the peak heap of the call, less the peak of extracting a one-entry archive
//! (the decode buffers, the thread pool, the staging paths), is compared with the
//! central directory's size. `src/unzip/plan.rs` states the bound this checks.
//!
//! Run `cargo test --release --test plan_memory -- --nocapture` to see the numbers.

#![cfg(not(loom))]

#[path = "unzip/forge.rs"]
mod forge;

use std::path::Path;
use std::sync::Mutex;

use forge::{Raw, build};
use inflight::{Limits, Unzipper};
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

/// The peak heap above what was live before, while `bytes` is extracted.
fn peak_of_unzip(bytes: &[u8]) -> usize {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let archive = dir.path().join("a.zip");
    std::fs::write(&archive, bytes).unwrap();
    let dest = dir.path().join("out");
    let pool = std::sync::Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap(),
    );
    let unzipper = Unzipper::new().limits(Limits::none()).thread_pool(pool);
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    unzipper.unzip(&archive, &dest).unwrap();
    ALLOCATOR.peak_usage() - before
}

/// `count` empty files at `name(i)`.
fn archive(count: usize, name: impl Fn(usize) -> String) -> Vec<u8> {
    let entries: Vec<Raw> = (0..count).map(|i| Raw::stored(&name(i), b"")).collect();
    build(&entries)
}

/// A path of `depth` components of `width` bytes each, unique from its first one.
fn deep(i: usize, depth: usize, width: usize) -> String {
    let mut parts = vec![format!("{i:0width$}")];
    parts.extend((1..depth).map(|d| format!("{:0width$}", d % 10)));
    parts.join("/")
}

#[test]
fn the_plan_stays_within_a_small_multiple_of_the_central_directory() {
    let _serial = SERIAL.lock().unwrap();
    let fixed = peak_of_unzip(&archive(1, |_| "x".to_owned()));
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
        let peak = peak_of_unzip(bytes).saturating_sub(fixed);
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
