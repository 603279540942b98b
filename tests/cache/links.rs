//! Symbolic links planted in a cache root or a staging directory: each is refused or
//! removed, never followed, and nothing is ever written outside the root.
//!
//! Unix only: creating links on Windows needs a privilege the tests do not have (the
//! Windows side of the layer checks for links and junctions instead, `src/fs/windows.rs`).

#![cfg(unix)]

use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use inflight::{CacheError, DiskCache, DiskCacheError, FsError, UnzipCache, UnzipError, Unzipper};

use super::archive;
use super::common::{listing, read_tree};

/// A temporary directory with `root/` (the cache or the destination's parent) and
/// `outside/`, which holds one file the tests must never see changed.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/precious"), b"keep me").unwrap();
        Scene { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// `outside/` holds exactly what it held at the start.
    fn assert_outside_untouched(&self) {
        assert_eq!(listing(&self.outside()), ["precious"]);
        assert_eq!(
            std::fs::read(self.outside().join("precious")).unwrap(),
            b"keep me"
        );
    }
}

/// Whether `path` is a symbolic link (not followed).
fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

fn never(_: &Path) -> io::Result<()> {
    panic!("a build ran where a link is")
}

#[test]
fn a_link_at_an_entry_s_name_is_refused_and_never_served() {
    let scene = Scene::new();
    symlink(scene.outside(), scene.root().join("pkg")).unwrap();
    let cache = DiskCache::new(scene.root());
    let error = cache.get_or_build("pkg", never).unwrap_err();
    assert!(
        matches!(
            &error,
            DiskCacheError::Fs(FsError::UnexpectedType {
                found: "symbolic link",
                ..
            })
        ),
        "{error:?}"
    );
    assert!(matches!(cache.get("pkg"), Err(DiskCacheError::Fs(_))));
    let wheel = archive(scene.dir.path(), "w.whl", 1, 3);
    let unzip = UnzipCache::new(scene.root()).unzip(&wheel, "pkg");
    assert!(
        matches!(unzip, Err(CacheError::Fs(FsError::UnexpectedType { .. }))),
        "{unzip:?}"
    );
    // The link is left for a person to look at; nothing went through it.
    assert!(is_link(&scene.root().join("pkg")));
    assert_eq!(listing(&scene.root()), ["pkg"]);
    scene.assert_outside_untouched();
}

#[test]
fn a_link_at_the_lock_file_is_refused_and_nothing_is_created_through_it() {
    let scene = Scene::new();
    // A dangling link: following it would create `outside/created`.
    symlink(
        scene.outside().join("created"),
        scene.root().join(".pkg.lock"),
    )
    .unwrap();
    let cache = DiskCache::new(scene.root());
    let error = cache.get_or_build("pkg", never).unwrap_err();
    assert!(
        matches!(error, DiskCacheError::Fs(FsError::Io { .. })),
        "{error:?}"
    );
    assert!(!scene.outside().join("created").exists());
    // A link to a file outside: it is not locked, truncated or removed.
    std::fs::remove_file(scene.root().join(".pkg.lock")).unwrap();
    symlink(
        scene.outside().join("precious"),
        scene.root().join(".pkg.lock"),
    )
    .unwrap();
    assert!(cache.get_or_build("pkg", never).is_err());
    scene.assert_outside_untouched();
}

#[test]
fn a_link_left_at_the_staging_name_is_removed_without_being_entered() {
    let scene = Scene::new();
    symlink(scene.outside(), scene.root().join(".pkg.staging")).unwrap();
    let cache = DiskCache::new(scene.root());
    let path = cache
        .get_or_build("pkg", |staging: &Path| {
            std::fs::write(staging.join("f"), "1")
        })
        .unwrap();
    assert_eq!(read_tree(&path)["f"], b"1");
    assert_eq!(listing(&scene.root()), ["pkg"]);
    scene.assert_outside_untouched();
}

#[test]
fn a_staging_directory_replaced_by_a_link_during_the_build_is_not_published() {
    let scene = Scene::new();
    let cache = DiskCache::new(scene.root());
    let moved = scene.root().join("moved-away");
    let result = cache.get_or_build("pkg", |staging: &Path| {
        std::fs::write(staging.join("mine"), "built")?;
        // An attacker with write access to the root swaps the staging directory for
        // a link to a directory of theirs.
        std::fs::rename(staging, &moved)?;
        symlink(scene.outside(), staging)
    });
    assert!(
        matches!(result, Err(DiskCacheError::Fs(FsError::Replaced { .. }))),
        "{result:?}"
    );
    assert!(
        std::fs::symlink_metadata(scene.root().join("pkg")).is_err(),
        "nothing published"
    );
    // The link is gone (removed, not followed); the moved directory is the attacker's.
    assert_eq!(listing(&scene.root()), ["moved-away"]);
    scene.assert_outside_untouched();
}

#[test]
fn a_link_planted_at_the_entry_s_name_during_the_build_is_refused_not_served() {
    let scene = Scene::new();
    let cache = DiskCache::new(scene.root());
    let entry = scene.root().join("pkg");
    // Another program with write access to the root races the build: when the build
    // publishes, the name is taken, by a link to a directory of theirs.
    let result = cache.get_or_build("pkg", |staging: &Path| {
        std::fs::write(staging.join("mine"), "built")?;
        symlink(scene.outside(), &entry)
    });
    assert!(
        matches!(
            &result,
            Err(DiskCacheError::Fs(FsError::UnexpectedType {
                found: "symbolic link",
                ..
            }))
        ),
        "{result:?}"
    );
    // Refused again, not remembered as built; the link is left for a person to look
    // at, and the build's own staging directory is gone.
    assert!(matches!(cache.get("pkg"), Err(DiskCacheError::Fs(_))));
    assert!(is_link(&entry));
    assert_eq!(listing(&scene.root()), ["pkg"]);
    scene.assert_outside_untouched();
}

/// An unzipper whose progress callback runs `attack` once, at the first report
/// (after the directories are made, before any file is written).
fn attacked(attack: impl Fn() + Send + Sync + 'static) -> Unzipper {
    let once = std::sync::Once::new();
    Unzipper::new().progress(move |_| once.call_once(&attack))
}

/// The one staging directory in `parent`.
fn staging_in(parent: &Path) -> PathBuf {
    let names: Vec<String> = listing(parent)
        .into_iter()
        .filter(|n| n.contains(".staging-") && !n.ends_with(".lock"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    parent.join(&names[0])
}

#[test]
fn a_directory_of_the_tree_swapped_for_a_link_during_extraction_gets_none_of_its_files() {
    let scene = Scene::new();
    let wheel = archive(scene.dir.path(), "w.whl", 2, 60);
    let (root, outside) = (scene.root(), scene.outside());
    let unzipper = attacked(move || {
        let staging = staging_in(&root);
        let sub = staging.join("pkg/sub0");
        std::fs::rename(&sub, staging.join("moved")).unwrap();
        symlink(&outside, &sub).unwrap();
    });
    let dest = scene.root().join("pkg");
    let error = unzipper.unzip(&wheel, &dest).unwrap_err();
    assert!(matches!(error, UnzipError::Write { .. }), "{error:?}");
    assert!(!dest.exists());
    assert!(
        listing(&scene.root()).is_empty(),
        "{:?}",
        listing(&scene.root())
    );
    scene.assert_outside_untouched();
}

#[test]
fn a_staging_directory_swapped_for_a_link_during_extraction_is_not_published() {
    let scene = Scene::new();
    let wheel = archive(scene.dir.path(), "w.whl", 3, 40);
    let (root, outside) = (scene.root(), scene.outside());
    let unzipper = attacked(move || {
        let staging = staging_in(&root);
        std::fs::rename(&staging, root.join("moved-away")).unwrap();
        symlink(&outside, &staging).unwrap();
    });
    let dest = scene.root().join("pkg");
    let error = unzipper.unzip(&wheel, &dest).unwrap_err();
    assert!(
        matches!(error, UnzipError::Fs(FsError::Replaced { .. })),
        "{error:?}"
    );
    assert!(
        std::fs::symlink_metadata(&dest).is_err(),
        "nothing published"
    );
    // The files went where the extraction's handle pointed: the real staging
    // directory, wherever the attacker moved it, and were removed through that handle
    // when the extraction failed; none went outside, and the link itself is gone.
    assert_eq!(listing(&scene.root()), ["moved-away"]);
    assert!(listing(&scene.root().join("moved-away")).is_empty());
    scene.assert_outside_untouched();
}

#[test]
fn unzip_into_refuses_a_directory_that_is_a_link() {
    let scene = Scene::new();
    let wheel = archive(scene.dir.path(), "w.whl", 4, 3);
    let link = scene.root().join("into");
    symlink(scene.outside(), &link).unwrap();
    let error = Unzipper::new().unzip_into(&wheel, &link).unwrap_err();
    assert!(
        matches!(error, UnzipError::Fs(FsError::UnexpectedType { .. })),
        "{error:?}"
    );
    scene.assert_outside_untouched();
}
