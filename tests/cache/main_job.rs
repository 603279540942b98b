//! The main job (`examples/unzip/`), run as a user would run it: ids come from the
//! archives' contents, a failure is never reported as resolved, two processes share
//! the caches without building anything twice, and the command line behaves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{read_tree, secs, within};
use super::{archive, contents, not_a_zip};

/// The example's binary, built (or found up to date) by the cargo that runs these
/// tests, so a filtered run never tests a stale binary. On Windows, where this suite
/// runs under Wine and cargo (a host program) cannot be started, the binary built next
/// to the tests (`cargo build --examples`, as `.ci/wine/run-tests` does) is used as
/// it is.
fn example_binary() -> PathBuf {
    if cfg!(not(windows)) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", "unzip", "--manifest-path"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example unzip failed");
    }
    // Test binaries live in <target>/<profile>/deps, examples in <target>/<profile>/examples.
    let deps = std::env::current_exe().unwrap();
    let profile_dir = deps.parent().and_then(Path::parent).unwrap();
    let exe = profile_dir
        .join("examples")
        .join(format!("unzip{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.is_file(), "{} is missing", exe.display());
    exe
}

fn run(args: &[&Path]) -> (bool, String) {
    let (ok, stdout, _) = run_with(args, &["--threads", "4", "--repeat", "3"]);
    (ok, stdout)
}

/// Runs the example with `args` then `flags`; its success, stdout and stderr.
fn run_with(args: &[&Path], flags: &[&str]) -> (bool, String, String) {
    let exe = example_binary();
    let args: Vec<PathBuf> = args.iter().map(|a| a.to_path_buf()).collect();
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    within(secs(120), "run", move || {
        let output = Command::new(exe).args(&args).args(&flags).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    })
}

#[test]
fn two_archives_with_one_file_name_and_different_bytes_get_their_own_trees() {
    let dir = tempfile::tempdir().unwrap();
    for (sub, seed) in [("a", 1), ("b", 2)] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        archive(&dir.path().join(sub), "pkg-1.0-py3-none-any.whl", seed, 12);
    }
    let a = dir.path().join("a/pkg-1.0-py3-none-any.whl");
    let b = dir.path().join("b/pkg-1.0-py3-none-any.whl");
    // The same bytes under a second path share the first one's id.
    let a_again = dir.path().join("copy-of-a.whl");
    std::fs::copy(&a, &a_again).unwrap();
    let root = dir.path().join("cache");
    let (ok, report) = run(&[&a, &b, &a_again, Path::new("--into"), &root]);
    assert!(ok, "{report}");
    assert!(report.contains("(2 distinct by content)"), "{report}");
    assert!(
        report.contains("each archive resolved once: yes"),
        "{report}"
    );
    let wheels = root.join("wheels");
    let trees: Vec<_> = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| read_tree(&p))
        .collect();
    assert_eq!(trees.len(), 2);
    assert!(trees.contains(&contents(1, 12)) && trees.contains(&contents(2, 12)));
    let ids: BTreeSet<String> = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    // The ids are the archives' SHA-256 digests.
    assert!(
        ids.iter()
            .all(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())),
        "{ids:?}"
    );
}

#[test]
fn a_failed_extraction_is_not_counted_as_resolved_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = archive(dir.path(), "good-1.0.whl", 3, 5);
    let bad = not_a_zip(dir.path(), "bad-1.0.whl");
    let root = dir.path().join("cache");
    let (ok, report) = run(&[&good, &bad, Path::new("--into"), &root]);
    assert!(
        !ok,
        "the run succeeded despite a failed extraction:\n{report}"
    );
    assert!(
        report.contains("each archive resolved once: NO"),
        "{report}"
    );
    assert!(
        report.contains("(1 extracted + 0 found on disk = 1 of 2 distinct)"),
        "{report}"
    );
}

#[test]
fn each_wheel_s_metadata_is_a_cached_file_built_once_from_the_extracted_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path(), "a-1.0.whl", 4, 6);
    let b = archive(dir.path(), "b-1.0.whl", 5, 6);
    let root = dir.path().join("cache");
    let (ok, report) = run(&[&a, &b, Path::new("--into"), &root]);
    assert!(ok, "{report}");
    assert!(
        report.contains(
            "each metadata file resolved once: yes (2 written + 0 found on disk = 2 of 2 distinct)"
        ),
        "{report}"
    );
    let metadata: Vec<PathBuf> = std::fs::read_dir(root.join("metadata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(metadata.len(), 2, "{metadata:?}");
    for file in metadata {
        // Not wheels: a summary of the top-level names.
        assert!(
            std::fs::read_to_string(file)
                .unwrap()
                .contains("Top-Level: pkg")
        );
    }
    // A second run finds everything on disk.
    let (ok, report) = run(&[&a, &b, Path::new("--into"), &root]);
    assert!(ok, "{report}");
    assert!(
        report.contains("(0 written + 2 found on disk = 2 of 2 distinct)"),
        "{report}"
    );
}

#[test]
fn two_processes_on_one_cache_build_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let archives: Vec<PathBuf> = (0..6)
        .map(|i| archive(dir.path(), &format!("p{i}-1.0.whl"), 10 + i, 40))
        .collect();
    let mut args: Vec<&Path> = archives.iter().map(PathBuf::as_path).collect();
    let root = dir.path().join("cache");
    args.extend([Path::new("--into"), &root]);
    let (ok, report, stderr) = run_with(
        &args,
        &["--threads", "3", "--repeat", "3", "--processes", "2"],
    );
    assert!(ok, "{report}\n{stderr}");
    assert!(report.contains("in each of 2 processes"), "{report}");
    for what in [
        "each archive resolved once",
        "each metadata file resolved once",
    ] {
        assert!(report.contains(&format!("{what}: yes (")), "{report}");
        assert!(
            report.contains("of 6 distinct x 2 processes; none by two processes)"),
            "{report}"
        );
    }
    assert_eq!(std::fs::read_dir(root.join("wheels")).unwrap().count(), 6);
}

#[test]
fn help_prints_the_usage_and_exits_zero() {
    let (ok, stdout, _) = run_with(&[], &["--help"]);
    assert!(ok);
    assert!(stdout.starts_with("usage: unzip"), "{stdout}");
    let (ok, _, stderr) = run_with(&[], &["--no-such-flag"]);
    assert!(!ok);
    assert!(stderr.contains("unknown flag --no-such-flag"), "{stderr}");
}

#[test]
fn a_missing_archive_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-here-1.0.whl");
    let (ok, _, stderr) = run_with(&[&missing], &[]);
    assert!(!ok);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}
