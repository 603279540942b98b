//! Archives built with the zip writer extract to exactly what a plain serial read
//! through the zip crate sees: same paths, same bytes, same modes, nothing more.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use inflight::Unzipper;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::common;
use crate::support::Scene;

#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir(u32),
    File(Vec<u8>, u32),
}

/// Deterministic bytes that compress about 2:1, like machine code: runs of random
/// bytes alternating with runs of a repeated pattern.
pub(crate) fn semi_compressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let run = (next() % 512) as usize + 64;
        if next() % 2 == 0 {
            out.extend((0..run).map(|_| next() as u8));
        } else {
            let byte = next() as u8;
            out.extend(std::iter::repeat_n(byte, run));
        }
    }
    out.truncate(len);
    out
}

/// Many small files in nested directories, empty files, empty directories, a few
/// large files, stored and deflated, some executable, one with setuid set.
fn varied_archive() -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..300 {
        let options = if i % 3 == 0 { stored } else { deflated };
        let options = options.unix_permissions(if i % 7 == 0 { 0o755 } else { 0o644 });
        let name = format!("pkg/sub{}/deeper{}/module_{i}.py", i % 5, i % 3);
        zip.start_file(name, options).unwrap();
        let text = format!("def f_{i}():\n    return {i}\n").repeat(i % 40);
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.add_directory("pkg/empty_dir/", deflated).unwrap();
    zip.add_directory("pkg/sub0/explicit/", deflated).unwrap();
    zip.start_file("pkg/empty_file", deflated).unwrap();
    zip.start_file("pkg/empty_stored", stored).unwrap();
    zip.start_file("bin/tool", deflated.unix_permissions(0o4755))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho hi\n").unwrap();
    for (i, len) in [3 << 20, (2 << 20) + 12_345].into_iter().enumerate() {
        let options = if i == 0 { deflated } else { stored };
        zip.start_file(format!("lib/libbig{i}.so"), options.unix_permissions(0o755))
            .unwrap();
        zip.write_all(&semi_compressible(len, i as u64 + 7))
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// What a plain serial loop over `by_index` reads, plus the parent directories it
/// implies; modes are the documented 0o755/0o644.
fn reference(bytes: &[u8]) -> BTreeMap<String, Node> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut expected = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().trim_end_matches('/').to_owned();
        let mut parent = Path::new(&name).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            expected.insert(p.to_string_lossy().into_owned(), Node::Dir(0o755));
            parent = p.parent();
        }
        if entry.is_dir() {
            expected.insert(name, Node::Dir(0o755));
        } else {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
            expected.insert(
                name,
                Node::File(content, if executable { 0o755 } else { 0o644 }),
            );
        }
    }
    expected
}

/// What is under `root`: every path's contents (`None` for a directory) and its mode
/// where the platform has modes (Unix; `None` on Windows, where it is not compared).
fn walk(root: &Path) -> BTreeMap<String, (Option<Vec<u8>>, Option<u32>)> {
    common::tree(root)
        .into_iter()
        .map(|(rel, data)| {
            let mode = common::mode(&root.join(&rel));
            (rel, (data, mode))
        })
        .collect()
}

#[test]
fn a_varied_archive_extracts_to_exactly_what_a_serial_reader_sees() {
    let bytes = varied_archive();
    let scene = Scene::new(&bytes);
    let done = scene.unzip(&Unzipper::new()).unwrap();
    let actual = walk(&scene.dest);
    let expected = reference(&bytes);
    assert_eq!(actual.len(), expected.len());
    for (path, node) in &expected {
        let (want_data, want_mode) = match node {
            Node::Dir(mode) => (None, *mode),
            Node::File(content, mode) => (Some(content), *mode),
        };
        let (data, mode) = actual
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        assert!(data.as_ref() == want_data, "{path}: contents differ");
        if let Some(mode) = mode {
            assert_eq!(*mode, want_mode, "{path}");
        }
    }
    let files = expected
        .values()
        .filter(|n| matches!(n, Node::File(..)))
        .count();
    assert_eq!((done.files, done.dirs), (files, expected.len() - files));
    if let Some(mode) = common::mode(&scene.dest) {
        assert_eq!(mode, 0o755);
    }
    assert_eq!(
        super::support::beside(&scene.root.path().join("parent")),
        ["dest"]
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "Windows files have no mode bits")]
fn setuid_and_sticky_bits_are_never_applied() {
    let bytes = varied_archive();
    let scene = Scene::new(&bytes);
    scene.unzip(&Unzipper::new()).unwrap();
    assert_eq!(common::mode(&scene.dest.join("bin/tool")), Some(0o755));
}

#[test]
fn an_empty_archive_extracts_to_an_empty_directory() {
    let bytes = ZipWriter::new(Cursor::new(Vec::new()))
        .finish()
        .unwrap()
        .into_inner();
    let scene = Scene::new(&bytes);
    let done = scene.unzip(&Unzipper::new()).unwrap();
    assert_eq!((done.files, done.dirs, done.bytes), (0, 0, 0));
    assert!(super::support::listing(&scene.dest).is_empty());
}

#[test]
fn zip64_local_headers_written_by_the_zip_crate_are_understood() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, method) in [
        ("z64-deflated", CompressionMethod::Deflated),
        ("z64-stored", CompressionMethod::Stored),
    ] {
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(true);
        zip.start_file(name, options).unwrap();
        zip.write_all(&semi_compressible(100_000, 11)).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    // The first local header really uses the zip64 form: both 32-bit sizes saturated.
    assert_eq!(bytes[18..26], [0xFF; 8]);
    let scene = Scene::new(&bytes);
    scene.unzip(&Unzipper::new()).unwrap();
    let expected = reference(&bytes);
    for name in ["z64-deflated", "z64-stored"] {
        let Some(Node::File(content, _)) = expected.get(name) else {
            panic!("{name} missing")
        };
        assert_eq!(
            &std::fs::read(scene.dest.join(name)).unwrap(),
            content,
            "{name}"
        );
    }
}
