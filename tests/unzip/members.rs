//! `Archive`: one member read at a time, without extracting. The archive is checked
//! by the same plan as `Unzipper::unzip` when it is opened (so it is refused with the
//! same error), a member's bytes are the ones extraction writes, a member's content
//! is checked as extraction checks it, and reading writes nothing anywhere.

use std::collections::BTreeMap;
use std::io::{self, Cursor, Write};
use std::path::Path;
use std::sync::{Arc, Barrier};

use inflight::{Archive, Limits, UnzipError as E, Unzipper};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use crate::assert_matches;
use crate::common::{found, read_tree, secs, within};
use crate::forge::{Raw, build, finish, unicode_path};

const METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: numpy>=2\n";

/// A wheel as a wheel builder writes it (with the `zip` crate): deflated sources, a
/// stored binary, and a `.dist-info` with `METADATA`, `WHEEL` and `RECORD`.
fn wheel() -> Vec<u8> {
    let deflated = SimpleFileOptions::default();
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let core = b"def answer():\n    return 42\n".repeat(200);
    let native: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let record = b"demo/__init__.py,sha256=abc,25\n\
                   demo/core.py,sha256=def,5600\n\
                   demo/_native.so,sha256=ghi,20000\n\
                   demo-1.0.dist-info/METADATA,sha256=jkl,71\n\
                   demo-1.0.dist-info/WHEEL,sha256=mno,80\n\
                   demo-1.0.dist-info/RECORD,,\n";
    let files: [(&str, SimpleFileOptions, &[u8]); 6] = [
        ("demo/__init__.py", deflated, b"from .core import answer\n"),
        ("demo/core.py", deflated, &core),
        ("demo/_native.so", stored, &native),
        ("demo-1.0.dist-info/METADATA", deflated, METADATA),
        (
            "demo-1.0.dist-info/WHEEL",
            deflated,
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n",
        ),
        ("demo-1.0.dist-info/RECORD", deflated, record),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, options, data) in files {
        zip.start_file(name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A fresh directory holding `bytes` as `archive.zip`, and that file's path.
fn on_disk(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.zip");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// What `Unzipper::unzip` writes for `archive`: every regular file and its bytes.
fn extracted(archive: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    Unzipper::new().unzip(archive, &dest).unwrap();
    read_tree(&dest)
}

/// Every member of `archive`, read one by one, by its path in `files()`.
fn members(archive: &Archive) -> BTreeMap<String, Vec<u8>> {
    archive
        .files()
        .map(|path| (path.to_owned(), archive.read(path).unwrap()))
        .collect()
}

#[test]
fn a_wheel_s_metadata_and_record_read_from_a_file_or_from_bytes_are_the_bytes_extraction_writes() {
    let bytes = wheel();
    let (_dir, path) = on_disk(&bytes);
    let written = extracted(&path);
    assert_eq!(written["demo-1.0.dist-info/METADATA"], METADATA);
    for (source, archive) in [
        ("file", Archive::open(&path).unwrap()),
        ("bytes", Archive::from_bytes(bytes.clone()).unwrap()),
    ] {
        for name in ["demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD"] {
            assert_eq!(
                archive.read(name).unwrap(),
                written[name],
                "{name} from {source}"
            );
            let mut out = Vec::new();
            let n = archive.read_to(name, &mut out).unwrap();
            assert_eq!((n, &out), (written[name].len() as u64, &written[name]));
        }
        // And every other member: the same files, the same bytes.
        assert_eq!(members(&archive), written, "members from {source}");
    }
}

#[test]
fn files_lists_regular_files_only_in_central_directory_order_with_normalized_paths() {
    // Sizes in another order than the names, and names out of alphabetical order, so
    // neither the plan's largest-first order nor a sort passes for central order.
    let bytes = build(&[
        Raw::stored("pkg-1.0.dist-info/RECORD", b"pkg/zeta.py,,\n"),
        Raw::dir("pkg/"),
        Raw::deflated("pkg/zeta.py", &b"zeta = 1\n".repeat(600)),
        Raw::stored("./pkg/alpha.py", &[b'a'; 300]),
        Raw::stored("pkg//sub/./mid.py", &[b'm'; 1000]),
        Raw::dir("pkg/empty/"),
        Raw::stored("pkg/sub/empty.txt", b""),
        Raw::stored("top.txt", b"top"),
    ]);
    let expected = [
        "pkg-1.0.dist-info/RECORD",
        "pkg/zeta.py",
        "pkg/alpha.py",
        "pkg/sub/mid.py",
        "pkg/sub/empty.txt",
        "top.txt",
    ];
    let (_dir, path) = on_disk(&bytes);
    let written = extracted(&path);
    for archive in [
        Archive::open(&path).unwrap(),
        Archive::from_bytes(bytes.clone()).unwrap(),
    ] {
        assert_eq!(archive.files().collect::<Vec<_>>(), expected);
        // The paths are the ones extraction writes, and so are the bytes.
        assert_eq!(members(&archive), written);
        assert_eq!(archive.read("pkg/sub/empty.txt").unwrap(), b"");
    }
}

#[test]
fn a_name_the_archive_does_not_hold_as_a_file_is_no_such_member() {
    let bytes = build(&[
        Raw::dir("pkg/sub/"),
        Raw::stored("./pkg/sub/a.py", b"a = 1\n"),
    ]);
    let archive = Archive::from_bytes(bytes).unwrap();
    assert_eq!(archive.files().collect::<Vec<_>>(), ["pkg/sub/a.py"]);
    for name in [
        "missing.py",
        "pkg/sub/",       // a directory entry
        "pkg/sub",        // the same directory, without its slash
        "pkg",            // a directory only implied by a file's path
        "./pkg/sub/a.py", // the name as stored: members go by their normalized path
        "PKG/sub/a.py",   // another case
        "",
    ] {
        assert_matches!(archive.read(name), Err(E::NoSuchMember { name: ref asked }) if asked == name);
        let mut out = Vec::new();
        assert_matches!(archive.read_to(name, &mut out), Err(E::NoSuchMember { .. }));
        assert!(out.is_empty());
    }
}

/// `bytes` refused by `Unzipper::unzip`, `Archive::open_with` and
/// `Archive::from_bytes_with`, all with `limits`: the three errors, asserted equal
/// (by their `Debug` text: same variant, same entry, same fields).
fn refused_alike(bytes: &[u8], limits: Limits) -> E {
    let (dir, path) = on_disk(bytes);
    let dest = dir.path().join("dest");
    let unzip = Unzipper::new()
        .limits(limits)
        .unzip(&path, &dest)
        .unwrap_err();
    let open = Archive::open_with(&path, limits).unwrap_err();
    let from_bytes = Archive::from_bytes_with(bytes.to_vec(), limits).unwrap_err();
    let text = format!("{unzip:?}");
    assert_eq!(format!("{open:?}"), text, "open_with and unzip disagree");
    assert_eq!(
        format!("{from_bytes:?}"),
        text,
        "from_bytes_with and unzip disagree"
    );
    assert!(!dest.exists());
    open
}

#[test]
fn archives_the_plan_refuses_fail_at_open_with_the_error_unzip_gives() {
    let ok = || Raw::stored("ok.py", b"fine\n");

    // Zip slip.
    let slip = build(&[ok(), Raw::stored("../../evil.py", b"payload")]);
    assert_matches!(
        refused_alike(&slip, Limits::default()),
        E::ParentEscape { index: 1, .. }
    );

    // Two central entries sharing one local header.
    let a = Raw::deflated("a", &[b'x'; 1000]);
    let b = Raw {
        name: b"b".to_vec(),
        ..a.clone()
    };
    let overlap = finish(a.local_record(), &[(a.clone(), 0), (b, 0)]);
    assert_matches!(
        refused_alike(&overlap, Limits::default()),
        E::OverlappingEntries {
            index: 1,
            other: 0,
            ..
        }
    );

    // A local header naming another file than the central directory.
    let disagreeing = build(&[
        ok(),
        Raw {
            local_name: Some(b"evil.py".to_vec()),
            ..Raw::deflated("good.py", b"hello hello hello")
        },
    ]);
    assert_matches!(
        refused_alike(&disagreeing, Limits::default()),
        E::LocalHeaderMismatch {
            index: 1,
            field: "name",
            ..
        }
    );

    // A Unicode Path field giving the entry a second name.
    let mut renamed = Raw::stored("x.py", b"payload");
    renamed.central_extra = unicode_path(b"y.py", b"x.py");
    assert_matches!(
        refused_alike(&build(&[ok(), renamed]), Limits::default()),
        E::SecondName {
            index: 1,
            header: "central",
            ..
        }
    );

    // A symbolic link: refused, not listed as a file.
    let link = Raw {
        mode: Some(0o120777),
        ..Raw::stored("link", b"/etc/passwd")
    };
    assert_matches!(
        refused_alike(&build(&[ok(), link]), Limits::default()),
        E::Symlink { index: 1, .. }
    );
}

#[test]
fn limits_given_to_open_with_and_from_bytes_with_refuse_at_open_as_unzip_does() {
    let bytes = build(&[
        Raw::stored("a.py", &[b'a'; 100]),
        Raw::deflated("pkg/b.bin", &[0; 60_000]),
    ]);
    // Within the default limits the archive opens: the refusals below are the limits'.
    assert_eq!(
        Archive::from_bytes(bytes.clone()).unwrap().files().count(),
        2
    );
    let (_dir, path) = on_disk(&bytes);
    assert_eq!(Archive::open(&path).unwrap().files().count(), 2);

    let mut limits = Limits::default();
    limits.max_entry_size = 50_000;
    assert_matches!(
        refused_alike(&bytes, limits),
        E::EntryTooLarge {
            index: 1,
            size: 60_000,
            limit: 50_000,
            ..
        }
    );
    let mut limits = Limits::default();
    limits.max_entries = 1;
    assert_matches!(
        refused_alike(&bytes, limits),
        E::TooManyEntries { count: 2, limit: 1 }
    );
    let mut limits = Limits::default();
    limits.max_compression_ratio = 10;
    assert_matches!(
        refused_alike(&bytes, limits),
        E::CompressionRatio { index: 1, .. }
    );
}

#[test]
fn a_member_with_a_wrong_crc_opens_and_fails_its_own_read_with_crc_mismatch() {
    let content = b"def f():\n    return 1\n".repeat(50);
    let mut bad = Raw::deflated("pkg/bad.py", &content);
    bad.crc ^= 1;
    let bytes = build(&[Raw::stored("pkg/good.py", b"good = True\n"), bad]);
    let (_dir, path) = on_disk(&bytes);
    for archive in [
        Archive::open(&path).unwrap(),
        Archive::from_bytes(bytes.clone()).unwrap(),
    ] {
        let actual = crc32fast::hash(&content);
        assert_matches!(
            archive.read("pkg/bad.py"),
            Err(E::CrcMismatch { index: 1, ref name, expected, actual: got })
                if name == "pkg/bad.py" && expected == actual ^ 1 && got == actual
        );
        // The error is the member's alone: the others read, and it fails again.
        assert_eq!(archive.read("pkg/good.py").unwrap(), b"good = True\n");
        assert_matches!(archive.read("pkg/bad.py"), Err(E::CrcMismatch { .. }));
    }
}

#[test]
fn a_path_too_long_for_any_destination_opens_and_reads_since_nothing_is_extracted() {
    // 16 components of 253 bytes: each name fits, the whole path (4 KiB) fits under
    // no real directory. `PathTooLong` depends on where an archive goes; an `Archive`
    // goes nowhere, so it opens (as its docs say), where an extraction refuses it.
    let name = vec!["d".repeat(253); 16].join("/") + "/METADATA";
    let bytes = build(&[Raw::stored(&name, METADATA)]);
    let dir = tempfile::tempdir().unwrap();
    let (_archive_dir, path) = on_disk(&bytes);
    assert_matches!(
        Unzipper::new().unzip(&path, dir.path().join("out")),
        Err(E::PathTooLong { .. })
    );
    assert_eq!(
        Archive::from_bytes(bytes).unwrap().read(&name).unwrap(),
        METADATA
    );
}

#[test]
fn a_member_that_inflates_past_its_declared_size_stops_there_with_exceeds_declared_size() {
    // The CRC is right for the real content; only the declared size lies.
    let content = vec![b'z'; 100_000];
    let mut entry = Raw::deflated("big.bin", &content);
    entry.size = 1_000;
    let bytes = build(&[entry]);
    let (_dir, path) = on_disk(&bytes);
    for archive in [
        Archive::open(&path).unwrap(),
        Archive::from_bytes(bytes.clone()).unwrap(),
    ] {
        let mut out = Vec::new();
        assert_matches!(
            archive.read_to("big.bin", &mut out),
            Err(E::ExceedsDeclaredSize {
                index: 0,
                declared: 1_000,
                ..
            })
        );
        // Output stopped at the declared size: the rest was never handed over.
        assert!(out.len() <= 1_000, "{} bytes reached the writer", out.len());
        assert_matches!(archive.read("big.bin"), Err(E::ExceedsDeclaredSize { .. }));
    }
}

const READER_ARCHIVES: &str = "INFLIGHT_TEST_MEMBERS_ARCHIVES";

/// Not a test of its own: the process of `reading_members_writes_nothing_anywhere`,
/// which reads the archives in the directory it is given, with its temporary
/// directory and its working directory set to empty directories of the parent's.
/// Without that environment it does nothing, so `--include-ignored` passes.
#[test]
#[ignore = "helper process, run by reading_members_writes_nothing_anywhere"]
fn members_reader_process() {
    let Some(dir) = std::env::var_os(READER_ARCHIVES).map(std::path::PathBuf::from) else {
        return;
    };
    let archive = Archive::open(dir.join("wheel.whl")).unwrap();
    let all = members(&archive);
    assert_eq!(all.len(), 6);
    for name in all.keys() {
        archive.read_to(name, &mut io::sink()).unwrap();
    }
    assert_matches!(archive.read("missing"), Err(E::NoSuchMember { .. }));
    let other = Archive::open(dir.join("bad.zip")).unwrap();
    assert_matches!(other.read("bad.txt"), Err(E::CrcMismatch { .. }));
    assert_eq!(other.read("ok.txt").unwrap(), b"ok");
    let from_bytes = Archive::from_bytes(std::fs::read(dir.join("wheel.whl")).unwrap()).unwrap();
    assert_eq!(members(&from_bytes), all);
    // Refused at open, from a file and from bytes.
    let slip = dir.join("slip.zip");
    assert_matches!(Archive::open(&slip), Err(E::ParentEscape { .. }));
    let slip = std::fs::read(slip).unwrap();
    assert_matches!(Archive::from_bytes(slip), Err(E::ParentEscape { .. }));
}

#[test]
fn reading_members_writes_nothing_anywhere() {
    // The archives: a wheel, one with a member that fails its read, one refused.
    let archives = tempfile::tempdir().unwrap();
    std::fs::write(archives.path().join("wheel.whl"), wheel()).unwrap();
    let mut bad = Raw::stored("bad.txt", b"corrupt");
    bad.crc ^= 1;
    let bad = build(&[Raw::stored("ok.txt", b"ok"), bad]);
    std::fs::write(archives.path().join("bad.zip"), bad).unwrap();
    let slip = build(&[Raw::stored("../evil.py", b"payload")]);
    std::fs::write(archives.path().join("slip.zip"), slip).unwrap();
    let before = found(archives.path());
    // The reading process's temporary and working directories, empty.
    let (temp, cwd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let exe = std::env::current_exe().unwrap();
    let output = within(secs(60), "the reading process", {
        let (dir, temp, cwd) = (
            archives.path().to_owned(),
            temp.path().to_owned(),
            cwd.path().to_owned(),
        );
        move || {
            std::process::Command::new(exe)
                .args([
                    "--ignored",
                    "--exact",
                    "members::members_reader_process",
                    "--test-threads=1",
                ])
                .env(READER_ARCHIVES, dir)
                .env("TMPDIR", &temp)
                .env("TMP", &temp)
                .env("TEMP", &temp)
                .current_dir(cwd)
                .output()
                .unwrap()
        }
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the reading process failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        found(archives.path()),
        before,
        "reading changed the archives' directory"
    );
    assert!(found(temp.path()).is_empty(), "{:?}", found(temp.path()));
    assert!(found(cwd.path()).is_empty(), "{:?}", found(cwd.path()));
}

/// A writer that takes `room` bytes, then fails.
struct Full {
    room: usize,
    taken: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.taken >= self.room {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "the disk is full",
            ));
        }
        let n = buf.len().min(self.room - self.taken);
        self.taken += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_to_a_writer_that_fails_is_a_write_error_with_the_writer_s_error() {
    let bytes = wheel();
    let archive = Archive::from_bytes(bytes).unwrap();
    // At the first byte, and half-way through a member of several buffers.
    for room in [0, 10_000] {
        let mut out = Full { room, taken: 0 };
        match archive.read_to("demo/_native.so", &mut out) {
            Err(E::Write { source, .. }) => {
                assert_eq!(source.kind(), io::ErrorKind::StorageFull);
                assert_eq!(source.to_string(), "the disk is full");
            }
            other => panic!("room for {room} bytes: {other:?}"),
        }
        assert_eq!(out.taken, room);
    }
    // The archive is still good for the next read.
    assert_eq!(archive.read("demo/_native.so").unwrap().len(), 20_000);
}

#[test]
fn one_archive_is_read_by_many_threads_at_once_each_getting_its_members_bytes() {
    let bytes = wheel();
    let (_dir, path) = on_disk(&bytes);
    let expected = extracted(&path);
    let archive = Arc::new(Archive::open(&path).unwrap());
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let results = within(secs(60), "eight threads reading one archive", {
        let archive = Arc::clone(&archive);
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (archive, barrier) = (Arc::clone(&archive), Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        let mut names: Vec<String> = archive.files().map(String::from).collect();
                        let len = names.len();
                        names.rotate_left(t % len);
                        barrier.wait();
                        let mut read = BTreeMap::new();
                        for _ in 0..20 {
                            for name in &names {
                                read.insert(name.clone(), archive.read(name).unwrap());
                            }
                        }
                        read
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    for read in results {
        assert!(read == expected, "a thread read other bytes");
    }
}

/// A writer that, on its first write, reads another member of the same archive and
/// extracts an archive, on the same thread: what a caller's `Write` may do.
struct Reentrant<'a> {
    archive: &'a Archive,
    bytes: Vec<u8>,
    got: Vec<u8>,
    /// What the nested read and extraction gave: the member, and the files written.
    nested: Option<Nested>,
}

type Nested = (Result<Vec<u8>, E>, Result<usize, E>);

impl Write for Reentrant<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.nested.is_none() {
            let member = self.archive.read("b.txt");
            let dir = tempfile::tempdir().unwrap();
            let archive = dir.path().join("a.zip");
            std::fs::write(&archive, &self.bytes).unwrap();
            let extracted = Unzipper::new()
                .unzip(&archive, dir.path().join("out"))
                .map(|done| done.files);
            self.nested = Some((member, extracted));
        }
        self.got.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_given_to_read_to_may_read_members_and_extract_on_the_same_thread() {
    let bytes = build(&[
        Raw::deflated("a.txt", &b"alpha ".repeat(1000)),
        Raw::deflated("b.txt", b"beta"),
    ]);
    let archive = Archive::from_bytes(bytes.clone()).unwrap();
    let mut out = Reentrant {
        archive: &archive,
        bytes,
        got: Vec::new(),
        nested: None,
    };
    archive.read_to("a.txt", &mut out).unwrap();
    assert_eq!(out.got, b"alpha ".repeat(1000));
    let (member, extracted) = out.nested.unwrap();
    assert_eq!(member.unwrap(), b"beta");
    assert_eq!(extracted.unwrap(), 2);
}
