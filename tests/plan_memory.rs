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

/// The peak heap above what was live before, while the plan reads `bytes` (and
/// refuses them at its very end).
fn peak_of_plan(bytes: &[u8]) -> usize {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
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
    let _serial = SERIAL.lock().unwrap();
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
