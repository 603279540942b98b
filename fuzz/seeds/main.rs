//! Writes the seed corpus of the `unzip` fuzz target: honest archives of every shape
//! the unzipper accepts and one hostile archive per refusal of the archive's
//! structure, all forged by the tests' own forger (no binary files in the repository).
//!
//! Run from the crate root, before fuzzing:
//!
//! ```sh
//! (cd fuzz && cargo run --bin seeds -- corpus/unzip)
//! cargo +nightly fuzz run unzip fuzz/corpus/unzip
//! ```

#[path = "../../tests/unzip/forge.rs"]
mod forge;

use forge::{
    Archive, EndRecord, Raw, Zip64, asi_unix, build, extra_field, fixed_block, libarchive_xl,
    records_in_extra, unicode_path,
};

fn honest() -> Vec<Raw> {
    vec![
        Raw::stored("pkg/__init__.py", b"print('hi')\n"),
        Raw::deflated("pkg/mod.py", &b"def f(): return 1\n".repeat(20)),
        Raw::dir("pkg/data/"),
        Raw::stored("pkg/empty", b""),
    ]
}

/// The honest entries with data descriptors where a streaming writer writes them and
/// the unzipper accepts them: on deflated files (a stored entry with a descriptor is
/// refused, `EntryEndUnknown`: seed `stream-stored-descriptor`).
fn streamed(signature: bool, wide: bool) -> Vec<Raw> {
    honest()
        .into_iter()
        .map(|entry| {
            if entry.name.ends_with(b"/") || entry.method != 8 {
                return entry;
            }
            let mut entry = entry.streamed();
            let descriptor = entry.descriptor.as_mut().expect("streamed has one");
            descriptor.signature = signature;
            descriptor.wide = wide;
            if wide {
                entry.local_extra = [&[1u8, 0, 16, 0][..], &[0; 16]].concat();
                entry.local_size = Some(u32::MAX);
                entry.local_csize = Some(u32::MAX);
            }
            entry
        })
        .collect()
}

/// Issue 21: types by host byte and extra field, second names, extra fields that
/// disagree, deep paths. Each is one honest entry with one edit.
fn issue_21() -> Vec<(&'static str, Vec<u8>)> {
    let one = |edit: fn(&mut Raw)| {
        let mut entry = Raw::stored("pkg/x.py", b"target.py");
        edit(&mut entry);
        build(&[Raw::stored("pkg/target.py", b"t"), entry])
    };
    let deep = "d/".repeat(40);
    vec![
        ("link-host-atari", one(|r| {
            r.made_by = Some(0x0514);
            r.external = Some(0o120_777 << 16);
        })),
        ("link-host-dos", one(|r| {
            r.made_by = Some(0x0014);
            r.external = Some(0o120_644 << 16 | 0x20);
        })),
        ("volume-label", one(|r| {
            r.made_by = Some(0x0014);
            r.external = Some(0x08);
        })),
        ("xl-local-link", one(|r| r.local_extra = libarchive_xl(0x0314, 0o120_777 << 16))),
        ("xl-agrees", one(|r| {
            r.local_extra = libarchive_xl(0x0314, 0o100_644 << 16);
            r.central_extra = libarchive_xl(0x0314, 0o100_644 << 16);
        })),
        ("asi-link", one(|r| {
            r.external = Some(0);
            r.central_extra = asi_unix(0o120_777, b"target.py");
        })),
        ("unicode-path-central", one(|r| r.central_extra = unicode_path(b"pkg/y.py", b"pkg/x.py"))),
        ("unicode-path-local", one(|r| r.local_extra = unicode_path(b"pkg/y.py", b"pkg/x.py"))),
        ("unicode-path-same", one(|r| {
            r.central_extra = unicode_path(b"pkg/x.py", b"pkg/x.py");
            r.local_extra = unicode_path(b"pkg/x.py", b"pkg/x.py");
        })),
        ("unicode-path-hides-escape", one(|r| {
            r.name = b"../../x.py".to_vec();
            r.central_extra = unicode_path(b"pkg/x.py", b"../../x.py");
        })),
        ("cp437-name", one(|r| r.name = b"pkg/caf\x82.py".to_vec())),
        ("zip64-half-local", one(|r| {
            r.local_csize = Some(u32::MAX);
            r.local_extra = extra_field(0x0001, &[9, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        })),
        ("extra-twice", one(|r| {
            r.local_extra = [extra_field(0x0001, &[]), extra_field(0x0001, &[])].concat()
        })),
        ("extra-cut", one(|r| r.central_extra = extra_field(0x5455, &[1, 2, 3, 4, 5])[..7].to_vec())),
        ("extra-harmless", one(|r| {
            r.central_extra = [extra_field(0x5455, &[1, 1, 2, 3, 4]), vec![0, 0]].concat();
            r.local_extra = extra_field(0x7875, &[1, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        })),
        (
            "deep-paths",
            build(
                &(0..50)
                    .map(|i| Raw::stored(&format!("t{i}/{deep}f"), b""))
                    .collect::<Vec<_>>(),
            ),
        ),
    ]
}

/// What only the streaming path does differently: entries whose end only their
/// deflate stream marks (flag bit 3), decoded on the reading thread, among entries of
/// known size handed to writers; deflated directories with descriptors; and the
/// descriptors nothing marks the end of (stored, refused as `EntryEndUnknown`).
fn streaming() -> Vec<(&'static str, Vec<u8>)> {
    let text = |i: usize| format!("def f{i}():\n    return {i}\n").repeat(1 + i % 7);
    let mut empty_dir = Raw::dir("pkg/empty/");
    empty_dir.method = 8;
    empty_dir.data = vec![0x03, 0x00];
    empty_dir.csize = 2;
    let mut block_dir = Raw::dir("pkg/block/");
    block_dir.method = 8;
    block_dir.data = vec![0x01, 0x00, 0x00, 0xFF, 0xFF];
    block_dir.csize = 5;
    let mut unsigned = Raw::deflated("pkg/unsigned.py", text(3).as_bytes()).streamed();
    unsigned.descriptor.as_mut().expect("streamed has one").signature = false;
    // Entries of every kind, one after another: several writers at once, and the
    // reading thread switching between handing over and decoding.
    let mixed: Vec<Raw> = (0..24)
        .map(|i| {
            let name = format!("pkg/m{}/f{i}.py", i % 3);
            match i % 4 {
                0 => Raw::stored(&name, text(i).as_bytes()),
                1 => Raw::deflated(&name, text(i).as_bytes()),
                _ => Raw::deflated(&name, text(i).as_bytes()).streamed(),
            }
        })
        .collect();
    let big: Vec<u8> = (0..600u32 << 10).map(|i| (i / 4096 % 7) as u8).collect();
    let mut lying = Raw::deflated("pkg/lie.py", text(5).as_bytes()).streamed();
    lying.descriptor.as_mut().expect("streamed has one").size += 1;
    vec![
        (
            "stream-deflated-descriptors",
            build(&[
                Raw::deflated("pkg/a.py", text(1).as_bytes()).streamed(),
                Raw::deflated("pkg/b.py", b"").streamed(),
                unsigned,
            ]),
        ),
        (
            "stream-deflated-dirs-descriptors",
            build(&[
                empty_dir.clone().streamed(),
                block_dir.streamed(),
                Raw::deflated("pkg/empty/x.py", text(2).as_bytes()).streamed(),
            ]),
        ),
        ("stream-deflated-dir-plain", build(&[empty_dir])),
        (
            "stream-stored-descriptor",
            build(&[Raw::stored("pkg/stored.py", text(4).as_bytes()).streamed()]),
        ),
        ("stream-mixed", build(&mixed)),
        // Longer than the 64 KiB the stream keeps of its end, with a comment that
        // fills most of that window: the window reaches back into the entries.
        ("stream-long-comment", {
            let mut archive = Archive::new(vec![
                Raw::stored("pkg/blob.bin", &big[..100 << 10]),
                Raw::deflated("pkg/tail.py", text(3).as_bytes()).streamed(),
            ]);
            archive.comment = vec![b'#'; 60_000];
            archive.bytes()
        }),
        ("stream-descriptor-lies", build(&[lying])),
        ("stream-zip64-unsigned", build(&streamed(false, true))),
        // Decoded on the reading thread into more than one pool block (256 KiB), and
        // a known-size twin decoded by a writer.
        (
            "stream-descriptor-blocks",
            build(&[
                Raw::deflated("pkg/big.bin", &big).streamed(),
                Raw::deflated("pkg/twin.bin", &big),
            ]),
        ),
        // A descriptor and a local header hidden in a local extra field: the walk
        // and the central directory cut the archive into other entries.
        (
            "stream-records-in-extra",
            records_in_extra(
                Raw::deflated("pkg/a.py", text(6).as_bytes()),
                Raw::stored("pkg/x.py", text(1).as_bytes()),
            ),
        ),
    ]
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let with = |edit: fn(&mut Archive)| {
        let mut archive = Archive::new(honest());
        edit(&mut archive);
        archive.bytes()
    };
    let mut dir_with_data = Raw::stored("d/", b"hidden");
    dir_with_data.mode = Some(0o040755);
    let mut mode_dir = Raw::stored("x", b"data");
    mode_dir.mode = Some(0o040755);
    // Deflate streams for the decoders: junk after the stream inside the entry, a
    // fixed-Huffman block with a match, and the same with a reserved symbol (286).
    let mut junk_after = Raw::deflated("j.py", &b"junk follows ".repeat(30));
    junk_after.data.extend_from_slice(b"junk");
    junk_after.csize += 4;
    let mut matched = b"ab".to_vec();
    matched.extend([b'b'; 258]);
    let fixed = |symbol| Raw {
        csize: fixed_block(b"ab", symbol).len() as u32,
        data: fixed_block(b"ab", symbol),
        ..Raw::deflated("f", &matched)
    };
    vec![
        ("honest", build(&honest())),
        ("empty", build(&[])),
        ("streamed-signed", build(&streamed(true, false))),
        ("streamed-unsigned", build(&streamed(false, false))),
        ("streamed-zip64", build(&streamed(true, true))),
        ("zip64-end-record", with(|a| a.zip64 = Some(Zip64::default()))),
        (
            "zip64-saturated",
            with(|a| {
                a.zip64 = Some(Zip64 {
                    saturate: true,
                    ..Zip64::default()
                })
            }),
        ),
        ("comment", with(|a| a.comment = b"a comment".to_vec())),
        (
            "count-short",
            with(|a| {
                a.end = EndRecord {
                    entries: Some(1),
                    entries_on_disk: Some(1),
                    ..EndRecord::default()
                }
            }),
        ),
        ("unlisted-entry", with(|a| a.unlisted = vec![1])),
        ("junk-between", with(|a| a.after = vec![(0, b"junk".to_vec())])),
        ("prefix-shifted", with(|a| {
            a.prefix = b"#!/bin/sh\n".to_vec();
            a.relative_offsets = true;
        })),
        ("prefix-absolute", with(|a| a.prefix = b"MZ stub".to_vec())),
        ("suffix", with(|a| a.suffix = b"trailing".to_vec())),
        ("comment-signature", with(|a| a.comment = b"PK\x05\x06".to_vec())),
        (
            "comment-archive",
            with(|a| a.comment = build(&[Raw::stored("evil", b"x")])),
        ),
        ("central-junk", with(|a| a.central_junk = b"junkjunk".to_vec())),
        (
            "zip64-extensible",
            with(|a| {
                a.zip64 = Some(Zip64 {
                    extensible: b"\x99\x99\x00\x00".to_vec(),
                    ..Zip64::default()
                })
            }),
        ),
        ("dir-with-data", build(&[dir_with_data])),
        ("mode-dir-without-slash", build(&[mode_dir])),
        ("junk-after-stream", build(&[junk_after])),
        ("fixed-block", build(&[fixed(285)])),
        ("reserved-symbol", build(&[fixed(286)])),
    ]
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus/unzip".to_owned());
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    let mut seeds = seeds();
    seeds.extend(issue_21());
    seeds.extend(streaming());
    for (name, bytes) in &seeds {
        std::fs::write(format!("{dir}/seed-{name}.zip"), bytes).expect("write a seed");
    }
    println!("{} seeds in {dir}", seeds.len());
}
