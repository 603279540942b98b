//! The two decoding paths, in-memory (one call, with the `libdeflate` feature) and
//! streaming, give the same files and the same errors on every shape of deflate
//! stream. Every `reject` elsewhere also runs both (see `support::reject_with`);
//! these tests choose each path on purpose with `Unzipper::in_memory_limit`.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;
use inflight::{UnzipError as E, Unzipper};

use crate::assert_matches;
use crate::forge::fixed_block;
use crate::round_trip::semi_compressible;
use crate::support::{Raw, Scene, build, reject};

fn deflate_at(content: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// A deflated entry holding `data` (any deflate stream) that decodes to `content`.
fn deflated_as(name: &str, data: Vec<u8>, content: &[u8]) -> Raw {
    Raw {
        csize: data.len() as u32,
        data,
        ..Raw::deflated(name, content)
    }
}

/// The in-memory limit under which `entry` is decoded in memory with nothing to
/// spare: its compressed and uncompressed sizes together.
fn exact_limit(entry: &Raw) -> usize {
    entry.data.len() + entry.size as usize
}

/// Extracts `entries` once per unzipper and checks every file's bytes each time.
fn assert_extracts(entries: &[(Raw, Vec<u8>)], unzippers: &[Unzipper]) {
    let raws: Vec<Raw> = entries.iter().map(|(raw, _)| raw.clone()).collect();
    let bytes = build(&raws);
    for unzipper in unzippers {
        let scene = Scene::new(&bytes);
        scene.unzip(unzipper).unwrap();
        for (raw, content) in entries {
            let name = String::from_utf8(raw.name.clone()).unwrap();
            let got = std::fs::read(scene.dest.join(&name)).unwrap();
            assert!(got == *content, "{name} differs under {unzipper:?}");
        }
    }
}

/// The default (in memory where it fits) and streaming only.
fn both_paths() -> [Unzipper; 2] {
    [Unzipper::new(), Unzipper::new().in_memory_limit(0)]
}

#[test]
fn every_level_and_block_type_extracts_the_same_on_both_paths() {
    let text = b"def handler(request, *args, **kwargs):\n    return None\n".repeat(2_000);
    let binary = semi_compressible(300_000, 3);
    let mut entries = Vec::new();
    for level in 0..=9 {
        // Level 0 writes stored blocks inside the deflate stream; 1-9 dynamic blocks.
        for (kind, content) in [("text", &text), ("binary", &binary)] {
            let name = format!("level{level}/{kind}");
            entries.push((
                deflated_as(&name, deflate_at(content, level), content),
                content.clone(),
            ));
        }
    }
    // zlib writes a fixed-Huffman block for a few bytes; so does `fixed_block`.
    entries.push((Raw::deflated("fixed/short", b"hi"), b"hi".to_vec()));
    let mut matched = b"ab".to_vec();
    matched.extend([b'b'; 258]);
    entries.push((
        deflated_as("fixed/match", fixed_block(b"ab", 285), &matched),
        matched,
    ));
    // Empty entries: deflated (one empty fixed block) and stored.
    entries.push((Raw::deflated("empty/deflated", b""), Vec::new()));
    entries.push((Raw::stored("empty/stored", b""), Vec::new()));
    entries.push((
        Raw::stored("stored", &binary[..70_000]),
        binary[..70_000].to_vec(),
    ));
    assert_extracts(&entries, &both_paths());
}

#[test]
fn entries_at_and_just_above_the_in_memory_limit_extract_the_same() {
    let content = semi_compressible(1 << 20, 9);
    let entry = Raw::deflated("lib.so", &content);
    let at = exact_limit(&entry);
    let unzippers = [
        Unzipper::new().in_memory_limit(at),
        Unzipper::new().in_memory_limit(at - 1),
        Unzipper::new().in_memory_limit(0),
    ];
    assert_extracts(&[(entry, content)], &unzippers);
}

/// Hostile streams, each tried on both paths: `reject` runs the default and the
/// streaming-only unzipper and asserts they agree.
#[test]
fn hostile_streams_get_the_same_error_on_both_paths() {
    let content = b"import sys\nprint(sys.argv)\n".repeat(500);
    let base = || Raw::deflated("m.py", &content);

    let mut longer = base();
    longer.size -= 1;
    longer.local_size = None;
    assert_matches!(reject(&build(&[longer])), E::ExceedsDeclaredSize { .. });

    let mut shorter = base();
    shorter.size += 1;
    assert_matches!(reject(&build(&[shorter])), E::SizeMismatch { .. });

    let mut crc = base();
    crc.crc ^= 1;
    assert_matches!(reject(&build(&[crc])), E::CrcMismatch { .. });

    let mut cut = base();
    cut.data.truncate(cut.data.len() - 5);
    cut.csize = cut.data.len() as u32;
    assert_matches!(reject(&build(&[cut])), E::CorruptData { .. });

    let mut garbage = base();
    garbage.data = vec![0xff; garbage.data.len()];
    assert_matches!(reject(&build(&[garbage])), E::CorruptData { .. });

    let mut nothing = base();
    nothing.data.clear();
    nothing.csize = 0;
    nothing.size = 0;
    nothing.crc = 0;
    assert_matches!(reject(&build(&[nothing])), E::CorruptData { .. });
}

#[test]
fn bytes_after_the_stream_are_refused_on_both_paths_even_when_forged_as_a_gzip_trailer() {
    // The in-memory path wraps the entry as a gzip member with the declared CRC-32
    // and size as trailer; junk that starts with exactly those bytes is what would
    // fool it, so try that, and pieces of it, and a size that repeats the CRC.
    let content = b"class Model:\n    field = None\n".repeat(300);
    let raw = Raw::deflated("models.py", &content);
    let (crc, size) = (raw.crc.to_le_bytes(), raw.size.to_le_bytes());
    let trailer = [crc, size].concat();
    for junk in [
        trailer.clone(),
        [trailer.clone(), b"and more".to_vec()].concat(),
        crc.to_vec(),
        size.to_vec(),
        vec![0],
    ] {
        let mut entry = raw.clone();
        entry.data.extend_from_slice(&junk);
        entry.csize = entry.data.len() as u32;
        assert_matches!(
            reject(&build(&[entry])),
            E::TrailingData { len, .. } if len == junk.len() as u64
        );
    }
}

#[test]
fn an_entry_whose_stream_contains_its_declared_size_still_extracts() {
    // The in-memory path hands an entry to the streaming path when its bytes contain
    // the declared size (the trailer check could be fooled there): it must still
    // extract. Stored blocks put the content's bytes into the stream as they are.
    let mut content = semi_compressible(10_000, 4);
    let size = (content.len() as u32).to_le_bytes();
    content[5_000..5_004].copy_from_slice(&size);
    let entry = deflated_as("odd.bin", deflate_at(&content, 0), &content);
    assert!(entry.data.windows(4).any(|w| w == size));
    assert_extracts(&[(entry, content)], &both_paths());
}

/// The one known difference between the paths, the price of the `libdeflate`
/// feature: libdeflate decodes the reserved literal/length symbols 286 and 287 (as
/// length 258), which zlib, zlib-rs and CPython refuse. The entry is extracted when
/// it fits in memory and refused when it streams, which also shows which path an
/// entry exactly at, and one byte over, the limit takes. If libdeflate ever refuses
/// them, this test fails: then the paths agree everywhere and the docs of
/// `decode/whole.rs` should say so.
#[cfg(feature = "libdeflate")]
#[test]
fn reserved_length_symbols_are_the_one_difference_between_the_paths() {
    let mut content = b"xy".to_vec();
    content.extend([b'y'; 258]);
    for symbol in [286, 287] {
        let entry = deflated_as("reserved", fixed_block(b"xy", symbol), &content);
        let at = exact_limit(&entry);
        let bytes = build(&[entry]);
        let scene = Scene::new(&bytes);
        scene.unzip(&Unzipper::new().in_memory_limit(at)).unwrap();
        assert_eq!(std::fs::read(scene.dest.join("reserved")).unwrap(), content);
        let scene = Scene::new(&bytes);
        let error = scene.unzip(&Unzipper::new().in_memory_limit(at - 1));
        assert_matches!(error, Err(E::CorruptData { .. }));
        scene.assert_untouched();
    }
}

#[cfg(not(feature = "libdeflate"))]
#[test]
fn reserved_length_symbols_are_refused() {
    let mut content = b"xy".to_vec();
    content.extend([b'y'; 258]);
    for symbol in [286, 287] {
        let entry = deflated_as("reserved", fixed_block(b"xy", symbol), &content);
        assert_matches!(reject(&build(&[entry])), E::CorruptData { .. });
    }
}
