//! Directory entries carry no data, and an entry is a directory by its name.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Raw, build};
use crate::python;
use crate::readers;
use crate::support::{Scene, reject};

#[test]
fn a_directory_entry_carrying_bytes_is_refused() {
    let mut stored = Raw::stored("d/", b"hidden payload that every reader drops");
    stored.mode = Some(0o040755);
    let mut deflated = Raw::deflated("d/", &b"hidden payload ".repeat(30));
    deflated.mode = Some(0o040755);
    let mut sized_only = Raw::dir("d/");
    sized_only.size = 10;
    sized_only.local_size = Some(10);
    let mut crc_only = Raw::dir("d/");
    crc_only.crc = 0x1234;
    for entry in [stored, deflated, sized_only, crc_only] {
        let bytes = build(&[Raw::stored("f.txt", b"f"), entry]);
        assert_matches!(
            reject(&bytes),
            E::DirectoryWithData { index: 1, ref name } if name == "d/"
        );
    }
}

#[test]
fn a_deflated_directory_with_trailing_bytes_after_the_empty_stream_is_refused() {
    let mut entry = Raw::dir("d/");
    entry.method = 8;
    entry.data = vec![0x03, 0x00, b'X', b'Y'];
    entry.csize = 4;
    assert_matches!(reject(&build(&[entry])), E::DirectoryWithData { .. });
}

#[test]
fn a_directory_stored_or_deflated_as_an_empty_stream_is_accepted() {
    // CPython's `writestr("d/", "")` in a deflated archive writes `03 00`.
    let mut deflated = Raw::dir("deflated/");
    deflated.method = 8;
    deflated.data = vec![0x03, 0x00];
    deflated.csize = 2;
    let mut stored_block = Raw::dir("stored-block/");
    stored_block.method = 8;
    stored_block.data = vec![0x01, 0x00, 0x00, 0xFF, 0xFF];
    stored_block.csize = 5;
    let bytes = build(&[Raw::dir("plain/"), deflated, stored_block]);
    let (done, tree) = readers::assert_same_as_readers(&bytes);
    assert_eq!(done.dirs, 3);
    assert!(tree.values().all(Option::is_none));
}

#[test]
fn a_name_without_slash_whose_mode_says_directory_is_refused() {
    let mut by_mode = Raw::stored("payload", b"CPython writes me as a file");
    by_mode.mode = Some(0o040755);
    let mut empty_by_mode = Raw::stored("empty", b"");
    empty_by_mode.mode = Some(0o040755);
    let mut by_dos = Raw::stored("dos", b"data");
    by_dos.mode = None;
    by_dos.dos_attributes = 0x10;
    for entry in [by_mode, empty_by_mode, by_dos] {
        let bytes = build(&[entry]);
        let scene = Scene::new(&bytes);
        if python::available() {
            let out = scene.root.path().join("py");
            std::process::Command::new("python3")
                .args([
                    "-c",
                    "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
                ])
                .arg(&scene.archive)
                .arg(&out)
                .status()
                .unwrap();
            let tree = python::tree(&out);
            assert!(
                tree.values().all(Option::is_some),
                "CPython writes a file: {tree:?}"
            );
            std::fs::remove_dir_all(&out).unwrap();
        }
        assert_matches!(reject(&bytes), E::DirectoryWithoutSlash { index: 0, .. });
    }
}

#[test]
fn a_directory_name_with_a_regular_file_mode_is_still_a_directory() {
    let mut entry = Raw::stored("d/", b"");
    entry.mode = Some(0o100644);
    let (done, _) = readers::assert_same_as_readers(&build(&[entry]));
    assert_eq!((done.files, done.dirs), (0, 1));
}
