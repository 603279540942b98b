//! Issue 21, class 2: an extra field some reader acts on must say, in both headers,
//! what the raw fields it would override say; the others are ignored.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Raw, asi_unix, build, extra_field, libarchive_xl};
use crate::readers;
use crate::support::reject;

/// An extended timestamp (UT), an Info-ZIP Unix uid/gid (ux), an NTFS time field, a
/// JAR marker: fields no reader takes a name, a type or bytes from.
fn harmless() -> Vec<u8> {
    let mut area = extra_field(0x5455, &[1, 0x10, 0x20, 0x30, 0x40]);
    area.extend(extra_field(
        0x7875,
        &[1, 4, 0xe8, 3, 0, 0, 4, 0xe8, 3, 0, 0],
    ));
    area.extend(extra_field(0x000a, &[0; 32]));
    area.extend(extra_field(0xcafe, &[]));
    area
}

#[test]
fn fields_no_reader_acts_on_are_ignored_in_both_headers() {
    let mut entry = Raw::deflated("pkg/mod.py", &b"x = 1\n".repeat(40));
    entry.local_extra = harmless();
    entry.central_extra = [harmless(), vec![0, 0]].concat(); // and 2 bytes of padding
    let mut dir = Raw::dir("pkg/data/");
    dir.central_extra = harmless();
    readers::assert_same_as_readers(&build(&[entry, dir]));
}

#[test]
fn type_fields_that_say_what_the_central_record_says_are_accepted() {
    let mut xl = Raw::stored("xl.txt", b"libarchive reads my mode twice");
    xl.local_extra = libarchive_xl(0x0314, 0o100_644 << 16);
    xl.central_extra = libarchive_xl(0x0314, 0o100_644 << 16);
    let mut asi = Raw::stored("asi.txt", b"Info-ZIP could read my mode");
    asi.central_extra = asi_unix(0o100_644, b"");
    readers::assert_same_as_readers(&build(&[xl, asi]));
}

#[test]
fn type_fields_that_say_something_else_are_refused() {
    let cases = [
        libarchive_xl(0x0314, 0o100_755 << 16),
        libarchive_xl(0x0014, 0o100_644 << 16),
        asi_unix(0o100_600, b""),
    ];
    for area in cases {
        let mut entry = Raw::stored("f", b"data");
        entry.central_extra = area;
        assert_matches!(
            reject(&build(&[entry])),
            E::ExtraFieldMismatch {
                index: 0,
                header: "central",
                ..
            }
        );
    }
}

#[test]
fn a_local_zip64_field_extending_one_size_alone_is_refused() {
    // Java reads the compressed size at offset 8 of the field, Info-ZIP and
    // libarchive at 0.
    let content = b"zip64 by halves".repeat(4);
    let mut entry = Raw::stored("half", &content);
    entry.local_csize = Some(u32::MAX);
    let size = (content.len() as u64).to_le_bytes();
    entry.local_extra = extra_field(0x0001, &[size, size].concat());
    assert_matches!(
        reject(&build(&[entry])),
        E::ExtraFieldMismatch {
            index: 0,
            header: "local",
            problem: "extends one size of the local header but not the other",
            ..
        }
    );
}

#[test]
fn a_zip64_field_shorter_than_its_saturated_fields_is_refused() {
    let mut entry = Raw::stored("short", b"data");
    entry.csize = u32::MAX;
    entry.size = u32::MAX;
    entry.local_csize = Some(4);
    entry.local_size = Some(4);
    entry.central_extra = extra_field(0x0001, &4u64.to_le_bytes());
    assert_matches!(
        reject(&build(&[entry])),
        E::ExtraFieldMismatch {
            index: 0,
            header: "central",
            ..
        }
    );
}

#[test]
fn zip64_values_that_disagree_between_headers_are_refused() {
    let content = b"two sizes";
    let mut entry = Raw::stored("z", content);
    entry.local_csize = Some(u32::MAX);
    entry.local_size = Some(u32::MAX);
    let (real, other) = (content.len() as u64, content.len() as u64 + 1);
    entry.local_extra = extra_field(0x0001, &[real.to_le_bytes(), other.to_le_bytes()].concat());
    assert_matches!(
        reject(&build(&[entry])),
        E::LocalHeaderMismatch {
            index: 0,
            field: "compressed size",
            ..
        }
    );
}

#[test]
fn a_field_some_reader_acts_on_may_appear_only_once_per_header() {
    let mut entry = Raw::stored("twice", b"data");
    entry.local_extra = [extra_field(0x0001, &[]), extra_field(0x0001, &[])].concat();
    assert_matches!(
        reject(&build(&[entry])),
        E::ExtraFieldMismatch {
            problem: "appears twice",
            header: "local",
            ..
        }
    );
}

#[test]
fn an_extra_area_that_does_not_parse_is_refused_in_either_header() {
    let mut cut = extra_field(0x5455, &[1, 2, 3, 4, 5]);
    cut.pop();
    for local in [true, false] {
        let mut entry = Raw::stored("m", b"data");
        if local {
            entry.local_extra = cut.clone();
        } else {
            entry.central_extra = cut.clone();
        }
        assert_matches!(
            reject(&build(&[entry])),
            E::ExtraFieldMismatch {
                field: "extra field area",
                ..
            }
        );
    }
}

#[test]
fn aes_and_acorn_fields_are_refused() {
    for (id, data) in [
        (0x9901u16, &b"\x02\x00AE\x03\x08\x00"[..]),
        (0x4341, &[0u8; 20][..]),
    ] {
        let mut entry = Raw::stored("f", b"data");
        entry.central_extra = extra_field(id, data);
        assert_matches!(
            reject(&build(&[entry])),
            E::ExtraFieldMismatch { index: 0, .. }
        );
    }
}
