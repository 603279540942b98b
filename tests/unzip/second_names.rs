//! Issue 21, class 3: the name checked and written is the raw name, and no reader may
//! pick another: a Unicode Path field (0x7075) naming something else, in either header
//! and whatever its version and CRC, or bytes over 0x7F without the UTF-8 flag (each
//! reader decodes them its own way), are refused.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Raw, build, extra_field, unicode_path};
use crate::readers::{self, Reader};
use crate::support::reject;

fn names_of(extractions: &[(Reader, readers::Extraction)], reader: Reader) -> Option<Vec<String>> {
    extractions
        .iter()
        .find(|(r, _)| *r == reader)
        .map(|(_, e)| e.listing.keys().cloned().collect())
}

#[test]
fn a_unicode_path_naming_another_file_is_refused_in_either_header() {
    for local in [false, true] {
        let mut entry = Raw::stored("x.py", b"payload");
        let field = unicode_path(b"y.py", b"x.py");
        if local {
            entry.local_extra = field;
        } else {
            entry.central_extra = field;
        }
        let (error, extractions) = readers::refused_where_readers_differ(&build(&[entry]));
        assert_matches!(
            error,
            E::SecondName { index: 0, ref name, header, ref second }
                if name == "x.py" && second == "y.py"
                    && header == if local { "local" } else { "central" }
        );
        // Info-ZIP takes the central field, libarchive the local one; CPython (up to
        // 3.11) neither.
        let taker = if local {
            Reader::Libarchive
        } else {
            Reader::InfoZip
        };
        if let Some(names) = names_of(&extractions, taker) {
            assert_eq!(names, ["y.py"], "{}", taker.name());
        }
        if let Some(names) = names_of(&extractions, Reader::CPython) {
            assert_eq!(names, ["x.py"]);
        }
    }
}

#[test]
fn a_second_name_with_another_version_or_a_wrong_crc_is_refused_too() {
    // libarchive ignores the version byte; the zip crate ignores it too.
    let mut v2 = unicode_path(b"y", b"x");
    v2[4] = 2;
    let wrong_crc = unicode_path(b"y", b"not the raw name");
    for field in [v2, wrong_crc] {
        let mut entry = Raw::stored("x", b"payload");
        entry.local_extra = field;
        assert_matches!(reject(&build(&[entry])), E::SecondName { index: 0, .. });
    }
}

#[test]
fn a_clean_unicode_path_cannot_hide_a_parent_escape() {
    // Every name a reader could use passes every rule: the raw one is checked first.
    let mut entry = Raw::stored("../../evil.py", b"payload");
    entry.central_extra = unicode_path(b"evil.py", b"../../evil.py");
    assert_matches!(reject(&build(&[entry])), E::ParentEscape { index: 0, .. });
}

#[test]
fn a_unicode_path_that_repeats_the_raw_name_is_accepted() {
    let mut entry = Raw::stored("pkg/caf\u{e9}.py", b"print(1)\n");
    entry.flags = 1 << 11;
    let name = entry.name.clone();
    entry.central_extra = unicode_path(&name, &name);
    entry.local_extra = unicode_path(&name, &name);
    let (_, tree) = readers::assert_same_as_readers(&build(&[entry]));
    assert!(tree.contains_key("pkg/caf\u{e9}.py"));
}

#[test]
fn a_unicode_path_too_short_for_its_header_is_refused() {
    let mut entry = Raw::stored("x", b"payload");
    entry.central_extra = extra_field(0x7075, &[1, 0]);
    assert_matches!(
        reject(&build(&[entry])),
        E::ExtraFieldMismatch { index: 0, .. }
    );
}

#[test]
fn a_non_ascii_name_without_the_utf8_flag_is_refused() {
    let mut entry = Raw::stored("x", b"payload");
    entry.name = "caf\u{e9}".as_bytes().to_vec();
    let (error, extractions) = readers::refused_where_readers_differ(&build(&[entry]));
    assert_matches!(error, E::AmbiguousEncoding { index: 0, .. });
    // CPython decodes the bytes as CP437, the others write them as they are.
    if let (Some(cpython), Some(infozip)) = (
        names_of(&extractions, Reader::CPython),
        names_of(&extractions, Reader::InfoZip),
    ) {
        assert_ne!(cpython, infozip);
    }
}

#[test]
fn a_flagged_utf8_name_is_read_alike_by_every_reader() {
    let mut entry = Raw::stored("x", b"payload");
    entry.name = "pkg/\u{e9}t\u{e9}.py".as_bytes().to_vec();
    entry.flags = 1 << 11;
    let (_, tree) = readers::assert_same_as_readers(&build(&[entry]));
    assert_eq!(
        tree.get("pkg/\u{e9}t\u{e9}.py"),
        Some(&Some(b"payload".to_vec()))
    );
}

#[test]
fn a_unicode_path_in_an_archive_with_a_narrow_data_descriptor_is_refused() {
    // Info-ZIP 6.0 sets its zip64 flag when it takes a Unicode Path field and keeps it
    // across entries: it reads the next 12-byte descriptor as a 20-byte one, takes the
    // 8 bytes too many for overlapping data, and stops ("possible zip bomb").
    let mut named = Raw::stored("a.py", b"named");
    named.central_extra = unicode_path(b"a.py", b"a.py");
    let streamed = Raw::deflated("b.py", &b"streamed ".repeat(20)).streamed();
    let bytes = build(&[named, streamed, Raw::stored("c.py", b"after")]);
    let (error, extractions) = readers::refused_where_readers_differ(&bytes);
    assert_matches!(
        error,
        E::ExtraFieldMismatch {
            index: 1,
            header: "central",
            ..
        }
    );
    if let Some((_, infozip)) = extractions.iter().find(|(r, _)| *r == Reader::InfoZip) {
        assert!(
            matches!(infozip.status, readers::Status::Failed(_)),
            "{:?}",
            infozip.status
        );
    }
}
