//! Archive paths that are not regular files are refused at once, by the unzipper and
//! by the cache (which would otherwise block while holding the id's lock).

use std::path::{Path, PathBuf};

use inflight::{CacheError, UnzipCache, UnzipError, Unzipper};

use super::archive;
use super::common::{secs, within};

/// Asserts `path` is refused by the unzipper and by the cache as a `kind`, quickly,
/// and that the cache then extracts a good archive under the same id.
fn assert_refused(dir: &Path, path: PathBuf, kind: &'static str) {
    let dir = dir.to_owned();
    within(secs(30), "assert_refused", move || {
        let dest = dir.join(format!("out-{kind}"));
        match Unzipper::new().unzip(&path, &dest) {
            Err(UnzipError::NotAFile { archive, kind: got }) => {
                assert_eq!((archive, got), (path.clone(), kind));
            }
            other => panic!("{kind}: {other:?}"),
        }
        assert!(!dest.exists());

        let cache = UnzipCache::new(dir.join("cache"));
        match cache.unzip(&path, "odd") {
            Err(CacheError::Unzip(error)) => {
                assert!(matches!(*error, UnzipError::NotAFile { .. }), "{error:?}");
                assert!(error.to_string().contains(kind), "{error}");
            }
            other => panic!("{kind}: {other:?}"),
        }
        let good = archive(&dir, &format!("good-{}.whl", kind.replace(' ', "-")), 4, 3);
        assert_eq!(cache.unzip(&good, "odd").unwrap(), dir.join("cache/odd"));
        std::fs::remove_dir_all(dir.join("cache")).unwrap();
    });
}

#[test]
fn a_directory_given_as_the_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a-directory.whl");
    std::fs::create_dir(&path).unwrap();
    assert_refused(dir.path(), path, "directory");
}

#[test]
#[cfg_attr(not(unix), ignore = "FIFOs are a Unix file type")]
fn a_fifo_given_as_the_archive_is_refused_without_blocking() {
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a-fifo.whl");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo is part of every Unix");
        assert!(made.success());
        // Nobody ever opens the FIFO for writing: a blocking open would wait forever.
        assert_refused(dir.path(), path, "FIFO");
    }
}

#[test]
#[cfg_attr(
    not(unix),
    ignore = "Unix domain sockets in the file tree are a Unix thing"
)]
fn a_socket_given_as_the_archive_is_refused() {
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a-socket.whl");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert_refused(dir.path(), path, "socket");
    }
}

#[test]
#[cfg_attr(not(unix), ignore = "device files live under /dev on Unix")]
fn a_device_given_as_the_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(dir.path(), PathBuf::from("/dev/zero"), "character device");
}
