//! Issue 21's property: mutate the mode bits, host bytes and extra fields (local and
//! central) of valid archives, and whenever the `Unzipper` accepts one, CPython,
//! Info-ZIP and bsdtar must extract the same tree with the same bytes (no link, no
//! other name, no missing file).
//!
//! Seeded (`INFLIGHT_PROPERTY_SEED`, default fixed), `INFLIGHT_PROPERTY_CASES` cases
//! (default 3,000). CPython extracts every accepted archive in one process; Info-ZIP
//! and bsdtar run once per accepted archive, on two threads. A failure prints the
//! seed, the case and what each reader made of it.

use std::path::{Path, PathBuf};

use inflight::{Limits, Unzipper};

use crate::common::found;
use crate::forge::{Raw, asi_unix, build, extra_field, libarchive_xl, unicode_path};
use crate::readers::{self, Found, Listing, Reader, Status};

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// A valid archive to start from: files (stored, deflated, streamed), directories.
fn base(rng: &mut Rng) -> Vec<Raw> {
    let n = 1 + rng.below(4);
    let mut entries = vec![Raw::dir("pkg/")];
    for i in 0..n {
        let content = format!("file {i} of a case: {}\n", rng.next()).repeat(1 + rng.below(30));
        let name = format!("pkg/m{i}.py");
        let entry = match rng.below(3) {
            0 => Raw::stored(&name, content.as_bytes()),
            1 => Raw::deflated(&name, content.as_bytes()),
            _ => Raw::deflated(&name, content.as_bytes()).streamed(),
        };
        entries.push(entry);
    }
    entries.push(Raw::dir("pkg/data/"));
    entries.push(Raw::stored("top.txt", b"top"));
    entries
}

/// File types for the upper 16 bits: none, regular, directory, link, and the
/// special ones.
const TYPES: [u32; 8] = [
    0, 0o100_000, 0o040_000, 0o120_000, 0o010_000, 0o020_000, 0o060_000, 0o140_000,
];
/// Host bytes: DOS, Amiga, VMS, Unix, Atari, HPFS, Mac, TOPS-20, NTFS, Acorn, VFAT,
/// BeOS, Theos, macOS, AtheOS, and one nobody defines.
const HOSTS: [u16; 16] = [0, 1, 2, 3, 5, 6, 7, 10, 11, 13, 14, 16, 18, 19, 30, 255];

/// An extra field to add, picked among the ones readers act on (agreeing or not)
/// and the ones they ignore.
fn some_field(rng: &mut Rng, entry: &Raw, local: bool) -> Vec<u8> {
    let name = entry.name.clone();
    let external = entry
        .external
        .unwrap_or(entry.mode.unwrap_or(0) << 16 | u32::from(entry.dos_attributes));
    let made_by = entry
        .made_by
        .unwrap_or(if entry.mode.is_some() { 0x0314 } else { 20 });
    match rng.below(14) {
        0 => extra_field(0x5455, &[1, 1, 2, 3, 4]),
        1 => extra_field(0x7875, &[1, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
        2 => unicode_path(&name, &name),
        3 => unicode_path(b"pkg/other.py", &name),
        4 => {
            let mut other = unicode_path(&name, &name);
            other.extend_from_slice(b"x");
            other[2] += 1;
            other
        }
        5 => libarchive_xl(made_by, external),
        6 => libarchive_xl(
            rng.pick(&HOSTS) << 8 | 20,
            rng.pick(&TYPES) << 16 | 0o644 << 16,
        ),
        7 => asi_unix((external >> 16) as u16, b""),
        8 => asi_unix((rng.pick(&TYPES) | 0o644) as u16, b"pkg"),
        9 if local => extra_field(0x0001, &[0; 16]),
        9 => extra_field(0x0001, &[0; 8]),
        10 => vec![0; 1 + rng.below(3)],
        11 => extra_field(0x5455, &[1, 2, 3, 4, 5])[..6].to_vec(),
        12 => extra_field(0x000a, &[0; 32]),
        _ => extra_field(0xcafe, &[]),
    }
}

/// Mutates one entry of `entries` in one of the ways of the module docs.
fn mutate(rng: &mut Rng, entries: &mut [Raw]) {
    let at = rng.below(entries.len());
    let entry = &mut entries[at];
    match rng.below(6) {
        0 | 1 => {
            let perms = rng.pick(&[0o644, 0o755, 0o777, 0o4755, 0o000, 0o444]);
            let dos = rng.pick(&[0u32, 0x01, 0x08, 0x10, 0x20, 0x21]);
            entry.external = Some((rng.pick(&TYPES) | perms) << 16 | dos);
        }
        2 => entry.made_by = Some(rng.pick(&HOSTS) << 8 | 20),
        3 => entry.version_needed = rng.pick(&HOSTS) << 8 | 20,
        4 => {
            let field = some_field(rng, entry, true);
            entry.local_extra.extend(field);
        }
        _ => {
            let field = some_field(rng, entry, false);
            entry.central_extra.extend(field);
        }
    }
}

/// One accepted case: its archive, where the readers extract it, what we wrote.
struct Accepted {
    case: usize,
    archive: PathBuf,
    work: PathBuf,
    ours: Listing,
}

fn env_or(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A listing in a line: each path with its kind, size and CRC-32, or its target.
fn summary(listing: &Listing) -> String {
    let items: Vec<String> = listing
        .iter()
        .map(|(path, what)| match what {
            Found::Dir => format!("{path}/"),
            Found::File(bytes) => {
                format!(
                    "{path} ({} bytes, {:08x})",
                    bytes.len(),
                    crc32fast::hash(bytes)
                )
            }
            Found::Link(target) => format!("{path} -> {}", target.display()),
            Found::Special => format!("{path} (special)"),
        })
        .collect();
    items.join(", ")
}

fn check(accepted: &Accepted, reader: Reader, status: &Status, listing: &Listing, seed: u64) {
    assert!(
        &accepted.ours == listing,
        "seed {seed}, case {}: the Unzipper accepted {} but {} extracted another tree \
         ({status:?}):\n  ours:   {}\n  theirs: {}\n\
         (INFLIGHT_PROPERTY_KEEP=1 keeps the archives)",
        accepted.case,
        accepted.archive.display(),
        reader.name(),
        summary(&accepted.ours),
        summary(listing),
    );
}

#[test]
fn whenever_the_unzipper_accepts_a_mutated_archive_every_reader_extracts_the_same_tree() {
    let seed = env_or("INFLIGHT_PROPERTY_SEED", 0x2121_2121_5eed);
    let cases = env_or("INFLIGHT_PROPERTY_CASES", 3_000) as usize;
    // A zero state would stay zero; mixing keeps neighbouring seeds apart.
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let shm = Path::new("/dev/shm");
    let mut root = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    if std::env::var("INFLIGHT_PROPERTY_KEEP").is_ok_and(|v| v == "1") {
        root.disable_cleanup(true);
        eprintln!("property: keeping {}", root.path().display());
    }
    let unzipper = Unzipper::new().limits(Limits::default());
    let mut accepted = Vec::new();
    for case in 0..cases {
        let mut entries = base(&mut rng);
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut entries);
        }
        let dir = root.path().join(format!("c{case}"));
        std::fs::create_dir(&dir).unwrap();
        let archive = dir.join("a.zip");
        std::fs::write(&archive, build(&entries)).unwrap();
        let dest = dir.join("ours");
        if unzipper.unzip(&archive, &dest).is_ok() {
            accepted.push(Accepted {
                case,
                archive,
                work: dir,
                ours: found(&dest),
            });
        } else {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    eprintln!(
        "property: seed {seed}, {cases} cases, {} accepted, {} refused",
        accepted.len(),
        cases - accepted.len()
    );
    // Enough of each to mean something: most mutations are harmless to some reader
    // and not to another, but many are harmless to all.
    assert!(accepted.len() * 10 > cases, "too few cases accepted");
    assert!(accepted.len() * 10 < cases * 9, "too few cases refused");

    let outs: Vec<PathBuf> = accepted.iter().map(|a| a.work.join("cpython")).collect();
    let pairs: Vec<(&Path, &Path)> = accepted
        .iter()
        .zip(&outs)
        .map(|(a, out)| (a.archive.as_path(), out.as_path()))
        .collect();
    if let Some(statuses) = readers::cpython_batch(&pairs) {
        for ((a, out), status) in accepted.iter().zip(&outs).zip(&statuses) {
            check(a, Reader::CPython, status, &found(out), seed);
        }
    }
    // Info-ZIP and bsdtar, one process per archive, on two threads.
    let (even, odd): (Vec<_>, Vec<_>) = accepted.iter().partition(|a| a.case % 2 == 0);
    std::thread::scope(|scope| {
        for half in [even, odd] {
            scope.spawn(move || {
                for a in half {
                    for reader in [Reader::InfoZip, Reader::Libarchive] {
                        let out = a.work.join(reader.name().replace(' ', "-"));
                        if let Some(extraction) = reader.extract(&a.archive, &out) {
                            check(a, reader, &extraction.status, &extraction.listing, seed);
                        }
                    }
                }
            });
        }
    });
}
