//! Archives from real writers keep being accepted and extract to exactly what CPython
//! extracts: CPython's own (seekable, streaming with data descriptors, zip64), the
//! zip crate's (seekable, streaming, zip64), Info-ZIP's `zip` when installed, and
//! 70,000 entries (a zip64 end record with a saturated 32-bit count) from both.

use std::io::{Cursor, Write};
use std::process::Command;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use inflight::Unzipper;

use crate::python;
use crate::readers;
use crate::round_trip::semi_compressible;
use crate::support::Scene;

/// A wheel-like tree for CPython to write: packages, a dist-info, an empty
/// directory entry, an empty file and a larger binary.
const PY_WHEEL: &str = r#"
import sys, zipfile, io
def fill(z, zip64=False):
    for i in range(40):
        z.writestr(f"pkg/sub{i % 4}/mod{i}.py", f"def f{i}():\n    return {i}\n" * (i + 1))
    z.writestr("pkg/empty_dir/", "")
    z.writestr("pkg/empty.txt", "")
    with z.open("pkg/_native.so", "w", force_zip64=zip64) as f:
        f.write(bytes(range(256)) * 400)
    z.writestr("pkg-1.0.dist-info/RECORD", "pkg/__init__.py,,\n")
"#;

#[test]
fn cpython_archives_seekable_and_streamed_extract_as_cpython_does() {
    let scripts = [
        // Seekable, deflated: directories written as deflated empty streams.
        "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z: fill(z)",
        "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z: fill(z)",
        // Seekable with zip64 local headers.
        "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z: fill(z, zip64=True)",
        // A non-seekable stream: flag bit 3 and data descriptors, 32- and 64-bit.
        "class S(io.RawIOBase):\n    def __init__(s, f): s.f = f\n    def writable(s): return True\n    def write(s, b): return s.f.write(b)\n\
with open(sys.argv[1], 'wb') as f:\n    with zipfile.ZipFile(S(f), 'w', zipfile.ZIP_DEFLATED) as z: fill(z, zip64=True)",
    ];
    for script in scripts {
        let Some(bytes) = python::write(&format!("{PY_WHEEL}\n{script}")) else {
            return;
        };
        let (done, _) = readers::assert_same_as_readers(&bytes);
        assert_eq!(done.files, 43, "{script}");
    }
}

/// The same wheel-like content through either of the zip crate's writers.
fn fill<W: Write + std::io::Seek>(zip: &mut ZipWriter<W>) {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..30 {
        zip.start_file(format!("pkg/m{i}.py"), options).unwrap();
        zip.write_all(format!("x = {i}\n").repeat(i).as_bytes())
            .unwrap();
    }
    zip.add_directory("pkg/data/", options).unwrap();
    zip.start_file("pkg/big.bin", options.large_file(true))
        .unwrap();
    zip.write_all(&semi_compressible(200_000, 5)).unwrap();
}

#[test]
fn zip_crate_archives_seekable_and_streamed_extract_as_cpython_does() {
    let mut seekable = ZipWriter::new(Cursor::new(Vec::new()));
    fill(&mut seekable);
    let seekable = seekable.finish().unwrap().into_inner();
    let mut streamed = ZipWriter::new_stream(Vec::new());
    fill(&mut streamed);
    let streamed = streamed.finish().unwrap().into_inner();
    // The stream writer really uses descriptors: flag bit 3 in the first local header.
    assert_eq!(streamed[6] & 0x08, 0x08);
    for bytes in [seekable, streamed] {
        let (done, _) = readers::assert_same_as_readers(&bytes);
        assert_eq!((done.files, done.dirs), (31, 2));
    }
}

#[test]
fn info_zip_archives_seekable_and_piped_extract_as_cpython_does() {
    if Command::new("zip").arg("-v").output().is_err() {
        eprintln!("skipped: Info-ZIP zip not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("pkg/empty")).unwrap();
    std::fs::write(src.join("pkg/a.py"), "print('a')\n".repeat(50)).unwrap();
    std::fs::write(src.join("pkg/b.bin"), semi_compressible(50_000, 2)).unwrap();
    let file = dir.path().join("file.zip");
    let ok = Command::new("zip")
        .current_dir(&src)
        .args(["-q", "-r"])
        .arg(&file)
        .arg("pkg")
        .status()
        .unwrap();
    assert!(ok.success());
    // Written to a pipe, `zip` cannot seek back: flag bit 3 and descriptors.
    let piped = Command::new("sh")
        .current_dir(&src)
        .args(["-c", "zip -q -r - pkg | cat"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    for bytes in [std::fs::read(&file).unwrap(), piped.stdout] {
        let (done, _) = readers::assert_same_as_readers(&bytes);
        assert_eq!((done.files, done.dirs), (2, 2));
    }
}

#[test]
fn seventy_thousand_entries_from_cpython_and_the_zip_crate_are_accepted() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..70_000 {
        zip.start_file(format!("d{}/f{i}", i % 100), options)
            .unwrap();
    }
    let from_zip_crate = zip.finish().unwrap().into_inner();
    let from_cpython = python::write(
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w') as z:\n    \
         for i in range(70000): z.writestr(f'd{i % 100}/f{i}', '')",
    );
    for bytes in std::iter::once(from_zip_crate).chain(from_cpython) {
        // Both end with a zip64 end record and a 32-bit count saturated at 0xFFFF.
        let end = bytes.len() - 22;
        assert_eq!(bytes[end - 20..end - 16], *b"PK\x06\x07");
        assert_eq!(bytes[end + 10..end + 12], [0xFF, 0xFF]);
        // Extracting 70,000 files twice more with CPython would triple the time of
        // this test; its listing is enough to show it reads the same entries.
        let shm = std::path::Path::new("/dev/shm");
        let scene = if shm.is_dir() {
            Scene::new_in(shm, &bytes)
        } else {
            Scene::new(&bytes)
        };
        let done = scene.unzip(&Unzipper::new()).unwrap();
        assert_eq!((done.files, done.dirs), (70_000, 100));
        if let Some(names) = python::names(&scene.archive) {
            assert_eq!(names.len(), 70_000);
        }
    }
}
