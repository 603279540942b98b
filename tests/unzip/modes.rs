//! Modes do not depend on the process umask, and data-descriptor archives are read.

use std::process::Command;

use inflight::Unzipper;

use crate::common;
use crate::support::{Raw, Scene, build};

fn mode(path: &std::path::Path) -> u32 {
    common::mode(path).expect("run on Unix only")
}

/// Run only as a child of the test below, under `umask 077`.
#[test]
#[ignore = "run by modes_do_not_depend_on_the_umask in a child process (Unix)"]
fn child_extracts_with_documented_modes() {
    let script = Raw {
        mode: Some(0o100700),
        ..Raw::stored("bin/run", b"#!/bin/sh\n")
    };
    let scene = Scene::new(&build(&[Raw::stored("pkg/data.txt", b"data"), script]));
    scene.unzip(&Unzipper::new()).unwrap();
    assert_eq!(mode(&scene.dest), 0o755);
    assert_eq!(mode(&scene.dest.join("pkg")), 0o755);
    assert_eq!(mode(&scene.dest.join("pkg/data.txt")), 0o644);
    assert_eq!(mode(&scene.dest.join("bin/run")), 0o755);
}

#[test]
#[cfg_attr(not(unix), ignore = "Windows has no umask and no mode bits")]
fn modes_do_not_depend_on_the_umask() {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" --exact modes::child_extracts_with_documented_modes --ignored --quiet")
        .arg(exe)
        .output()
        .unwrap();
    let output = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "the child under umask 077 failed: {output}"
    );
    assert!(
        output.contains("1 passed"),
        "the child ran no test: {output}"
    );
}

#[test]
fn entries_with_data_descriptors_are_read_from_the_central_directory_sizes() {
    let entry = Raw::deflated("streamed.txt", &b"streamed ".repeat(100)).streamed();
    let scene = Scene::new(&build(&[entry]));
    scene.unzip(&Unzipper::new()).unwrap();
    assert_eq!(
        std::fs::read(scene.dest.join("streamed.txt")).unwrap(),
        b"streamed ".repeat(100)
    );
}
