//! Ids: one portable path component, the same rules on every platform (this file
//! runs under Wine in CI too), checked before anything is created.

use std::io;
use std::path::Path;

use inflight::{CacheError, DiskCache, DiskCacheError, UnzipCache};

use super::archive;
use super::common::listing;

/// Ids that name something other than `root/<id>` on some platform, or one of the
/// cache's own names.
const REFUSED: &[&str] = &[
    "",
    ".",
    "..",
    "../escape",
    "a/b",
    "a\\b",
    ".hidden",
    "nul\0byte",
    "tab\tin",
    // A drive on Windows: `root.join("C:")` is `C:`, not inside the root.
    "C:",
    "c:escape",
    // An NTFS alternate data stream.
    "id:stream",
    "sha256:abc",
    "a<b",
    "a>b",
    "a\"b",
    "a|b",
    "a?b",
    "a*b",
    // Windows strips them: `a.` and `a` are one entry there.
    "trailing.",
    "trailing ",
    // Devices on Windows, with any extension.
    "CON",
    "nul",
    "Nul.txt",
    "COM1",
    "lpt9.log",
    "AUX.tar.gz",
];

#[test]
fn ids_that_mean_another_place_on_some_platform_are_refused_on_every_platform() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    let cache = DiskCache::new(&root);
    for &id in REFUSED {
        let result =
            cache.get_or_build(id, |_: &Path| -> io::Result<()> { panic!("built {id:?}") });
        match result {
            Err(DiskCacheError::InvalidId { id: got, reason }) => {
                assert_eq!(got, id);
                assert!(!reason.is_empty());
            }
            other => panic!("{id:?}: {other:?}"),
        }
        assert!(
            matches!(cache.get(id), Err(DiskCacheError::InvalidId { .. })),
            "{id:?}"
        );
    }
    let long = "x".repeat(201);
    assert!(matches!(
        cache.get_or_build(&long, |_: &Path| Ok::<(), io::Error>(())),
        Err(DiskCacheError::InvalidId { .. })
    ));
    assert!(!root.exists(), "nothing was created");
    assert_eq!(listing(dir.path()), Vec::<String>::new());
    assert_eq!(cache.stats().failed, REFUSED.len() as u64 + 1);
}

#[test]
fn the_unzip_cache_refuses_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "a.whl", 1, 2);
    let cache = UnzipCache::new(dir.path().join("cache"));
    for &id in REFUSED {
        assert!(
            matches!(cache.unzip(&wheel, id), Err(CacheError::InvalidId { .. })),
            "{id:?}"
        );
    }
    assert!(!cache.root().exists());
    assert!(!dir.path().join("escape").exists());
}

#[test]
fn ordinary_ids_of_installers_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path());
    let ids = [
        "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "pkg_1.0+local",
        "console",
        "com10",
        "x",
    ];
    for id in ids {
        let path = cache
            .get_or_build(id, |_: &Path| Ok::<(), io::Error>(()))
            .unwrap();
        assert_eq!(path, dir.path().join(id));
    }
    let long = "y".repeat(200);
    cache
        .get_or_build(&long, |_: &Path| Ok::<(), io::Error>(()))
        .unwrap();
    assert_eq!(listing(dir.path()).len(), ids.len() + 1);
}
