//! Data descriptors (general purpose flag bit 3): accepted when they agree with the
//! central directory, refused when they do not; their bytes belong to their entry.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Archive, Descriptor, FLAG_DESCRIPTOR, Raw, build};
use crate::readers;
use crate::support::reject;

fn content() -> Vec<u8> {
    b"streamed while the size was unknown\n".repeat(40)
}

/// A zip64 extra field for a local header with both sizes zero, as CPython writes it
/// for a streamed entry opened with `force_zip64=True`.
fn zip64_extra() -> Vec<u8> {
    let mut extra = vec![0x01, 0x00, 16, 0];
    extra.extend_from_slice(&[0; 16]);
    extra
}

#[test]
fn streamed_entries_with_each_descriptor_form_extract_as_cpython_does() {
    for signature in [true, false] {
        for wide in [false, true] {
            let mut entries = Vec::new();
            for (i, entry) in [
                Raw::deflated("deflated.txt", &content()),
                Raw::deflated("other.txt", b"a second entry"),
                Raw::deflated("empty.txt", b""),
            ]
            .into_iter()
            .enumerate()
            {
                let mut entry = entry.streamed();
                let descriptor = entry.descriptor.as_mut().unwrap();
                descriptor.signature = signature;
                descriptor.wide = wide;
                if wide {
                    entry.local_extra = zip64_extra();
                    entry.local_size = Some(u32::MAX);
                    entry.local_csize = Some(u32::MAX);
                }
                entry.name = format!("{i}-{signature}-{wide}-").into_bytes();
                entry.name.extend_from_slice(b"file");
                entries.push(entry);
            }
            let (done, _) = readers::assert_same_as_readers(&build(&entries));
            assert_eq!(done.files, 3, "signature {signature}, wide {wide}");
        }
    }
}

#[test]
fn a_stored_entry_with_a_descriptor_is_refused_since_only_the_central_directory_finds_its_end() {
    // CPython writes these to a stream it cannot seek (ZIP_STORED); a streaming
    // reader cannot tell where the data ends and the descriptor begins.
    for content in [&content()[..], b""] {
        let entry = Raw::stored("stored.txt", content).streamed();
        let bytes = build(&[entry, Raw::deflated("next.txt", b"next")]);
        assert_matches!(
            reject(&bytes),
            E::EntryEndUnknown {
                index: 0,
                method: 0,
                ..
            }
        );
    }
    // The same entries with their sizes known up front and no descriptor are fine.
    let bytes = build(&[Raw::stored("stored.txt", &content())]);
    readers::assert_same_as_readers(&bytes);
}

#[test]
fn a_deflated_entry_with_a_descriptor_and_no_bytes_is_refused_since_nothing_marks_its_end() {
    // The central directory says "no bytes": CPython and Info-ZIP make an empty
    // directory (or file). A streaming reader inflates what follows the header, the
    // descriptor itself, and refuses it or reads it as data.
    let mut dir = Raw::dir("d/");
    dir.method = 8;
    let mut file = Raw::stored("f.txt", b"");
    file.method = 8;
    for entry in [dir, file] {
        let bytes = build(&[entry.streamed(), Raw::stored("d/g.txt", b"next")]);
        assert_matches!(
            reject(&bytes),
            E::EntryEndUnknown {
                index: 0,
                method: 8,
                ..
            }
        );
    }
}

#[test]
fn local_sizes_known_up_front_may_stand_beside_a_descriptor() {
    // Info-ZIP's `zip` writing to a pipe knows the uncompressed size in advance.
    let mut entry = Raw::deflated("known.txt", &content()).streamed();
    entry.local_size = Some(entry.size);
    readers::assert_same_as_readers(&build(&[entry]));
}

#[test]
fn a_descriptor_disagreeing_with_the_central_directory_is_refused() {
    type Edit = fn(&mut Descriptor);
    let cases: [(&str, Edit); 3] = [
        ("crc", |d| d.crc ^= 1),
        ("compressed size", |d| d.csize += 1),
        ("uncompressed size", |d| d.size -= 1),
    ];
    for (field, edit) in cases {
        let mut entry = Raw::deflated("lie.txt", &content()).streamed();
        edit(entry.descriptor.as_mut().unwrap());
        let bytes = build(&[entry, Raw::stored("after.txt", b"x")]);
        assert_matches!(
            reject(&bytes),
            E::DataDescriptorMismatch { index: 0, field: f, .. } if f == field
        );
    }
}

/// Data that breaks its descriptor and central record alike (a damaged download):
/// a stream, which meets the descriptor before the central directory, reports what
/// the seekable path reports, with the same values.
#[test]
fn data_that_breaks_its_descriptor_is_refused_alike_by_a_stream() {
    type Edit = fn(&mut Raw);
    let cases: [(&str, Edit); 3] = [
        ("crc", |e| e.crc ^= 1),
        ("more than declared", |e| e.size -= 1),
        ("less than declared", |e| e.size += 1),
    ];
    for (case, edit) in cases {
        let mut entry = Raw::deflated("damaged.txt", &content());
        edit(&mut entry);
        let entry = entry.streamed();
        let bytes = build(&[Raw::stored("before.txt", b"x"), entry]);
        let seekable = reject(&bytes);
        let dir = tempfile::tempdir().unwrap();
        let streamed = inflight::Unzipper::new()
            .unzip_reader(std::io::Cursor::new(&bytes), dir.path().join("dest"))
            .unwrap_err();
        assert_eq!(format!("{streamed:?}"), format!("{seekable:?}"), "{case}");
        assert_matches!(
            seekable,
            E::CrcMismatch { index: 1, .. }
                | E::ExceedsDeclaredSize { index: 1, .. }
                | E::SizeMismatch { index: 1, .. }
        );
    }
}

#[test]
fn a_missing_descriptor_is_refused() {
    let mut entry = Raw::deflated("nodesc.txt", &content()).streamed();
    entry.descriptor = None;
    // Last entry: the descriptor would run into the central directory.
    assert_matches!(
        reject(&build(&[entry.clone()])),
        E::EntryOutOfBounds { index: 0, .. }
    );
    // Followed by another entry: its local header is read as the descriptor.
    assert_matches!(
        reject(&build(&[entry, Raw::stored("next.txt", b"next")])),
        E::DataDescriptorMismatch { index: 0, .. }
    );
}

#[test]
fn a_descriptor_of_the_wrong_width_is_refused() {
    // A zip64 local header promises 8-byte sizes; 4-byte ones read as garbage.
    let mut entry = Raw::deflated("narrow.txt", &content()).streamed();
    entry.local_extra = zip64_extra();
    let bytes = build(&[entry, Raw::stored("next.txt", b"next")]);
    assert_matches!(reject(&bytes), E::DataDescriptorMismatch { index: 0, .. });
}

#[test]
fn an_unsigned_descriptor_whose_crc_looks_like_the_signature_is_refused() {
    // Read as signed, as streaming readers read it, it disagrees.
    let mut entry = Raw::deflated("ambiguous", b"any bytes");
    entry.crc = 0x0807_4b50;
    let mut entry = entry.streamed();
    entry.descriptor.as_mut().unwrap().signature = false;
    let bytes = build(&[entry, Raw::stored("next.txt", b"next")]);
    assert_matches!(reject(&bytes), E::DataDescriptorMismatch { index: 0, .. });
}

#[test]
fn a_descriptor_without_flag_bit_3_is_unlisted_bytes() {
    let mut entry = Raw::deflated("plain.txt", &content()).streamed();
    entry.flags &= !FLAG_DESCRIPTOR;
    entry.local_crc = None;
    entry.local_size = None;
    entry.local_csize = None;
    assert_matches!(
        reject(&Archive::new(vec![entry]).bytes()),
        E::UnlistedBytes { len: 16, .. }
    );
}

#[test]
fn flag_bit_3_in_one_header_only_is_refused() {
    // Streaming readers decide from the local flag whether a descriptor follows, the
    // zip crate's consistency checks from the central one.
    let mut local_only = Raw::deflated("l.txt", &content()).streamed();
    local_only.flags &= !FLAG_DESCRIPTOR;
    local_only.local_flags = Some(FLAG_DESCRIPTOR);
    let mut central_only = Raw::deflated("c.txt", &content());
    central_only.flags |= FLAG_DESCRIPTOR;
    central_only.local_flags = Some(0);
    for entry in [local_only, central_only] {
        assert_matches!(
            reject(&build(&[entry])),
            E::LocalHeaderMismatch { field: "flags", .. }
        );
    }
}
