//! The staging directory and its atomic publication as `dest`.
//!
//! Invariant: from [`Staging::create`] until [`Staging::publish`] succeeds, the
//! staging directory is owned by one [`Staging`] value, and dropping that value (an
//! error returned with `?`, or a panic unwinding through `unzip`, in a worker or in
//! the progress callback) removes the directory and everything in it. `dest` is only
//! ever created by one `rename(2)`, so nobody sees it half-written.

use std::ffi::OsStr;
use std::fs::{self, DirBuilder, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::UnzipError;

/// Makes staging names unique within the process; the pid makes them unique across
/// processes sharing a cache directory.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Longest stem of `dest`'s name kept in a staging name, so that the staging name
/// stays under `NAME_MAX` (255) whatever the length of `dest`'s name.
const STEM_MAX: usize = 200;

/// The longest staging path [`Staging::create`] can make for `dest_name` under
/// `parent`: `.{stem}.tmp-{pid}-{counter}` with a pid of up to 10 digits and a
/// counter of up to 20. The plan checks every entry's path against it.
pub(crate) fn staging_len_bound(parent: &Path, dest_name: &OsStr) -> usize {
    let stem = STEM_MAX.min(dest_name.len().saturating_mul(3));
    parent.as_os_str().len() + 1 + 1 + stem + ".tmp-".len() + 10 + 1 + 20
}

/// A fresh, empty, hidden directory next to `dest`, removed on drop unless published.
#[derive(Debug)]
pub(crate) struct Staging {
    path: PathBuf,
    /// The process umask strips bits of 0o755: every created file and directory needs
    /// an explicit `chmod` to get its documented mode.
    needs_chmod: bool,
    published: bool,
}

impl Staging {
    /// Creates `<parent>/.<dest_name>.tmp-<pid>-<counter>` with mode 0o755.
    pub(crate) fn create(parent: &Path, dest_name: &OsStr) -> Result<Self, UnzipError> {
        let mut stem: String = dest_name.to_string_lossy().into_owned();
        while stem.len() > STEM_MAX {
            stem.pop();
        }
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!(".{stem}.tmp-{pid}-{n}"));
            // Created with 0o755 rather than 0o777 so it is never writable by others,
            // even for an instant; the mode we get back reveals whether the umask
            // strips any of the bits 0o755 (and so 0o644) needs. One `stat` here
            // saves a `chmod` per file in the common case (umask 022 or 002).
            match DirBuilder::new().mode(0o755).create(&path) {
                Ok(()) => {
                    let mut staging = Staging {
                        path,
                        needs_chmod: false,
                        published: false,
                    };
                    let mode = fs::metadata(&staging.path)
                        .map_err(|source| UnzipError::Write {
                            path: staging.path.clone(),
                            source,
                        })?
                        .permissions()
                        .mode();
                    if mode & 0o777 != 0o755 {
                        staging.needs_chmod = true;
                        fs::set_permissions(&staging.path, Permissions::from_mode(0o755)).map_err(
                            |source| UnzipError::Write {
                                path: staging.path.clone(),
                                source,
                            },
                        )?;
                    }
                    return Ok(staging);
                }
                // Left behind by a crashed process with a recycled pid: take the next.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(source) => return Err(UnzipError::Write { path, source }),
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn needs_chmod(&self) -> bool {
        self.needs_chmod
    }

    /// Renames the staging directory to `dest`.
    ///
    /// # Errors
    ///
    /// [`UnzipError::DestinationExists`] if `dest` exists (the staging directory is then
    /// removed), [`UnzipError::Publish`] if the rename fails otherwise.
    pub(crate) fn publish(mut self, dest: &Path) -> Result<(), UnzipError> {
        // `rename(2)` fails on a non-empty directory but silently replaces an empty
        // one; this check narrows that to a race with a process creating an empty
        // `dest` in the next microseconds. Closing it needs `renameat2(RENAME_NOREPLACE)`,
        // which std does not expose without `unsafe` or a new dependency.
        if dest.symlink_metadata().is_ok() {
            return Err(UnzipError::DestinationExists {
                dest: dest.to_owned(),
            });
        }
        match fs::rename(&self.path, dest) {
            Ok(()) => {
                self.published = true;
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::AlreadyExists | ErrorKind::DirectoryNotEmpty
                ) || dest.symlink_metadata().is_ok() =>
            {
                Err(UnzipError::DestinationExists {
                    dest: dest.to_owned(),
                })
            }
            Err(source) => Err(UnzipError::Publish {
                staging: self.path.clone(),
                dest: dest.to_owned(),
                source,
            }),
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            // Nothing to report to: the caller already gets the error (or panic) that
            // brought us here. A failure leaves a hidden `.tmp-` directory behind.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
