//! The malicious corpus: one archive per rejection, each written byte by byte, each
//! expected to fail with its own error and to leave nothing behind.

use inflight::{Limits, UnzipError as E};

use crate::assert_matches;
use crate::support::{Raw, build, finish, reject, reject_with};

fn one(name: &str) -> Vec<u8> {
    build(&[
        Raw::stored("ok.txt", b"fine"),
        Raw::stored(name, b"payload"),
    ])
}

#[test]
fn parent_references_that_escape_are_rejected() {
    for name in ["../x", "a/../../x", "a/b/../../../x", "./../x"] {
        assert_matches!(reject(&one(name)), E::ParentEscape { index: 1, .. });
    }
}

#[test]
fn absolute_paths_are_rejected() {
    for name in ["/abs", "/etc/passwd", "/"] {
        assert_matches!(reject(&one(name)), E::AbsolutePath { index: 1, .. });
    }
}

#[test]
fn drive_and_unc_prefixes_are_rejected() {
    for name in [
        "C:\\x",
        "c:x",
        "C:/x",
        "\\\\server\\share",
        "//server/share",
    ] {
        assert_matches!(reject(&one(name)), E::PathPrefix { index: 1, .. });
    }
}

#[test]
fn backslashes_are_rejected() {
    for name in ["a\\..\\x", "a\\b", "..\\x"] {
        assert_matches!(reject(&one(name)), E::Backslash { index: 1, .. });
    }
}

#[test]
fn nul_and_control_characters_are_rejected() {
    for name in ["a\0b", "a\nb", "\x1b[31m", "a\x7f"] {
        assert_matches!(reject(&one(name)), E::ControlCharacter { index: 1, .. });
    }
}

#[test]
fn empty_and_dot_names_are_rejected() {
    for name in ["", ".", "./", "a/..", "//"] {
        let error = reject(&one(name));
        // "//" starts like a UNC prefix; every other one is simply empty.
        if name == "//" {
            assert_matches!(error, E::PathPrefix { index: 1, .. });
        } else {
            assert_matches!(error, E::EmptyName { index: 1, .. });
        }
    }
}

#[test]
fn parent_references_that_stay_inside_and_final_dots_are_rejected() {
    // CPython's extractall drops `..` (writing `a/b/c`); pip resolves it (`a/c`).
    let bytes = one("a/b/../c");
    let scene = crate::support::Scene::new(&bytes);
    if crate::python::available() {
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
        assert!(out.join("a/b/c").is_file(), "CPython drops the `..`");
    }
    for name in ["a/b/../c", "a/.", "x/y/.."] {
        assert_matches!(reject(&one(name)), E::DotComponent { index: 1, .. });
    }
}

#[test]
fn names_that_are_not_utf8_despite_the_utf8_flag_are_rejected() {
    let mut bad = Raw::stored("x", b"payload");
    bad.name = b"caf\xe9".to_vec();
    bad.flags = 1 << 11;
    let bytes = build(&[Raw::stored("ok.txt", b"fine"), bad]);
    assert_matches!(reject(&bytes), E::NameNotUtf8 { index: 1, .. });
}

#[test]
fn symlink_entries_are_rejected() {
    let link = Raw {
        mode: Some(0o120777),
        ..Raw::stored("link", b"/etc/passwd")
    };
    let bytes = build(&[Raw::stored("ok.txt", b"fine"), link]);
    assert_matches!(reject(&bytes), E::Symlink { index: 1, ref name } if name == "link");
}

#[test]
fn device_and_fifo_entries_are_rejected() {
    let fifo = Raw {
        mode: Some(0o010644),
        ..Raw::stored("fifo", b"")
    };
    assert_matches!(
        reject(&build(&[fifo])),
        E::SpecialFile {
            index: 0,
            mode: 0o010644,
            ..
        }
    );
}

#[test]
fn exact_duplicate_names_are_rejected() {
    let bytes = build(&[
        Raw::stored("a.txt", b"one"),
        Raw::stored("b", b""),
        Raw::stored("a.txt", b"two"),
    ]);
    assert_matches!(reject(&bytes), E::DuplicateName { index: 2, first: 0, ref name } if name == "a.txt");
}

#[test]
fn names_that_normalize_to_the_same_path_are_duplicates() {
    let bytes = build(&[Raw::stored("a/b", b"one"), Raw::stored("a/./b", b"two")]);
    assert_matches!(
        reject(&bytes),
        E::DuplicateName {
            index: 1,
            first: 0,
            ..
        }
    );
    let bytes = build(&[Raw::dir("d/"), Raw::dir("d/./")]);
    assert_matches!(
        reject(&bytes),
        E::DuplicateName {
            index: 1,
            first: 0,
            ..
        }
    );
}

#[test]
fn a_path_used_as_file_and_directory_is_rejected_in_either_order() {
    let file_then_child = build(&[Raw::stored("a", b"file"), Raw::stored("a/b", b"child")]);
    assert_matches!(reject(&file_then_child), E::FileDirectoryConflict { index: 1, ref other, .. } if other == "a");
    let child_then_file = build(&[Raw::stored("a/b", b"child"), Raw::stored("a", b"file")]);
    assert_matches!(
        reject(&child_then_file),
        E::FileDirectoryConflict { index: 1, .. }
    );
    let file_then_dir = build(&[Raw::stored("a", b"file"), Raw::dir("a/")]);
    assert_matches!(
        reject(&file_then_dir),
        E::FileDirectoryConflict { index: 1, .. }
    );
}

#[test]
fn encrypted_entries_are_rejected() {
    let secret = Raw {
        flags: 1,
        ..Raw::stored("secret", b"xxxxxxxxxxxx")
    };
    assert_matches!(reject(&build(&[secret])), E::Encrypted { index: 0, .. });
}

#[test]
fn compression_methods_other_than_stored_and_deflate_are_rejected() {
    let bzip2 = Raw {
        method: 12,
        ..Raw::stored("b.bz2", b"BZh9")
    };
    assert_matches!(
        reject(&build(&[bzip2])),
        E::UnsupportedMethod {
            index: 0,
            method: 12,
            ..
        }
    );
    let deflate64 = Raw {
        method: 9,
        ..Raw::stored("d", b"zzzz")
    };
    assert_matches!(
        reject(&build(&[deflate64])),
        E::UnsupportedMethod { method: 9, .. }
    );
}

#[test]
fn stored_entries_whose_two_sizes_differ_are_rejected() {
    let mut entry = Raw::stored("s", b"abcd");
    entry.size = 8;
    entry.local_size = Some(8);
    assert_matches!(
        reject(&build(&[entry])),
        E::StoredSizeMismatch {
            compressed: 4,
            uncompressed: 8,
            ..
        }
    );
}

#[test]
fn each_local_header_field_that_disagrees_with_the_central_directory_is_named() {
    let base = || Raw::deflated("good.txt", b"hello hello hello hello");
    let cases: Vec<(&str, Raw)> = vec![
        (
            "name",
            Raw {
                local_name: Some(b"evil.txt".to_vec()),
                ..base()
            },
        ),
        (
            "method",
            Raw {
                local_method: Some(0),
                ..base()
            },
        ),
        (
            "flags",
            Raw {
                local_flags: Some(1 << 11),
                ..base()
            },
        ),
        (
            "crc",
            Raw {
                local_crc: Some(0x1234_5678),
                ..base()
            },
        ),
        (
            "compressed size",
            Raw {
                local_csize: Some(3),
                ..base()
            },
        ),
        (
            "uncompressed size",
            Raw {
                local_size: Some(1),
                ..base()
            },
        ),
    ];
    for (expected, entry) in cases {
        let bytes = build(&[Raw::stored("ok", b"ok"), entry]);
        assert_matches!(reject(&bytes), E::LocalHeaderMismatch { index: 1, field, .. } if field == expected);
    }
}

#[test]
fn a_central_entry_pointing_at_no_local_header_is_rejected() {
    let entry = Raw::stored("a", b"content");
    let mut body = b"garbage!".to_vec();
    body.extend_from_slice(&entry.local_record());
    let bytes = finish(body, &[(entry, 0)]);
    assert_matches!(
        reject(&bytes),
        E::LocalHeaderMismatch {
            index: 0,
            field: "signature",
            ..
        }
    );
}

#[test]
fn two_central_entries_sharing_one_local_header_overlap() {
    // The classic zip bomb amplifier: many names, one copy of the data.
    let a = Raw::deflated("a", &[b'x'; 1000]);
    let b = Raw {
        name: b"b".to_vec(),
        ..a.clone()
    };
    let bytes = finish(a.local_record(), &[(a.clone(), 0), (b, 0)]);
    assert_matches!(reject(&bytes), E::OverlappingEntries { index: 1, other: 0, ref name } if name == "b");
    // With the same name twice, it is first of all a duplicate.
    let dir = Raw::dir("d/");
    let mut body = a.local_record();
    let dir_offset = body.len() as u32;
    body.extend_from_slice(&dir.local_record());
    let bytes = finish(body, &[(a.clone(), 0), (dir, dir_offset), (a, 0)]);
    assert_matches!(
        reject(&bytes),
        E::DuplicateName {
            index: 2,
            first: 0,
            ..
        }
    );
}

#[test]
fn entries_whose_byte_ranges_overlap_are_rejected() {
    // Two distinct names whose local headers both sit at offset 0 would fail the name
    // check; so point the second central entry at the *data* range of the first,
    // where a second local header hides inside the first entry's stored bytes.
    let inner = Raw::stored("inner", b"quoted payload");
    let outer = Raw::stored("outer", &inner.local_record());
    let inner_offset = outer.local_header().len() as u32;
    let bytes = finish(outer.local_record(), &[(outer, 0), (inner, inner_offset)]);
    assert_matches!(
        reject(&bytes),
        E::OverlappingEntries {
            index: 1,
            other: 0,
            ..
        }
    );
}

#[test]
fn a_fifield_style_quoted_overlap_is_rejected() {
    // Fifield's non-recursive bomb: each entry's deflate stream opens with a stored
    // block that "quotes" the next local header and everything after it, so every
    // entry's compressed range contains all the following entries.
    let kernel = Raw::deflated("kernel", &[b'a'; 10_000]);
    let mut tail = kernel.local_record();
    let mut entries = vec![kernel];
    for name in ["q2", "q1"] {
        let len = tail.len() as u16;
        let mut data = vec![0x00]; // BFINAL=0, BTYPE=00: a stored block follows
        data.extend_from_slice(&len.to_le_bytes());
        data.extend_from_slice(&(!len).to_le_bytes());
        data.extend_from_slice(&tail);
        let quote = Raw {
            method: 8,
            csize: data.len() as u32,
            data,
            ..Raw::stored(name, &tail)
        };
        tail = quote.local_record();
        entries.push(quote);
    }
    entries.reverse(); // q1, q2, kernel: central order is file order
    let mut central = Vec::new();
    let mut offset = 0u32;
    for entry in entries {
        let next = offset + entry.local_header().len() as u32 + 5;
        central.push((entry, offset));
        offset = next;
    }
    let bytes = finish(tail, &central);
    assert_matches!(
        reject(&bytes),
        E::OverlappingEntries {
            index: 1,
            other: 0,
            ..
        }
    );
}

#[test]
fn an_entry_that_inflates_past_its_declared_size_is_stopped_there() {
    let content = vec![b'z'; 100_000];
    let mut entry = Raw::deflated("big", &content);
    // The CRC is right for the real content; only the size lies.
    entry.size = 1_000;
    assert_matches!(
        reject(&build(&[entry])),
        E::ExceedsDeclaredSize {
            index: 0,
            declared: 1_000,
            ..
        }
    );
}

#[test]
fn an_entry_shorter_than_declared_is_rejected() {
    let mut entry = Raw::deflated("short", b"only a few bytes");
    entry.size += 10;
    assert_matches!(
        reject(&build(&[entry])),
        E::SizeMismatch {
            declared: 26,
            actual: 16,
            ..
        }
    );
}

#[test]
fn a_wrong_crc_is_rejected() {
    let mut stored = Raw::stored("s", b"some content");
    stored.crc ^= 1;
    assert_matches!(reject(&build(&[stored])), E::CrcMismatch { index: 0, .. });
    let mut deflated = Raw::deflated("d", b"some content");
    deflated.crc ^= 0x8000_0000;
    assert_matches!(reject(&build(&[deflated])), E::CrcMismatch { index: 0, .. });
}

#[test]
fn corrupt_deflate_data_is_rejected() {
    let mut entry = Raw::deflated("c", &[b'q'; 5000]);
    let len = entry.data.len();
    entry.data = vec![0xff; len];
    assert_matches!(reject(&build(&[entry])), E::CorruptData { index: 0, .. });
    let mut cut = Raw::deflated("c", b"stream that stops early, stream that stops early");
    cut.data.truncate(cut.data.len() / 2);
    cut.csize = cut.data.len() as u32;
    assert_matches!(reject(&build(&[cut])), E::CorruptData { index: 0, .. });
}

#[test]
fn an_archive_cut_short_has_no_central_directory() {
    let bytes = build(&[Raw::stored("a", b"aaaa"), Raw::deflated("b", &[b'b'; 5000])]);
    for keep in [bytes.len() - 10, bytes.len() / 2, 3, 0] {
        assert_matches!(reject(&bytes[..keep]), E::CentralDirectory { .. });
    }
}

#[test]
fn an_entry_whose_data_runs_into_the_central_directory_is_rejected() {
    let mut entry = Raw::stored("a", b"aaaa");
    entry.csize = 400;
    entry.size = 400;
    assert_matches!(
        reject(&build(&[entry])),
        E::EntryOutOfBounds { index: 0, .. }
    );
    let far = Raw::stored("far", b"x");
    let bytes = finish(Vec::new(), &[(far, 1 << 20)]);
    assert_matches!(reject(&bytes), E::EntryOutOfBounds { index: 0, .. });
}

#[test]
fn every_limit_is_checked_against_declared_sizes() {
    let entries = [
        Raw::stored("a", &[1; 100]),
        Raw::deflated("b/c/d", &[0; 60_000]),
    ];
    let bytes = build(&entries);
    let limit = |edit: fn(&mut Limits)| {
        let mut limits = Limits::default();
        edit(&mut limits);
        reject_with(&bytes, limits)
    };
    assert_matches!(
        limit(|l| l.max_entries = 1),
        E::TooManyEntries { count: 2, limit: 1 }
    );
    assert_matches!(
        limit(|l| l.max_entry_size = 99),
        E::EntryTooLarge {
            index: 0,
            size: 100,
            ..
        }
    );
    assert_matches!(
        limit(|l| l.max_total_size = 1_000),
        E::TotalTooLarge {
            index: 1,
            limit: 1_000,
            ..
        }
    );
    assert_matches!(
        limit(|l| l.max_compression_ratio = 10),
        E::CompressionRatio {
            index: 1,
            limit: 10,
            ..
        }
    );
    assert_matches!(
        limit(|l| l.max_name_len = 4),
        E::NameTooLong {
            index: 1,
            len: 5,
            ..
        }
    );
    assert_matches!(
        limit(|l| l.max_depth = 2),
        E::TooDeep {
            index: 1,
            depth: 3,
            ..
        }
    );
}

#[test]
fn a_zip_bomb_is_stopped_by_the_default_ratio_limit() {
    let content = vec![0u8; 1 << 20];
    let mut entry = Raw::deflated("bomb", &content);
    // Claim far more than deflate could ever produce from these few bytes.
    entry.size = u32::MAX - 1;
    entry.local_size = Some(u32::MAX - 1);
    assert_matches!(
        reject(&build(&[entry])),
        E::CompressionRatio { index: 0, .. }
    );
}
