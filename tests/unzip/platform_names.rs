//! Names the host's file system cannot hold apart or at all: refused on the platforms
//! where they break (Windows, macOS), extracted as they are on Linux. Each test asserts
//! what the platform it runs on does, so the same test proves the refusal under Wine
//! and the unchanged behaviour on Linux. (The macOS rules are unit-tested in
//! `src/unzip/fs_names.rs`: there is no macOS to run on here.)

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::common;
use crate::forge::{Raw, build};
use crate::support::{Scene, reject};

const WINDOWS: bool = cfg!(windows);
const FOLDS_CASE: bool = cfg!(any(windows, target_os = "macos"));

/// Extracts `entries` and checks every file arrived as written.
fn accepted(entries: &[Raw]) {
    let scene = Scene::new(&build(entries));
    scene.unzip(&inflight::Unzipper::new()).unwrap();
    let tree = common::read_tree(&scene.dest);
    for entry in entries {
        let name = String::from_utf8(entry.name.clone()).unwrap();
        assert_eq!(tree.get(&name), Some(&entry.data), "{name}");
    }
}

#[test]
fn windows_device_names_are_refused_on_windows_only() {
    for name in [
        "pkg/CON",
        "pkg/nul.txt",
        "Aux.py",
        "pkg/com1.log",
        "lpt9",
        "conout$",
    ] {
        let entries = [Raw::stored("pkg/ok.py", b"ok"), Raw::stored(name, b"x")];
        if WINDOWS {
            assert_matches!(reject(&build(&entries)), E::ReservedName { index: 1, .. });
        } else {
            accepted(&entries);
        }
    }
}

#[test]
fn trailing_dots_and_spaces_are_refused_on_windows_only() {
    for name in ["pkg/a.", "pkg./a", "b ", "dir /c"] {
        let entries = [Raw::stored(name, b"x")];
        if WINDOWS {
            assert_matches!(
                reject(&build(&entries)),
                E::TrailingDotOrSpace { index: 0, .. }
            );
        } else {
            accepted(&entries);
        }
    }
}

#[test]
fn characters_windows_does_not_allow_are_refused_on_windows_only() {
    for (name, c) in [
        ("a<b", '<'),
        ("a>b", '>'),
        ("pkg/data:stream", ':'),
        ("q\"", '"'),
        ("a|b", '|'),
        ("what?", '?'),
        ("glob*", '*'),
    ] {
        let entries = [Raw::stored(name, b"x")];
        if WINDOWS {
            assert_matches!(
                reject(&build(&entries)),
                E::ForbiddenCharacter { character, .. } if character == c
            );
        } else {
            accepted(&entries);
        }
    }
}

#[test]
fn two_files_differing_only_in_case_are_refused_where_case_is_ignored() {
    let entries = [
        Raw::stored("pkg/Readme", b"one"),
        Raw::stored("pkg/README", b"two"),
    ];
    if FOLDS_CASE {
        assert_matches!(
            reject(&build(&entries)),
            E::CaseCollision { index: 1, other, .. } if other == "pkg/Readme"
        );
    } else {
        accepted(&entries);
    }
}

#[test]
fn directories_differing_only_in_case_are_refused_where_case_is_ignored() {
    // The directories are implied by the files' paths: `Pkg` and `pkg` would merge.
    let entries = [Raw::stored("Pkg/a.py", b"a"), Raw::stored("pkg/b.py", b"b")];
    if FOLDS_CASE {
        assert_matches!(
            reject(&build(&entries)),
            E::CaseCollision { index: 1, other, .. } if other == "Pkg"
        );
    } else {
        accepted(&entries);
    }
}

#[test]
fn names_that_only_look_alike_are_accepted_everywhere() {
    accepted(&[
        Raw::stored("pkg/console.py", b"1"),
        Raw::stored("pkg/icon.png", b"2"),
        Raw::stored("pkg/com10.txt", b"3"),
        Raw::stored("pkg/a.b.c", b"4"),
        Raw::stored("pkg/readme.md", b"5"),
        Raw::stored("pkg/readme.txt", b"6"),
    ]);
}
