//! [`Staging`]: a directory or file being filled beside its destination, published by
//! one rename or removed.
//!
//! # Invariant
//!
//! From its creation until [`Staging::publish`] succeeds, a staging entry is owned by
//! one `Staging` value, and dropping that value (an error returned with `?`, a panic
//! unwinding) removes it, never following a link, then releases its slot if it has
//! one. The destination is only ever created by one rename that never replaces
//! anything, so nobody sees it half-written.
//!
//! # Nothing swapped in
//!
//! The layer keeps a handle on what it created (the staging directory's descriptor,
//! or the staging file). Before the rename it checks that the staging name still
//! names that directory or file, and after the rename that the destination does: a
//! link or another directory put there while the entry was filled is never published
//! ([`FsError::Replaced`]; what the rename moved is removed again).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::path::PathBuf;

use super::Dir;
use super::error::FsError;
use super::lock::Held;
use super::slots;

/// What is being filled.
#[derive(Debug)]
enum Filling {
    Dir(Dir),
    File(File),
}

/// A fresh, empty directory or file beside its destination, removed on drop unless
/// published.
#[derive(Debug)]
pub(crate) struct Staging<'p> {
    parent: &'p Dir,
    name: String,
    /// `None` once closed (before removal or after publishing).
    filling: Option<Filling>,
    /// The umask strips bits of 0o755 (directories only): everything created in the
    /// directory needs an explicit mode.
    needs_chmod: bool,
    published: bool,
    /// The slot's lock, when the staging entry is in a slot: released after the
    /// entry is published or removed (fields drop after `Drop::drop`).
    slot: Option<Held<'p, Dir>>,
}

/// How many times a removal is tried when the process is out of file descriptors:
/// removing a tree needs one per level, and the descriptors of the failing job's
/// other threads are being closed at that moment.
const REMOVAL_ATTEMPTS: u32 = 16;
/// The longest pause between two removal attempts (about 2.5 s in all).
const REMOVAL_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

impl<'p> Staging<'p> {
    /// A fresh staging directory in the lowest free slot of `stem` in `parent`; also
    /// removes the slots of `stem` that dead jobs left.
    pub(crate) fn in_slot(parent: &'p Dir, stem: &str) -> Result<Self, FsError> {
        let (k, held) = slots::take(parent, stem)?;
        let (name, _) = slots::slot_names(stem, k);
        let mut staging = Staging::dir(parent, &name)?;
        staging.slot = Some(held);
        // Best effort: failing to clean up after another, dead job is no reason to
        // fail this one (the next job of the stem tries again).
        let _ = slots::sweep(parent, stem, Some(k));
        Ok(staging)
    }

    /// A fresh, empty staging file in the lowest free slot of `stem` in `parent`; also
    /// removes the slots of `stem` that dead jobs left.
    pub(crate) fn file_in_slot(parent: &'p Dir, stem: &str) -> Result<Self, FsError> {
        let (k, held) = slots::take(parent, stem)?;
        let (name, _) = slots::slot_names(stem, k);
        let mut staging = Staging::file(parent, &name)?;
        staging.slot = Some(held);
        // Best effort, as for a directory.
        let _ = slots::sweep(parent, stem, Some(k));
        Ok(staging)
    }

    /// A fresh staging directory `name` in `parent`. The caller holds the lock that
    /// makes `name` its own: whatever is there was left by a dead process and is
    /// removed first.
    pub(crate) fn dir(parent: &'p Dir, name: &str) -> Result<Self, FsError> {
        let path = parent.join(name);
        parent
            .remove_tree(name)
            .map_err(FsError::io("remove", &path))?;
        parent
            .make_dir(name)
            .map_err(FsError::io("create directory", &path))?;
        // From here on, `Drop` removes it.
        let mut staging = Staging {
            parent,
            name: name.to_owned(),
            filling: None,
            needs_chmod: false,
            published: false,
            slot: None,
        };
        let dir = parent.open_dir(name).map_err(FsError::io("open", &path))?;
        // Created with 0o755 rather than 0o777, so it is never writable by others, even
        // for an instant; the mode we get back reveals whether the umask strips bits
        // that 0o755 (and so 0o644) needs. One `fstat` here saves a `chmod` per file
        // in the common case (umask 022 or 002).
        if dir.permissions().map_err(FsError::io("look at", &path))? & 0o777 != 0o755 {
            staging.needs_chmod = true;
            dir.set_dir_mode()
                .map_err(FsError::io("set the mode of", &path))?;
        }
        staging.filling = Some(Filling::Dir(dir));
        Ok(staging)
    }

    /// A fresh, empty staging file `name` in `parent`, under a lock the caller holds.
    pub(crate) fn file(parent: &'p Dir, name: &str) -> Result<Self, FsError> {
        let path = parent.join(name);
        parent
            .remove_tree(name)
            .map_err(FsError::io("remove", &path))?;
        let file = parent
            .create_file_beneath(name, 0o644)
            .map_err(FsError::io("create", &path))?;
        Ok(Staging {
            parent,
            name: name.to_owned(),
            filling: Some(Filling::File(file)),
            needs_chmod: false,
            published: false,
            slot: None,
        })
    }

    /// The staging entry's path.
    pub(crate) fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// The staging directory's handle (`None` for a file).
    pub(crate) fn dir_handle(&self) -> Option<&Dir> {
        match &self.filling {
            Some(Filling::Dir(dir)) => Some(dir),
            _ => None,
        }
    }

    /// The staging file (`None` for a directory).
    pub(crate) fn file_handle(&mut self) -> Option<&mut File> {
        match &mut self.filling {
            Some(Filling::File(file)) => Some(file),
            _ => None,
        }
    }

    /// Whether files and directories created in the staging directory need an
    /// explicit mode (the umask strips bits of 0o755).
    pub(crate) fn needs_chmod(&self) -> bool {
        self.needs_chmod
    }

    /// Flushes everything under the staging entry to the device: every file's data
    /// and every directory (a walk that never follows a link).
    pub(crate) fn sync_all(&self) -> Result<(), FsError> {
        let path = self.path();
        match &self.filling {
            Some(Filling::Dir(dir)) => sync_tree(dir).map_err(FsError::io("flush", &path)),
            Some(Filling::File(file)) => file.sync_all().map_err(FsError::io("flush", &path)),
            None => Ok(()),
        }
    }

    /// Renames the staging entry to `dest` (in the same parent), never replacing
    /// anything. With `durable`, the parent is flushed after the rename so the new
    /// name survives a power cut (the caller flushed the contents before).
    ///
    /// # Errors
    ///
    /// [`FsError::Exists`] if `dest` exists (the staging entry is then removed);
    /// [`FsError::Replaced`] if something replaced the staging entry while it was
    /// filled (nothing is published); [`FsError::Io`] if the rename or flush fails.
    pub(crate) fn publish(mut self, dest: &OsStr, durable: bool) -> Result<(), FsError> {
        let path = self.path();
        let dest_path = self.parent.join(dest);
        if !self
            .still_ours(&self.name)
            .map_err(FsError::io("look at", &path))?
        {
            return Err(FsError::Replaced { path });
        }
        match self.parent.rename_noreplace(&self.name, dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(FsError::Exists { path: dest_path });
            }
            Err(e) => return Err(FsError::io("rename", &path)(e)),
        }
        // Swapped between the check and the rename: what we renamed is not ours. Take
        // it away again (a link goes, never followed) and publish nothing.
        if !self
            .still_ours(dest)
            .map_err(FsError::io("look at", &dest_path))?
        {
            let _ = self.parent.remove_tree(dest);
            return Err(FsError::Replaced { path });
        }
        self.published = true;
        if durable {
            self.parent
                .sync()
                .map_err(FsError::io("flush", self.parent.path()))?;
        }
        Ok(())
    }

    /// Whether `name` in the parent names the directory or file we created.
    fn still_ours(&self, name: impl AsRef<OsStr>) -> io::Result<bool> {
        match &self.filling {
            Some(Filling::Dir(dir)) => self.parent.names_dir(name, dir),
            Some(Filling::File(file)) => self.parent.names_file(name, file),
            None => Ok(false),
        }
    }
}

/// Flushes every file and directory under `dir`, children before their parents.
fn sync_tree(dir: &Dir) -> io::Result<()> {
    for name in dir.list()? {
        match dir.stat(&name)? {
            super::Found::Dir => sync_tree(&dir.open_dir(&name)?)?,
            super::Found::File => dir.sync_file_beneath(&name)?,
            // Links and special files have no data of ours to flush.
            _ => {}
        }
    }
    dir.sync()
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let filling = self.filling.take();
        if self.published {
            return;
        }
        // Nothing to report to: the caller already gets the error (or panic) that
        // brought us here. The directory is emptied through our own handle, which
        // needs no new descriptor at its top level; out of descriptors, we wait for
        // the failing job's other threads to close theirs and try again. If it still
        // fails, the entry stays, and the next job that takes this slot or id removes
        // it (our lock is released right after this).
        let mut contents = match filling {
            Some(Filling::Dir(dir)) => Some(dir),
            // Closed first: on Windows an open handle keeps a file from going away.
            _ => None,
        };
        for attempt in 0..REMOVAL_ATTEMPTS {
            let emptied = contents.take().map_or(Ok(()), Dir::empty_out);
            match emptied.and_then(|()| self.parent.remove_tree(&self.name)) {
                Err(e) if out_of_descriptors(&e) && attempt + 1 < REMOVAL_ATTEMPTS => {
                    std::thread::sleep(
                        REMOVAL_PAUSE.min(std::time::Duration::from_millis(5 << attempt)),
                    );
                }
                _ => break,
            }
        }
    }
}

/// `EMFILE` or `ENFILE` (and their Windows counterpart).
fn out_of_descriptors(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(windows)]
    {
        const ERROR_TOO_MANY_OPEN_FILES: i32 = 4;
        error.raw_os_error() == Some(ERROR_TOO_MANY_OPEN_FILES)
    }
}
