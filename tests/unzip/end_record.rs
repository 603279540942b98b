//! One end record, consistent zip64 records, and counts that match the central
//! directory. Each hostile archive is refused with its own variant and leaves nothing
//! behind; CPython is shown reading it differently where it does; each honest
//! counterpart extracts to exactly what CPython extracts.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Archive, EndRecord, Raw, Zip64, build};
use crate::python;
use crate::readers;
use crate::support::{Scene, reject};

fn two() -> Vec<Raw> {
    vec![
        Raw::stored("visible.txt", b"everyone sees this"),
        Raw::deflated("second.txt", &b"only CPython sees this ".repeat(20)),
    ]
}

fn with_end(end: EndRecord) -> Vec<u8> {
    Archive {
        end,
        ..Archive::new(two())
    }
    .bytes()
}

#[test]
fn an_end_record_counting_fewer_entries_than_the_directory_holds_is_refused() {
    for declared in [1u16, 0] {
        let bytes = with_end(EndRecord {
            entries: Some(declared),
            entries_on_disk: Some(declared),
            ..EndRecord::default()
        });
        let scene = Scene::new(&bytes);
        if let Some(names) = python::names(&scene.archive) {
            assert_eq!(
                names,
                ["visible.txt", "second.txt"],
                "CPython walks by size"
            );
        }
        assert_matches!(
            reject(&bytes),
            E::EntryCountMismatch { record: "end record", declared: d, found: 2 } if d == u64::from(declared)
        );
    }
}

#[test]
fn an_end_record_counting_more_entries_than_the_directory_holds_is_refused() {
    let bytes = with_end(EndRecord {
        entries: Some(3),
        entries_on_disk: Some(3),
        ..EndRecord::default()
    });
    assert_matches!(
        reject(&bytes),
        E::EntryCountMismatch {
            declared: 3,
            found: 2,
            ..
        }
    );
}

#[test]
fn a_zip64_end_record_counting_fewer_entries_is_refused() {
    let bytes = Archive {
        zip64: Some(Zip64 {
            entries: Some(1),
            entries_on_disk: Some(1),
            saturate: true,
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EntryCountMismatch {
            record: "zip64 end record",
            declared: 1,
            found: 2
        }
    );
}

#[test]
fn a_32_bit_count_disagreeing_beside_a_zip64_record_is_refused() {
    // Not saturated, so the zip crate takes it; CPython takes the zip64 record.
    let bytes = Archive {
        zip64: Some(Zip64::default()),
        end: EndRecord {
            entries: Some(1),
            entries_on_disk: Some(1),
            ..EndRecord::default()
        },
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EntryCountMismatch {
            record: "end record",
            declared: 1,
            found: 2
        }
    );
}

#[test]
fn honest_end_records_with_and_without_zip64_extract_as_cpython_does() {
    readers::assert_same_as_readers(&build(&two()));
    for saturate in [true, false] {
        let bytes = Archive {
            zip64: Some(Zip64 {
                saturate,
                ..Zip64::default()
            }),
            ..Archive::new(two())
        }
        .bytes();
        let (done, _) = readers::assert_same_as_readers(&bytes);
        assert_eq!(done.files, 2);
    }
}

#[test]
fn junk_inside_the_central_directory_is_refused() {
    let bytes = Archive {
        central_junk: b"JUNK JUNK JUNK JUNK JUNK JUNK JUNK JUNK JUNK JUNK".to_vec(),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(reject(&bytes), E::CentralDirectoryJunk { .. });
}

#[test]
fn a_central_directory_that_runs_into_the_end_record_is_refused() {
    let honest = build(&two());
    let cd_size = u32::from_le_bytes(
        honest[honest.len() - 10..honest.len() - 6]
            .try_into()
            .unwrap(),
    );
    let bytes = with_end(EndRecord {
        cd_size: Some(cd_size + 4),
        ..EndRecord::default()
    });
    assert_matches!(reject(&bytes), E::CentralDirectoryExtent { .. });
}

#[test]
fn a_comment_holding_an_end_record_signature_is_refused() {
    let bytes = Archive {
        comment: b"built by PK\x05\x06 tools".to_vec(),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::SignatureInComment {
            signature: "end of central directory",
            ..
        }
    );
}

#[test]
fn a_second_archive_hidden_in_the_comment_is_refused() {
    let hidden = build(&[Raw::stored("evil.txt", b"only CPython extracts this")]);
    let bytes = Archive {
        comment: hidden,
        ..Archive::new(two())
    }
    .bytes();
    let scene = Scene::new(&bytes);
    if let Some(names) = python::names(&scene.archive) {
        assert_eq!(
            names,
            ["evil.txt"],
            "CPython reads the archive in the comment"
        );
    }
    assert_matches!(
        reject(&bytes),
        E::SignatureInComment {
            signature: "end of central directory",
            ..
        }
    );
    // Without its end record, a hidden archive's other records are refused too.
    let mut pieces = build(&[Raw::stored("evil.txt", b"x")]);
    pieces.truncate(pieces.len() - 22);
    let bytes = Archive {
        comment: pieces,
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::SignatureInComment {
            signature: "local file header",
            ..
        }
    );
}

#[test]
fn a_text_comment_is_accepted() {
    let bytes = Archive {
        comment: b"Built by an honest tool. PK is fine, signatures are not.".to_vec(),
        ..Archive::new(two())
    }
    .bytes();
    readers::assert_same_as_readers(&bytes);
}

#[test]
fn bytes_after_the_comment_are_refused() {
    for comment in [Vec::new(), b"a comment".to_vec()] {
        let bytes = Archive {
            comment,
            suffix: b"trailing bytes".to_vec(),
            ..Archive::new(two())
        }
        .bytes();
        let scene = Scene::new(&bytes);
        if let Some(names) = python::names(&scene.archive) {
            assert_eq!(names.len(), 2, "CPython ignores trailing bytes");
        }
        assert_matches!(reject(&bytes), E::CommentNotAtEnd { .. });
    }
}

#[test]
fn a_comment_length_past_the_end_of_the_file_is_refused() {
    let bytes = Archive {
        comment: b"short".to_vec(),
        end: EndRecord {
            comment_len: Some(500),
            ..EndRecord::default()
        },
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::CommentNotAtEnd {
            comment_len: 500,
            ..
        }
    );
}

#[test]
fn a_zip64_end_record_with_extensible_data_is_refused() {
    // CPython assumes 56 bytes right before the locator, misses the record and falls
    // back to the 32-bit values; the zip crate follows the locator.
    let bytes = Archive {
        zip64: Some(Zip64 {
            extensible: b"\x99\x99\x04\x00data".to_vec(),
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "zip64 end record locator",
            ..
        }
    );
}

#[test]
fn a_zip64_end_record_whose_size_field_lies_is_refused() {
    let bytes = Archive {
        zip64: Some(Zip64 {
            record_size: Some(60),
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "zip64 end record",
            field: "size (extensible data)"
        }
    );
}

#[test]
fn a_zip64_locator_pointing_elsewhere_is_refused() {
    let bytes = Archive {
        zip64: Some(Zip64 {
            locator_offset: Some(0),
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "zip64 end record locator",
            ..
        }
    );
}

#[test]
fn zip64_values_that_disagree_with_unsaturated_32_bit_values_are_refused() {
    // CPython takes the zip64 offset, the zip crate the 32-bit one (nothing saturated).
    let bytes = Archive {
        zip64: Some(Zip64 {
            cd_offset: Some(0),
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "end record",
            field: "central directory offset"
        }
    );
}

#[test]
fn multi_disk_archives_are_refused() {
    let bytes = with_end(EndRecord {
        disk: 1,
        cd_disk: 1,
        ..EndRecord::default()
    });
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "end record",
            ..
        }
    );
    let bytes = Archive {
        zip64: Some(Zip64 {
            total_disks: Some(2),
            ..Zip64::default()
        }),
        ..Archive::new(two())
    }
    .bytes();
    assert_matches!(
        reject(&bytes),
        E::EndRecordMismatch {
            record: "zip64 end record locator",
            field: "disk numbers"
        }
    );
}

#[test]
fn an_empty_archive_with_and_without_a_comment_is_accepted() {
    for comment in [Vec::new(), b"nothing here".to_vec()] {
        let bytes = Archive {
            comment,
            ..Archive::new(Vec::new())
        }
        .bytes();
        let (done, tree) = readers::assert_same_as_readers(&bytes);
        assert_eq!((done.files, done.dirs), (0, 0));
        assert!(tree.is_empty());
    }
}
