//! [`Dir`] on Windows: a directory path and a handle on the directory, with checks
//! where Unix has no-follow calls.
//!
//! std exposes no handle-relative calls on Windows (`NtCreateFile` with a root
//! directory needs `unsafe` bindings), so this side checks instead:
//!
//! | call                 | how it refuses to follow a link (symbolic link or junction)            |
//! |----------------------|------------------------------------------------------------------------|
//! | one component        | `FILE_FLAG_OPEN_REPARSE_POINT` on opens; the type checked before use   |
//! | a relative path      | every component checked to be a plain directory when a directory is made; files are opened with `FILE_FLAG_OPEN_REPARSE_POINT` |
//! | identity             | volume serial number and file index (the `same-file` crate)            |
//! | removal              | a link is removed itself; std's `remove_dir_all` never enters one      |
//! | rename               | a directory rename never replaces; a file is hard-linked, then unlinked |
//!
//! What remains: a directory swapped for a junction between the check and a file's
//! creation under it. Creating junctions needs write access to the cache's own
//! directories, as on every platform.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use same_file::Handle;

use super::Found;

/// Opens the final component itself, never what a reparse point refers to.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// Needed to open a directory handle.
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;

/// An open directory: every operation names a path relative to it and never follows
/// a symbolic link or junction inside it.
#[derive(Debug)]
pub(crate) struct Dir {
    path: PathBuf,
    /// Keeps the directory's identity for [`Dir::names_dir`].
    handle: Handle,
}

fn not_followed(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is a symbolic link or junction: not followed",
            path.display()
        ),
    )
}

impl Dir {
    /// Opens the directory at `path`, resolved as given.
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        if !fs::metadata(path)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", path.display()),
            ));
        }
        Ok(Dir {
            path: path.to_owned(),
            handle: Handle::from_path(path)?,
        })
    }

    /// Opens the directory at `path`, resolved as given except for its last
    /// component, which must not be a link or junction.
    pub(crate) fn open_no_follow(path: &Path) -> io::Result<Dir> {
        match stat_path(path)? {
            Found::Symlink => Err(not_followed(path)),
            _ => Dir::open(path),
        }
    }

    /// A second handle on the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            path: self.path.clone(),
            handle: Handle::from_path(&self.path)?,
        })
    }

    /// Where this directory was when it was opened.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory.
    pub(crate) fn join(&self, name: impl AsRef<OsStr>) -> PathBuf {
        let name = name.as_ref();
        self.path.join(name)
    }

    /// What is at `name`, without following it.
    pub(crate) fn stat(&self, name: impl AsRef<OsStr>) -> io::Result<Found> {
        let name = name.as_ref();
        stat_path(&self.join(name))
    }

    /// Opens the directory `name` (one component); a link there is an error.
    pub(crate) fn open_dir(&self, name: impl AsRef<OsStr>) -> io::Result<Dir> {
        let name = name.as_ref();
        let path = self.join(name);
        match stat_path(&path)? {
            Found::Dir => Dir::open(&path),
            Found::Symlink => Err(not_followed(&path)),
            Found::Missing => Err(io::Error::from(io::ErrorKind::NotFound)),
            _ => Err(io::Error::from(io::ErrorKind::NotADirectory)),
        }
    }

    /// Opens the directory at the relative path `rel`, checking every component.
    pub(crate) fn open_dir_beneath(&self, rel: &str) -> io::Result<Dir> {
        self.check_dirs(rel)?;
        Dir::open(&self.join(rel))
    }

    /// Creates the directory `name` (one component).
    pub(crate) fn make_dir(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        fs::create_dir(self.join(name))
    }

    /// Creates the directory at the relative path `rel`, after checking that every
    /// component of its parent is a plain directory.
    pub(crate) fn make_dir_beneath(&self, rel: &str, _exact_mode: bool) -> io::Result<()> {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.check_dirs(parent)?;
        }
        fs::create_dir(self.join(rel))
    }

    /// Creates a new file at the relative path `rel` for writing; the final component
    /// is never followed (the parents were checked when they were made).
    pub(crate) fn create_file_beneath(&self, rel: &str, _mode: u32) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(self.join(rel))
    }

    /// Opens the lock file `name`, creating it if it is missing; a link is an error.
    /// A lock file that its holder removed while another process still has it open
    /// stays "delete pending" until that handle closes, and cannot be opened
    /// meanwhile (access denied): that is reported as
    /// [`io::ErrorKind::WouldBlock`], a lock busy for a moment.
    pub(crate) fn open_lock(&self, name: impl AsRef<OsStr>) -> io::Result<File> {
        let name = name.as_ref();
        let path = self.join(name);
        let opened = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(&path);
        let file = match opened {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(io::Error::new(io::ErrorKind::WouldBlock, e));
            }
            other => other?,
        };
        if file.metadata()?.file_type().is_symlink() {
            return Err(not_followed(&path));
        }
        Ok(file)
    }

    /// Opens the regular file `name` (one component) for reading. A link there is an
    /// error, never followed, and so is anything but a regular file.
    pub(crate) fn open_file(&self, name: impl AsRef<OsStr>) -> io::Result<File> {
        let path = self.join(name.as_ref());
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(&path)?;
        let file_type = file.metadata()?.file_type();
        if file_type.is_symlink() {
            return Err(not_followed(&path));
        }
        if !file_type.is_file() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        Ok(file)
    }

    /// Whether `name` still names the open `file`. A file being deleted cannot be
    /// opened (access denied): it is not named any more.
    pub(crate) fn names_file(&self, name: impl AsRef<OsStr>, file: &File) -> io::Result<bool> {
        let name = name.as_ref();
        let there = match Handle::from_path(self.join(name)) {
            Ok(handle) => handle,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
                ) =>
            {
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        Ok(there == Handle::from_file(file.try_clone()?)?)
    }

    /// Whether `name` still names the directory `dir`.
    pub(crate) fn names_dir(&self, name: impl AsRef<OsStr>, dir: &Dir) -> io::Result<bool> {
        let name = name.as_ref();
        let path = self.join(name);
        if !matches!(stat_path(&path)?, Found::Dir) {
            return Ok(false);
        }
        Ok(Handle::from_path(&path)? == dir.handle)
    }

    /// Removes the file (or link) `name`.
    pub(crate) fn unlink(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        fs::remove_file(self.join(name))
    }

    /// Removes whatever is at `name` (a link itself, never its target). Nothing there
    /// is not an error.
    pub(crate) fn remove_tree(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        let path = self.join(name);
        let result = match fs::symlink_metadata(&path) {
            Err(e) => Err(e),
            // A directory link (or junction) is removed as a directory, without
            // entering it; a file link as a file.
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::remove_dir(&path).or_else(|_| fs::remove_file(&path))
            }
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Removes everything in this directory, and closes the handle (the directory
    /// itself stays, empty, for its parent to remove).
    pub(crate) fn empty_out(self) -> io::Result<()> {
        for name in self.list()? {
            self.remove_tree(&name)?;
        }
        Ok(())
    }

    /// Renames `from` to `to` in this directory, never replacing `to`
    /// ([`io::ErrorKind::AlreadyExists`] if it exists).
    ///
    /// Antivirus scanners and search indexers open fresh files, and while they hold
    /// one the rename of its directory fails with "access denied" or a sharing
    /// violation. Installers retry such renames; so does this, with a doubling delay
    /// from 10 ms, for about 2.5 s in all, and only while `to` does not exist.
    pub(crate) fn rename_noreplace(
        &self,
        from: impl AsRef<OsStr>,
        to: impl AsRef<OsStr>,
    ) -> io::Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        let (from_path, to_path) = (self.join(from), self.join(to));
        if !matches!(stat_path(&to_path)?, Found::Missing) {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        if matches!(stat_path(&from_path)?, Found::File) {
            // `MoveFileEx` replaces files; a hard link never does.
            fs::hard_link(&from_path, &to_path)?;
            return fs::remove_file(&from_path);
        }
        const ERROR_SHARING_VIOLATION: i32 = 32;
        let mut delay = std::time::Duration::from_millis(10);
        for _ in 0..8 {
            match fs::rename(&from_path, &to_path) {
                Err(e)
                    if (e.kind() == io::ErrorKind::PermissionDenied
                        || e.raw_os_error() == Some(ERROR_SHARING_VIOLATION))
                        && matches!(stat_path(&to_path), Ok(Found::Missing)) =>
                {
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                other => return exists_if_there(other, &to_path),
            }
        }
        exists_if_there(fs::rename(&from_path, &to_path), &to_path)
    }

    /// Flushes this directory's entries (`FlushFileBuffers` on a directory handle).
    pub(crate) fn sync(&self) -> io::Result<()> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(&self.path)?
            .sync_all()
    }

    /// Flushes the data of the file at the relative path `rel`.
    pub(crate) fn sync_file_beneath(&self, rel: &str) -> io::Result<()> {
        OpenOptions::new()
            .write(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(self.join(rel))?
            .sync_all()
    }

    /// Windows has no mode bits to set.
    pub(crate) fn set_file_mode_beneath(&self, _rel: &str, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    /// Windows has no mode bits to report.
    pub(crate) fn permissions(&self) -> io::Result<u32> {
        Ok(0o755)
    }

    /// Windows has no mode bits to set.
    pub(crate) fn set_dir_mode(&self) -> io::Result<()> {
        Ok(())
    }

    /// The names in this directory (names that are not UTF-8 are left out).
    pub(crate) fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Every component of `rel` must be a plain directory.
    fn check_dirs(&self, rel: &str) -> io::Result<()> {
        let mut path = self.path.clone();
        for component in rel.split('/') {
            path.push(component);
            match stat_path(&path)? {
                Found::Dir => {}
                Found::Symlink => return Err(not_followed(&path)),
                Found::Missing => return Err(io::Error::from(io::ErrorKind::NotFound)),
                _ => return Err(io::Error::from(io::ErrorKind::NotADirectory)),
            }
        }
        Ok(())
    }
}

fn exists_if_there(result: io::Result<()>, to: &Path) -> io::Result<()> {
    match result {
        Err(_) if !matches!(stat_path(to), Ok(Found::Missing)) => {
            Err(io::Error::from(io::ErrorKind::AlreadyExists))
        }
        other => other,
    }
}

fn stat_path(path: &Path) -> io::Result<Found> {
    match fs::symlink_metadata(path) {
        Ok(meta) => {
            let file_type = meta.file_type();
            Ok(if file_type.is_symlink() {
                Found::Symlink
            } else if file_type.is_dir() {
                Found::Dir
            } else if file_type.is_file() {
                Found::File
            } else {
                Found::Other("special file")
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) => Err(e),
    }
}
