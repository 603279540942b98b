//! The staging directory, its atomic publication as `dest`, and the reclaiming of
//! staging directories that crashed extractions left behind.
//!
//! # Staging slots
//!
//! An extraction of `dest` stages in `.<name>.staging-<k>` next to it, where `k` is
//! the lowest *slot* it can lock: slot `k` is held by an exclusive advisory lock
//! (`File::try_lock`) on the file `.<name>.staging-<k>.lock` beside it, taken before
//! the directory is created and released only after the directory has been renamed
//! to `dest` or removed. The operating system releases the lock when its process
//! dies, however it dies (`kill -9`, a crash, a power cut), so:
//!
//! - **a staging directory whose slot lock can be taken belongs to nobody alive**: an
//!   extraction that takes the lock of a slot removes what is there before using it,
//!   and then sweeps the other slots of the same `dest`, removing the directory of
//!   every slot whose lock it can take (and releasing that lock at once);
//! - **a live extraction's directory is never touched**: its lock is held, so every
//!   other process (and every other extraction in this process: the locks belong to
//!   open files, not processes) skips the slot.
//!
//! No process id is involved (containers reuse them). Lock files are never deleted:
//! deleting a lock file that another process has just opened would let two
//! extractions believe they hold the same slot. They are empty, and there are as many
//! per `dest` as extractions of it ever ran at the same moment. Slots are taken from
//! 0 upwards, and a slot's lock file is only created by an extraction that found all
//! lower slots locked, so the lock files of one `dest` are numbered 0..n without a
//! gap, and the sweep stops at the first number that has none.
//!
//! # Invariant
//!
//! From [`Staging::create`] until [`Staging::publish`] succeeds, the staging directory
//! is owned by one [`Staging`] value, and dropping that value (an error returned with
//! `?`, or a panic unwinding through `unzip`) removes the directory and everything in
//! it, then releases the slot. `dest` is only ever created by one `rename(2)`, so
//! nobody sees it half-written.

use std::ffi::OsStr;
use std::fs::{self, File, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::error::UnzipError;
use super::platform;

/// A fresh, empty, hidden directory next to `dest`, removed on drop unless published.
#[derive(Debug)]
pub(crate) struct Staging {
    path: PathBuf,
    /// The slot's lock, held until the directory is published or removed.
    _slot: File,
    /// The process umask strips bits of 0o755: every created file and directory needs
    /// an explicit `chmod` to get its documented mode.
    needs_chmod: bool,
    published: bool,
}

/// The staging directory and lock file of slot `k` for the stem `stem`.
fn slot_paths(parent: &Path, stem: &str, k: usize) -> (PathBuf, PathBuf) {
    (
        parent.join(format!(".{stem}.staging-{k}")),
        parent.join(format!(".{stem}.staging-{k}.lock")),
    )
}

/// Longest stem of `dest`'s name kept in a staging name, so that the staging and
/// lock names stay under `NAME_MAX` (255) whatever the length of `dest`'s name.
const STEM_MAX: usize = 200;

/// `dest`'s name, cut to [`STEM_MAX`] bytes (at a character boundary).
fn stem(dest_name: &OsStr) -> String {
    let mut stem: String = dest_name.to_string_lossy().into_owned();
    while stem.len() > STEM_MAX {
        stem.pop();
    }
    stem
}

/// The longest staging path [`Staging::create`] can make for `dest_name` under
/// `parent`: `.{stem}.staging-{k}` with a slot number of up to 20 digits. The plan
/// checks every entry's path against it.
pub(crate) fn staging_len_bound(parent: &Path, dest_name: &OsStr) -> usize {
    // The lossy conversion can turn one invalid byte into three bytes of U+FFFD.
    let stem = STEM_MAX.min(dest_name.len().saturating_mul(3));
    parent.as_os_str().len() + 1 + 1 + stem + ".staging-".len() + 20
}

/// Removes `path` and everything under it if it exists: a staging directory whose
/// extraction died.
fn remove_leftover(path: &Path) -> Result<(), UnzipError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(UnzipError::write(path)(e)),
        _ => Ok(()),
    }
}

impl Staging {
    /// Takes the lowest free staging slot for `dest_name` in `parent`, clears what a
    /// dead extraction left in it, creates its directory with mode 0o755, and removes
    /// the directories of the other slots of `dest_name` whose extractions died.
    pub(crate) fn create(parent: &Path, dest_name: &OsStr) -> Result<Self, UnzipError> {
        let stem = stem(dest_name);
        let mut k = 0;
        let (path, slot) = loop {
            let (path, lock_path) = slot_paths(parent, &stem, k);
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(UnzipError::write(&lock_path))?;
            match lock.try_lock() {
                Ok(()) => break (path, lock),
                // A live extraction stages in this slot: try the next one.
                Err(TryLockError::WouldBlock) => k += 1,
                Err(TryLockError::Error(e)) => return Err(UnzipError::write(&lock_path)(e)),
            }
        };
        // We hold the slot, so whatever is at `path` was left by a dead extraction.
        remove_leftover(&path)?;
        let staging = Staging::make_dir(path, slot)?;
        sweep(parent, &stem, k)?;
        Ok(staging)
    }

    fn make_dir(path: PathBuf, slot: File) -> Result<Self, UnzipError> {
        // Created with 0o755 rather than 0o777 so it is never writable by others,
        // even for an instant; the mode we get back reveals whether the umask
        // strips any of the bits 0o755 (and so 0o644) needs. One `stat` here
        // saves a `chmod` per file in the common case (umask 022 or 002).
        platform::create_dir(&path).map_err(UnzipError::write(&path))?;
        let mut staging = Staging {
            path,
            _slot: slot,
            needs_chmod: false,
            published: false,
        };
        if platform::umask_strips(&staging.path).map_err(UnzipError::write(&staging.path))? {
            staging.needs_chmod = true;
            platform::set_dir_mode(&staging.path).map_err(UnzipError::write(&staging.path))?;
        }
        Ok(staging)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn needs_chmod(&self) -> bool {
        self.needs_chmod
    }

    /// Renames the staging directory to `dest`. With `durable`, the parent
    /// directory is synced after the rename, so the new name survives a power cut.
    ///
    /// # Errors
    ///
    /// [`UnzipError::DestinationExists`] if `dest` exists (the staging directory is then
    /// removed), [`UnzipError::Publish`] if the rename fails otherwise.
    pub(crate) fn publish(mut self, dest: &Path, durable: bool) -> Result<(), UnzipError> {
        // `rename(2)` fails on a non-empty directory but silently replaces an empty
        // one; this check narrows that to a race with a process creating an empty
        // `dest` in the next microseconds. Closing it needs `renameat2(RENAME_NOREPLACE)`,
        // which std does not expose without `unsafe` or a new dependency.
        if dest.symlink_metadata().is_ok() {
            return Err(UnzipError::DestinationExists {
                dest: dest.to_owned(),
            });
        }
        match platform::rename_dir(&self.path, dest) {
            Ok(()) => {
                self.published = true;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::AlreadyExists | ErrorKind::DirectoryNotEmpty
                ) || dest.symlink_metadata().is_ok() =>
            {
                return Err(UnzipError::DestinationExists {
                    dest: dest.to_owned(),
                });
            }
            Err(source) => {
                return Err(UnzipError::Publish {
                    staging: self.path.clone(),
                    dest: dest.to_owned(),
                    source,
                });
            }
        }
        if durable {
            let parent = match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            sync_dir(parent)?;
        }
        Ok(())
    }
}

/// Flushes a directory's entries to the device (`fsync` on the directory), so files
/// created or renamed in it survive a power cut.
pub(crate) fn sync_dir(path: &Path) -> Result<(), UnzipError> {
    platform::sync_dir(path).map_err(UnzipError::write(path))
}

/// Removes the staging directories of `stem`'s slots other than `mine` whose lock can
/// be taken: their extractions are dead. Stops at the first slot without a lock file
/// (the lock files are numbered without gaps; see the module docs).
fn sweep(parent: &Path, stem: &str, mine: usize) -> Result<(), UnzipError> {
    for k in (0..).filter(|&k| k != mine) {
        let (path, lock_path) = slot_paths(parent, stem, k);
        let lock = match File::options().write(true).open(&lock_path) {
            Ok(lock) => lock,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(UnzipError::write(&lock_path)(e)),
        };
        match lock.try_lock() {
            // Dead: nobody can create this slot's directory while we hold its lock.
            Ok(()) => remove_leftover(&path)?,
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(UnzipError::write(&lock_path)(e)),
        }
    }
    Ok(())
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            // Nothing to report to: the caller already gets the error (or panic) that
            // brought us here. If this fails, the directory stays behind, and the next
            // extraction of the same `dest` removes it once our slot lock is released
            // (when `_slot` is dropped, right after this).
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
