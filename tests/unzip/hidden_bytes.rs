//! Every byte from offset 0 to the central directory belongs to exactly one listed
//! entry; nothing comes before the archive.
//!
//! A streaming reader (the zip crate's `read_zipfile_from_stream` here, standing for
//! installers that unzip while downloading) walks local headers from offset 0; a
//! central-directory reader (CPython) sees only what the directory lists. Each test
//! shows the two disagreeing on the hostile archive before checking it is refused.

use std::io::Cursor;

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Archive, Raw};
use crate::python;
use crate::readers;
use crate::support::{Scene, reject};

/// Names a streaming reader finds walking local headers from offset 0.
fn streamed_names(bytes: &[u8]) -> Vec<String> {
    let mut cursor = Cursor::new(bytes);
    let mut names = Vec::new();
    while let Ok(Some(mut entry)) = zip::read::read_zipfile_from_stream(&mut cursor) {
        names.push(entry.name().unwrap().into_owned());
        std::io::copy(&mut entry, &mut std::io::sink()).unwrap();
    }
    names
}

fn three() -> Vec<Raw> {
    vec![
        Raw::stored("a.txt", b"first"),
        Raw::deflated("hidden.py", b"import os; os.system('echo owned')"),
        Raw::stored("b.txt", b"last"),
    ]
}

#[test]
fn a_local_entry_the_central_directory_does_not_list_is_refused() {
    for unlisted in [1, 2] {
        let bytes = Archive {
            unlisted: vec![unlisted],
            ..Archive::new(three())
        }
        .bytes();
        let hidden = String::from_utf8(three()[unlisted].name.clone()).unwrap();
        assert!(
            streamed_names(&bytes).contains(&hidden),
            "a streaming reader extracts it"
        );
        let scene = Scene::new(&bytes);
        if let Some(names) = python::names(&scene.archive) {
            assert!(!names.contains(&hidden), "CPython does not");
        }
        assert_matches!(reject(&bytes), E::UnlistedEntry { ref name, .. } if *name == hidden);
    }
}

#[test]
fn junk_between_entries_is_refused() {
    let bytes = Archive {
        after: vec![(0, b"junk".to_vec())],
        ..Archive::new(three())
    }
    .bytes();
    let offset = three()[0].local_record().len() as u64;
    assert_matches!(reject(&bytes), E::UnlistedBytes { offset: o, len: 4 } if o == offset);
}

#[test]
fn junk_after_the_last_entry_is_refused() {
    let bytes = Archive {
        after: vec![(2, vec![0; 100])],
        ..Archive::new(three())
    }
    .bytes();
    assert_matches!(reject(&bytes), E::UnlistedBytes { len: 100, .. });
}

#[test]
fn a_self_extracting_stub_with_shifted_offsets_is_refused() {
    // Offsets counted from the end of the stub, as when a zip is appended to a
    // program: CPython and the zip crate shift them by the stub's length.
    let stub = b"#!/bin/sh\nexec python3 -m installer \"$0\"\n".to_vec();
    let bytes = Archive {
        prefix: stub.clone(),
        relative_offsets: true,
        ..Archive::new(three())
    }
    .bytes();
    let scene = Scene::new(&bytes);
    if let Some(names) = python::names(&scene.archive) {
        assert_eq!(names.len(), 3, "CPython reads past the stub");
    }
    assert_matches!(reject(&bytes), E::Prefix { len } if len == stub.len() as u64);
}

#[test]
fn a_self_extracting_stub_with_adjusted_offsets_is_refused() {
    // Offsets counted from the start of the file (`zip -A`): the central directory
    // is consistent, but a streaming reader starts inside the stub.
    let stub = vec![0x7f; 64];
    let bytes = Archive {
        prefix: stub,
        ..Archive::new(three())
    }
    .bytes();
    assert!(
        streamed_names(&bytes).is_empty(),
        "a streaming reader finds nothing"
    );
    assert_matches!(reject(&bytes), E::Prefix { len: 64 });
}

#[test]
fn a_prefix_that_is_itself_a_local_entry_is_refused() {
    let prefix = Raw::stored("setup.py", b"print('from the prefix')").local_record();
    let bytes = Archive {
        prefix,
        ..Archive::new(three())
    }
    .bytes();
    assert_eq!(streamed_names(&bytes)[0], "setup.py");
    assert_matches!(reject(&bytes), E::UnlistedEntry { offset: 0, ref name } if name == "setup.py");
}

#[test]
fn an_empty_archive_after_a_prefix_is_refused() {
    for relative_offsets in [true, false] {
        let bytes = Archive {
            prefix: b"MZ stub".to_vec(),
            relative_offsets,
            ..Archive::new(Vec::new())
        }
        .bytes();
        assert_matches!(reject(&bytes), E::Prefix { len: 7 });
    }
}

#[test]
fn entries_laid_out_in_another_order_than_the_directory_are_accepted() {
    // Every byte is owned; only the order differs, and with unique names order
    // changes nothing any reader extracts.
    let entries = three();
    let mut body = Vec::new();
    let mut central = Vec::new();
    for entry in entries.iter().rev() {
        central.push((entry.clone(), body.len() as u32));
        body.extend_from_slice(&entry.local_record());
    }
    central.reverse();
    let bytes = crate::forge::finish(body, &central);
    let (done, tree) = readers::assert_same_as_readers(&bytes);
    assert_eq!(done.files, 3);
    assert_eq!(tree["a.txt"].as_deref(), Some(&b"first"[..]));
}

/// A deflated entry whose compressed size also covers `junk` after its stream.
fn with_junk_after_stream(entry: Raw, junk: &[u8]) -> Raw {
    let mut data = entry.data.clone();
    data.extend_from_slice(junk);
    let csize = data.len() as u32;
    let descriptor = entry.descriptor.map(|d| crate::forge::Descriptor {
        csize: u64::from(csize),
        ..d
    });
    Raw {
        data,
        csize,
        descriptor,
        ..entry
    }
}

#[test]
fn bytes_after_the_end_of_an_entrys_stream_are_refused() {
    let content = b"print('the real content')\n".repeat(40);
    for junk in [&b"\0"[..], b"junk after the stream", &[0u8; 70_000]] {
        let entry = with_junk_after_stream(Raw::deflated("a.py", &content), junk);
        let bytes = crate::support::build(&[Raw::stored("first", b"1"), entry]);
        assert_matches!(reject(&bytes), E::TrailingData { index: 1, len, .. } if len == junk.len() as u64);
    }
}

/// Names a streaming reader that supports data descriptors finds: it walks local
/// headers from offset 0 and, for an entry with flag bit 3, inflates to the end of
/// the stream and reads the descriptor right after it, as Java's `ZipInputStream`
/// and libarchive reading from a pipe do. (The zip crate's streaming reader refuses
/// such entries outright.)
fn inflating_streamer_names(bytes: &[u8]) -> Vec<String> {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut names = Vec::new();
    let mut at = 0;
    while bytes.len() >= at + 30 && bytes[at..at + 4] == *b"PK\x03\x04" {
        let (flags, csize) = (u16_at(at + 6), u32_at(at + 18));
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        names.push(String::from_utf8_lossy(&bytes[at + 30..at + 30 + name_len]).into_owned());
        let data = at + 30 + name_len + extra_len;
        at = if flags & usize::from(crate::forge::FLAG_DESCRIPTOR) != 0 {
            let mut inflater = flate2::Decompress::new(false);
            let mut sink = vec![0; 1 << 20];
            inflater
                .decompress(&bytes[data..], &mut sink, flate2::FlushDecompress::Finish)
                .unwrap();
            let end = data + inflater.total_in() as usize;
            end + if bytes[end..end + 4] == *b"PK\x07\x08" {
                16
            } else {
                12
            }
        } else {
            data + csize
        };
    }
    names
}

#[test]
fn a_streaming_reader_takes_bytes_after_a_stream_for_the_next_records() {
    // Whatever follows the stream is, to an inflating streaming reader, the
    // descriptor and the next local entry: here one the central directory does not
    // list, inside the listed entry's compressed size. (Checked by hand with Java 17:
    // `ZipInputStream` extracts `pkg/evil.py`, `ZipFile` lists only `pkg/main.py`.)
    let content = b"def main(): pass\n".repeat(10);
    let honest = Raw::deflated("pkg/main.py", &content).streamed();
    let hidden = Raw::stored("pkg/evil.py", b"import os").local_record();
    let decoy = honest.descriptor.expect("streamed").bytes();
    let junk = [decoy, hidden].concat();
    let entry = with_junk_after_stream(honest, &junk);
    let bytes = crate::support::build(&[entry]);
    assert_eq!(
        inflating_streamer_names(&bytes),
        ["pkg/main.py", "pkg/evil.py"],
        "the streaming reader extracts the hidden entry"
    );
    let scene = Scene::new(&bytes);
    if let Some(names) = python::names(&scene.archive) {
        assert_eq!(names, ["pkg/main.py"], "CPython sees one entry");
    }
    assert_matches!(reject(&bytes), E::TrailingData { index: 0, .. });
}
