//! The streaming extraction's threads (`src/unzip/stream/`): the reading thread, the
//! writers taking jobs in order from their board, the threads of large entries and
//! their relays, and the pool of blocks the reading thread waits on, run as they ship
//! on shuttle's primitives (`src/sync.rs`, `stream`). Under `--cfg shuttle` the pool
//! is 4 blocks of 256 bytes, the queue holds 2 files and an entry of 512 decoded bytes
//! is large, so an archive of a few KiB crosses many blocks, the reading thread waits
//! for the writers to free one and to take a file, and two large entries decode on
//! threads of their own while files queue up.
//!
//! Every execution extracts a real archive into a fresh directory (the file system is
//! the real one: only the threads are modelled) and checks the outcome: every file
//! with its bytes, or the named error with nothing published and nothing left beside
//! the destination. A schedule that hangs is a deadlock, which shuttle reports.

mod common;

use std::io::{Cursor, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use inflight::model::stream::{BLOCK_LEN, BLOCKS, LARGE, set_cores, take_reached};
use inflight::{UnzipError, Unzipper};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// Executions per scheduler: each extracts an archive for real (a dozen files and
/// directories made and removed), so fewer than the protocol models run.
const ITERATIONS: usize = 5_000;

/// Bytes that deflate to about half their length (a small generator, so that the
/// model does not depend on a random crate).
fn half_random(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if i % 2 == 0 { state as u8 } else { b'a' }
        })
        .collect()
}

/// The files of the model's archive, in stream order: small ones between two large
/// ones (one deflated, one stored), in nested directories.
fn files() -> Vec<(&'static str, Vec<u8>, CompressionMethod)> {
    let large = usize::try_from(LARGE).unwrap();
    vec![
        ("a/one.txt", b"one ".repeat(40), CompressionMethod::Deflated),
        (
            "a/b/big.bin",
            half_random(6 * large, 1),
            CompressionMethod::Deflated,
        ),
        (
            "a/b/two.txt",
            half_random(300, 2),
            CompressionMethod::Deflated,
        ),
        ("c/three.txt", b"three".to_vec(), CompressionMethod::Stored),
        (
            "c/d/stored.bin",
            half_random(2 * large, 3),
            CompressionMethod::Stored,
        ),
        ("four.txt", half_random(200, 4), CompressionMethod::Deflated),
    ]
}

/// The archive, with its sizes in the local headers (`streamed: false`), or written
/// as a stream writes it, every size and CRC-32 in a data descriptor after the data,
/// which only the deflate stream's end locates (`streamed: true`, deflated entries
/// only: a stored entry with a descriptor cannot be streamed).
fn archive(streamed: bool) -> Vec<u8> {
    let bytes = if streamed {
        let zip = fill(zip::ZipWriter::new_stream(Vec::new()), true);
        zip.finish().unwrap().into_inner()
    } else {
        let zip = fill(zip::ZipWriter::new(Cursor::new(Vec::new())), false);
        zip.finish().unwrap().into_inner()
    };
    assert!(
        bytes.len() > 2 * BLOCK_LEN * BLOCKS,
        "the archive must outgrow the pool twice over ({} bytes)",
        bytes.len()
    );
    bytes
}

/// Writes [`files`] into `zip`, every one deflated if `streamed`.
fn fill<W: Write + Seek>(mut zip: zip::ZipWriter<W>, streamed: bool) -> zip::ZipWriter<W> {
    for (name, bytes, method) in files() {
        let method = if streamed {
            CompressionMethod::Deflated
        } else {
            method
        };
        let options = SimpleFileOptions::default().compression_method(method);
        zip.start_file(name, options).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip
}

/// A fresh directory per execution, on tmpfs where there is one (`/dev/shm`), else
/// under the system's temporary directory.
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!(
        "inflight-shuttle-stream-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file of the archive is in `dest`, with its bytes.
fn assert_extracted(dest: &Path) {
    for (name, bytes, _) in files() {
        let written = std::fs::read(dest.join(name))
            .unwrap_or_else(|error| panic!("{name} was not written: {error}"));
        assert!(written == bytes, "{name} holds other bytes");
    }
}

/// The names in `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The points of the protocol every model must reach (`inflight::model::stream::
/// take_reached`), or it would pass for nothing.
const EVENTS: [&str; 4] = [
    "the reading thread waits for a block",
    "the reading thread waits for room in the queue",
    "a writer in order leaves a job to a large entry",
    "a large entry waits for its next bytes",
];

/// Extracts `bytes` as a stream into a fresh directory, checks the outcome with
/// `check` (given the destination and the result), and removes the directory.
fn extract_and_check(bytes: &[u8], check: impl FnOnce(&Path, Result<usize, UnzipError>)) {
    let base = scratch();
    let dest = base.join("out");
    set_cores(2);
    let result = Unzipper::new()
        .unzip_reader(Cursor::new(bytes), &dest)
        .map(|done| done.files);
    check(&dest, result);
    std::fs::remove_dir_all(&base).unwrap();
}

/// The model `name`: streaming `bytes` extracts every file, in every execution, and
/// the executions reach `events`.
fn every_file_gets_written(name: &str, bytes: Vec<u8>, events: &[&str]) {
    common::check_reaching_with(name, ITERATIONS, events, take_reached, move || {
        extract_and_check(&bytes, |dest, result| {
            assert_eq!(result.expect("the archive extracts"), files().len());
            assert_extracted(dest);
        });
    });
}

#[test]
fn large_entries_and_queued_files_over_a_pool_that_runs_dry_all_get_written() {
    every_file_gets_written(
        "stream: 2 large entries among small files, 4 blocks, 2 writers",
        archive(false),
        &EVENTS,
    );
}

#[test]
fn entries_with_data_descriptors_decoded_by_the_reading_thread_all_get_written() {
    every_file_gets_written(
        "stream: every entry behind a data descriptor, 4 blocks, 2 writers",
        archive(true),
        &EVENTS[..2],
    );
}

#[test]
fn a_large_entry_that_fails_its_check_stops_every_thread_and_publishes_nothing() {
    let mut bytes = archive(false);
    // The stored large entry's last byte: its CRC-32 no longer matches, which its own
    // thread finds only at the end of the entry, while the reading thread and the
    // writers go on.
    let (name, content, _) = files().swap_remove(4);
    // The first copy of its name is its local header's, 30 bytes past the header's
    // start; the data follows the name and the extra field.
    let header = bytes
        .windows(name.len())
        .position(|window| window == name.as_bytes())
        .expect("the entry's local header")
        - 30;
    let extra = usize::from(u16::from_le_bytes([bytes[header + 28], bytes[header + 29]]));
    bytes[header + 30 + name.len() + extra + content.len() - 1] ^= 0xff;
    common::check_reaching_with(
        "stream: a large stored entry fails its CRC-32, 4 blocks, 2 writers",
        ITERATIONS,
        &EVENTS,
        take_reached,
        move || {
            extract_and_check(&bytes, |dest, result| {
                match result {
                    Err(UnzipError::CrcMismatch { name: failed, .. }) => {
                        assert_eq!(failed, name);
                    }
                    other => panic!("expected the CRC-32 mismatch of {name}, got {other:?}"),
                }
                assert!(!dest.exists(), "nothing is published");
                let base = dest.parent().unwrap();
                assert!(
                    names(base).is_empty(),
                    "nothing left beside it: {:?}",
                    names(base)
                );
            });
        },
    );
}
