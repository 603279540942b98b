//! Issue 21, class 1: the type of an entry must not depend on the reader. Info-ZIP
//! makes symbolic links from the Unix mode under several host bytes, skips "volume
//! labels"; libarchive takes a mode from its own `xl` extra field, Info-ZIP from ASi's.
//! Each archive here is refused, and each test shows the reader that would have made
//! something else than CPython's regular file.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Raw, asi_unix, build, libarchive_xl};
use crate::readers::{self, Extraction, Found, Reader};

/// `x`, a regular file holding a link target, with `edit` applied.
fn entry(edit: impl FnOnce(&mut Raw)) -> Vec<u8> {
    let mut raw = Raw::stored("x", b"target.txt");
    edit(&mut raw);
    build(&[Raw::stored("target.txt", b"the target"), raw])
}

/// What `reader` made of `x`, if it ran.
fn what_made(extractions: &[(Reader, Extraction)], reader: Reader) -> Option<Option<Found>> {
    extractions
        .iter()
        .find(|(r, _)| *r == reader)
        .map(|(_, e)| e.listing.get("x").cloned())
}

fn is_link(found: Option<Option<Found>>) -> bool {
    matches!(found, None | Some(Some(Found::Link(_))))
}

fn is_file(found: Option<Option<Found>>) -> bool {
    matches!(found, None | Some(Some(Found::File(_))))
}

#[test]
fn a_link_mode_under_a_host_info_zip_honours_is_refused() {
    // Info-ZIP reads the mode under host 0 when its owner bits match the DOS
    // attributes (rw- for a file without the read-only bit), and under 2, 5, 16, 30.
    for (made_by, external) in [
        (0x0014, 0o120_644 << 16 | 0x20),
        (0x0214, 0o120_777 << 16),
        (0x0514, 0o120_777 << 16),
        (0x1014, 0o120_777 << 16),
        (0x1e14, 0o120_777 << 16),
    ] {
        let bytes = entry(|r| {
            r.made_by = Some(made_by);
            r.external = Some(external);
        });
        let (error, readers) = readers::refused_where_readers_differ(&bytes);
        assert_matches!(
            error,
            E::AmbiguousType {
                index: 1,
                kind: "symbolic link",
                ..
            }
        );
        assert!(
            is_link(what_made(&readers, Reader::InfoZip)),
            "{made_by:#x}"
        );
        assert!(
            is_file(what_made(&readers, Reader::CPython)),
            "{made_by:#x}"
        );
    }
}

#[test]
fn a_link_or_special_mode_is_refused_whatever_the_host_byte() {
    // Hosts whose modes no reader here acts on today: refused all the same, since
    // which hosts a reader honours is that reader's choice (Info-ZIP 6.10 differs).
    for host in [1u16, 6, 7, 11, 14, 19, 255] {
        for (mode, kind) in [(0o120_777, "symbolic link"), (0o020_644, "special file")] {
            let bytes = entry(|r| {
                r.made_by = Some(host << 8 | 20);
                r.external = Some(mode << 16);
            });
            assert_matches!(
                crate::support::reject(&bytes),
                E::AmbiguousType { index: 1, kind: k, .. } if k == kind
            );
        }
    }
}

#[test]
fn a_unix_host_link_or_device_keeps_its_own_variant() {
    let link = entry(|r| r.mode = Some(0o120_777));
    assert_matches!(crate::support::reject(&link), E::Symlink { index: 1, .. });
    let device = entry(|r| r.mode = Some(0o020_644));
    assert_matches!(
        crate::support::reject(&device),
        E::SpecialFile {
            index: 1,
            mode: 0o020_644,
            ..
        }
    );
}

#[test]
fn a_volume_label_attribute_is_refused_where_info_zip_skips_the_entry() {
    let bytes = entry(|r| {
        r.made_by = Some(0x0014);
        r.external = Some(0x08);
    });
    let (error, readers) = readers::refused_where_readers_differ(&bytes);
    assert_matches!(
        error,
        E::AmbiguousType {
            index: 1,
            kind: "volume label",
            ..
        }
    );
    if let Some(found) = what_made(&readers, Reader::InfoZip) {
        assert_eq!(found, None, "Info-ZIP skips a volume label");
    }
    assert!(is_file(what_made(&readers, Reader::CPython)));
}

#[test]
fn an_xl_field_that_makes_a_link_for_libarchive_is_refused_in_either_header() {
    let xl = libarchive_xl(0x0314, 0o120_777 << 16);
    for local in [true, false] {
        let bytes = entry(|r| {
            if local {
                r.local_extra = xl.clone();
            } else {
                r.central_extra = xl.clone();
            }
        });
        let (error, readers) = readers::refused_where_readers_differ(&bytes);
        assert_matches!(
            error,
            E::AmbiguousType { index: 1, kind: "symbolic link", ref why, .. }
                if why.contains("0x6c78")
        );
        assert!(
            is_link(what_made(&readers, Reader::Libarchive)),
            "local: {local}"
        );
        assert!(is_file(what_made(&readers, Reader::InfoZip)));
    }
}

#[test]
fn an_asi_field_that_makes_a_link_for_info_zip_is_refused() {
    // No mode in the external attributes: Info-ZIP takes the ASi field's.
    let bytes = entry(|r| {
        r.external = Some(0);
        r.central_extra = asi_unix(0o120_777, b"target.txt");
    });
    let (error, readers) = readers::refused_where_readers_differ(&bytes);
    assert_matches!(
        error,
        E::AmbiguousType { index: 1, kind: "symbolic link", ref why, .. } if why.contains("0x756e")
    );
    assert!(is_link(what_made(&readers, Reader::InfoZip)));
    assert!(is_file(what_made(&readers, Reader::Libarchive)));
}

#[test]
fn regular_modes_under_any_host_are_accepted_and_read_alike() {
    let mut entries = Vec::new();
    for (i, host) in [0u16, 2, 3, 5, 11, 16, 19, 30].into_iter().enumerate() {
        for (j, mode) in [0, 0o100_644, 0o100_755, 0o100_444].into_iter().enumerate() {
            let mut file = Raw::stored(&format!("h{host}/m{j}"), format!("{i}{j}").as_bytes());
            file.made_by = Some(host << 8 | 20);
            file.external = Some(mode << 16 | if mode == 0o100_444 { 0x21 } else { 0x20 });
            entries.push(file);
        }
        let mut dir = Raw::dir(&format!("h{host}/d/"));
        dir.made_by = Some(host << 8 | 20);
        entries.push(dir);
    }
    let (done, _) = readers::assert_same_as_readers(&build(&entries));
    assert_eq!((done.files, done.dirs), (32, 16));
}
