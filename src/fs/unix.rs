//! [`Dir`] on Unix: an open directory descriptor, and every call relative to it
//! (`openat`, `mkdirat`, `unlinkat`, `renameat2`), none of which follows a symbolic
//! link.
//!
//! | call                    | how it refuses to follow a link                                    |
//! |-------------------------|--------------------------------------------------------------------|
//! | one component           | `O_NOFOLLOW` (`ELOOP` on a link), `AT_SYMLINK_NOFOLLOW` for `stat`  |
//! | a relative path         | Linux 5.6+: one `openat2` with `RESOLVE_NO_SYMLINKS` and `RESOLVE_BENEATH`; elsewhere (and where `openat2` is missing or filtered) one `openat(O_NOFOLLOW | O_DIRECTORY)` per component |
//! | removal                 | `unlinkat` on the name: a link is removed, never entered           |
//! | rename                  | `renameat2(RENAME_NOREPLACE)` (Linux), `renameatx_np(RENAME_EXCL)` (macOS): never replaces |
//!
//! The directory a `Dir` is opened on is the caller's choice ([`Dir::open`] resolves
//! the path as given, links included): the rule covers what lies inside it.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use super::Found;

/// The mode of every directory the layer creates (minus the umask).
const DIR_MODE: u32 = 0o755;
/// The mode of lock files.
const LOCK_MODE: u32 = 0o644;

/// An open directory: every operation names a path relative to it and never follows
/// a symbolic link inside it.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    /// Where it was when it was opened, for messages and for callers that need a path.
    path: PathBuf,
}

/// The identity of a file: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

/// `openat2` exists and is allowed here (until a call says otherwise).
#[cfg(any(target_os = "linux", target_os = "android"))]
static OPENAT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn mode(bits: u32) -> Mode {
    // `RawMode` is `u32` on Linux and `u16` on macOS; every mode used here fits both.
    Mode::from_raw_mode(bits as rustix::fs::RawMode)
}

#[allow(clippy::unnecessary_cast)] // `st_dev` and `st_ino` are not `u64` everywhere
fn file_id(stat: &rustix::fs::Stat) -> FileId {
    FileId {
        dev: stat.st_dev as u64,
        ino: stat.st_ino as u64,
    }
}

fn found(stat: &rustix::fs::Stat) -> Found {
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::Directory => Found::Dir,
        FileType::RegularFile => Found::File,
        FileType::Symlink => Found::Symlink,
        FileType::Fifo => Found::Other("FIFO"),
        FileType::Socket => Found::Other("socket"),
        FileType::CharacterDevice => Found::Other("character device"),
        FileType::BlockDevice => Found::Other("block device"),
        _ => Found::Other("special file"),
    }
}

impl Dir {
    /// Opens the directory at `path`, resolved as given.
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir {
            fd,
            path: path.to_owned(),
        })
    }

    /// Opens the directory at `path`, resolved as given except for its last
    /// component, which must not be a link.
    pub(crate) fn open_no_follow(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(Dir {
            fd,
            path: path.to_owned(),
        })
    }

    /// A second handle on the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// Where this directory was when it was opened.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory, for messages and for callers.
    pub(crate) fn join(&self, name: impl AsRef<OsStr>) -> PathBuf {
        let name = name.as_ref();
        self.path.join(name)
    }

    /// What is at `name`, without following it.
    pub(crate) fn stat(&self, name: impl AsRef<OsStr>) -> io::Result<Found> {
        let name = name.as_ref();
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(found(&stat)),
            Err(rustix::io::Errno::NOENT) => Ok(Found::Missing),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the directory `name` (one component); a link there is an error (`ELOOP`
    /// or `ENOTDIR`), never followed.
    pub(crate) fn open_dir(&self, name: impl AsRef<OsStr>) -> io::Result<Dir> {
        let name = name.as_ref();
        let fd = open_dir_at(self.fd.as_fd(), name)?;
        Ok(Dir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Opens the directory at the relative path `rel`, no link followed in any
    /// component.
    pub(crate) fn open_dir_beneath(&self, rel: &str) -> io::Result<Dir> {
        let fd = self.open_beneath(rel, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
        Ok(Dir {
            fd,
            path: self.path.join(rel),
        })
    }

    /// Creates the directory `name` (one component) with mode 0o755 minus the umask.
    pub(crate) fn make_dir(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        rustix::fs::mkdirat(&self.fd, name, mode(DIR_MODE))?;
        Ok(())
    }

    /// Creates the directory at the relative path `rel`, whose parent must exist; no
    /// link is followed on the way to the parent. With `exact_mode`, it gets exactly
    /// 0o755 whatever the umask.
    pub(crate) fn make_dir_beneath(&self, rel: &str, exact_mode: bool) -> io::Result<()> {
        let (parent, name) = split_last(rel);
        let opened;
        let parent_fd = match parent {
            Some(parent) => {
                opened = self.open_beneath(parent, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
                opened.as_fd()
            }
            None => self.fd.as_fd(),
        };
        rustix::fs::mkdirat(parent_fd, name, mode(DIR_MODE))?;
        if exact_mode {
            let dir = open_dir_at(parent_fd, OsStr::new(name))?;
            rustix::fs::fchmod(&dir, mode(DIR_MODE))?;
        }
        Ok(())
    }

    /// Creates a new file at the relative path `rel` for writing, with `file_mode`
    /// minus the umask. Fails if anything is there already (`O_EXCL`), and no link is
    /// followed in any component.
    pub(crate) fn create_file_beneath(&self, rel: &str, file_mode: u32) -> io::Result<File> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL;
        Ok(File::from(self.open_beneath(rel, flags, file_mode)?))
    }

    /// Opens the lock file `name` for locking, creating it (empty) if it is missing.
    /// A link there is an error, never followed.
    pub(crate) fn open_lock(&self, name: impl AsRef<OsStr>) -> io::Result<File> {
        let name = name.as_ref();
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::openat(
            &self.fd,
            name,
            flags,
            mode(LOCK_MODE),
        )?))
    }

    /// Opens the regular file `name` (one component) for reading. A link there is an
    /// error, never followed, and so is anything but a regular file; a FIFO put there
    /// is refused at once (`O_NONBLOCK`, which changes nothing for a regular file)
    /// instead of waiting for a writer.
    pub(crate) fn open_file(&self, name: impl AsRef<OsStr>) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let file = File::from(rustix::fs::openat(
            &self.fd,
            name.as_ref(),
            flags,
            Mode::empty(),
        )?);
        if !file.metadata()?.is_file() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        Ok(file)
    }

    /// Whether `name` still names the open `file` (the same device and inode).
    pub(crate) fn names_file(&self, name: impl AsRef<OsStr>, file: &File) -> io::Result<bool> {
        let name = name.as_ref();
        self.names_id(
            name,
            FileType::RegularFile,
            file_id(&rustix::fs::fstat(file)?),
        )
    }

    /// Whether `name` still names the directory `dir` (the same device and inode).
    pub(crate) fn names_dir(&self, name: impl AsRef<OsStr>, dir: &Dir) -> io::Result<bool> {
        let name = name.as_ref();
        self.names_id(
            name,
            FileType::Directory,
            file_id(&rustix::fs::fstat(&dir.fd)?),
        )
    }

    fn names_id(
        &self,
        name: impl AsRef<OsStr>,
        file_type: FileType,
        id: FileId,
    ) -> io::Result<bool> {
        let name = name.as_ref();
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => {
                Ok(FileType::from_raw_mode(stat.st_mode) == file_type && file_id(&stat) == id)
            }
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the file (or link) `name`.
    pub(crate) fn unlink(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?;
        Ok(())
    }

    /// Removes whatever is at `name`: a directory with everything under it, a file, a
    /// link (the link itself). Links inside are removed, never entered. Nothing there
    /// is not an error.
    pub(crate) fn remove_tree(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let name = name.as_ref();
        remove_at(self.fd.as_fd(), name)
    }

    /// Removes everything in this directory through its own handle, and closes it
    /// (the directory itself stays, empty, for its parent to remove). Needs no
    /// descriptor for this level, so it works when the process has none left.
    pub(crate) fn empty_out(self) -> io::Result<()> {
        remove_contents(self.fd)
    }

    /// Renames `from` to `to`, both in this directory, failing with
    /// [`io::ErrorKind::AlreadyExists`] if `to` exists.
    ///
    /// One `renameat2(RENAME_NOREPLACE)` (`renameatx_np(RENAME_EXCL)` on macOS). Where
    /// the file system does not support the flag: a file is linked to `to` (which
    /// fails if it exists) and unlinked from `from`; a directory is renamed after a
    /// check, and `rename(2)` itself fails on a non-empty directory at `to`.
    pub(crate) fn rename_noreplace(
        &self,
        from: impl AsRef<OsStr>,
        to: impl AsRef<OsStr>,
    ) -> io::Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
        match rustix::fs::renameat_with(
            &self.fd,
            from,
            &self.fd,
            to,
            rustix::fs::RenameFlags::NOREPLACE,
        ) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::EXIST) => {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            Err(
                rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP,
            ) => {}
            Err(e) => return Err(e.into()),
        }
        match self.stat(from)? {
            Found::File | Found::Symlink => {
                rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?;
                self.unlink(from)
            }
            _ => {
                if !matches!(self.stat(to)?, Found::Missing) {
                    return Err(io::Error::from(io::ErrorKind::AlreadyExists));
                }
                match rustix::fs::renameat(&self.fd, from, &self.fd, to) {
                    Err(rustix::io::Errno::EXIST | rustix::io::Errno::NOTEMPTY) => {
                        Err(io::Error::from(io::ErrorKind::AlreadyExists))
                    }
                    other => Ok(other?),
                }
            }
        }
    }

    /// Flushes this directory's entries to the device.
    pub(crate) fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }

    /// Flushes the data of the file at the relative path `rel` to the device.
    pub(crate) fn sync_file_beneath(&self, rel: &str) -> io::Result<()> {
        let fd = self.open_beneath(rel, OFlags::RDONLY, 0)?;
        rustix::fs::fsync(&fd)?;
        Ok(())
    }

    /// Gives the file at the relative path `rel` exactly `file_mode`, reaching it
    /// without following a link.
    pub(crate) fn set_file_mode_beneath(&self, rel: &str, file_mode: u32) -> io::Result<()> {
        let fd = self.open_beneath(rel, OFlags::RDONLY, 0)?;
        rustix::fs::fchmod(&fd, mode(file_mode))?;
        Ok(())
    }

    /// The permission bits of this directory.
    #[allow(clippy::useless_conversion)] // `st_mode` is `u16` on macOS
    pub(crate) fn permissions(&self) -> io::Result<u32> {
        Ok(u32::from(rustix::fs::fstat(&self.fd)?.st_mode) & 0o7777)
    }

    /// Gives this directory exactly 0o755.
    pub(crate) fn set_dir_mode(&self) -> io::Result<()> {
        rustix::fs::fchmod(&self.fd, mode(DIR_MODE))?;
        Ok(())
    }

    /// The names in this directory (without `.` and `..`; names that are not UTF-8
    /// are left out: the layer never creates one).
    pub(crate) fn list(&self) -> io::Result<Vec<String>> {
        Ok(list_at(self.fd.as_fd())?
            .into_iter()
            .filter_map(|name| String::from_utf8(name).ok())
            .collect())
    }

    /// The relative walk of [`Dir::open_dir_beneath`] and friends: one `openat2` that
    /// refuses every link, or one no-follow `openat` per component where that is
    /// missing.
    fn open_beneath(&self, rel: &str, flags: OFlags, file_mode: u32) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if OPENAT2.load(std::sync::atomic::Ordering::Relaxed) {
            use rustix::fs::ResolveFlags;
            let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
            match rustix::fs::openat2(&self.fd, rel, flags, mode(file_mode), resolve) {
                // Older kernels, and sandboxes that filter the call (seccomp answers
                // `EPERM` or `ENOSYS`), get the walk below from now on.
                Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
                    OPENAT2.store(false, std::sync::atomic::Ordering::Relaxed);
                }
                other => return Ok(other?),
            }
        }
        let (parent, name) = split_last(rel);
        let mut walked: Option<OwnedFd> = None;
        for component in parent.into_iter().flat_map(|p| p.split('/')) {
            let at = walked.as_ref().map_or(self.fd.as_fd(), AsFd::as_fd);
            walked = Some(open_dir_at(at, OsStr::new(component))?);
        }
        let at = walked.as_ref().map_or(self.fd.as_fd(), AsFd::as_fd);
        Ok(rustix::fs::openat(at, name, flags, mode(file_mode))?)
    }
}

/// `rel` split at its last `/`: the parent (if any) and the last component.
fn split_last(rel: &str) -> (Option<&str>, &str) {
    match rel.rsplit_once('/') {
        Some((parent, name)) => (Some(parent), name),
        None => (None, rel),
    }
}

fn open_dir_at(at: std::os::fd::BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(at, name, flags, Mode::empty())?)
}

/// The raw names in the directory `at` (without `.` and `..`).
fn list_at(at: std::os::fd::BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    read_names(&mut rustix::fs::Dir::read_from(at)?)
}

fn read_names(dir: &mut rustix::fs::Dir) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    while let Some(entry) = dir.read() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(name);
        }
    }
    Ok(names)
}

/// Removes `name` in `at` and, if it is a directory, everything under it first. An
/// empty directory, a file or a link goes without opening anything (so removal works
/// even when the process is out of descriptors); a directory with contents costs one
/// descriptor per level.
fn remove_at(at: std::os::fd::BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rustix::fs::unlinkat(at, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) => {}
        // A file, a link (removed itself, never entered), a FIFO.
        Err(rustix::io::Errno::NOTDIR) => {
            return match rustix::fs::unlinkat(at, name, AtFlags::empty()) {
                Err(rustix::io::Errno::NOENT) => Ok(()),
                other => Ok(other?),
            };
        }
        Err(e) => return Err(e.into()),
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(at, name, flags, Mode::empty()) {
        Ok(dir) => remove_contents(dir)?,
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        // Replaced by a file or a link since: remove the name, never enter it.
        Err(rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP) => {}
        Err(e) => return Err(e.into()),
    }
    match rustix::fs::unlinkat(at, name, AtFlags::REMOVEDIR) {
        Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(rustix::io::Errno::NOTDIR) => Ok(rustix::fs::unlinkat(at, name, AtFlags::empty())?),
        other => Ok(other?),
    }
}

/// Removes everything in the open directory `dir`, through it (no descriptor besides
/// `dir` itself at this level), and closes it. Every name is read first, then
/// removed: a directory is not read while it changes.
fn remove_contents(dir: OwnedFd) -> io::Result<()> {
    let mut dir = rustix::fs::Dir::new(dir)?;
    let children = read_names(&mut dir)?;
    let at = dir.fd()?;
    for child in children {
        remove_at(at, OsStr::from_bytes(&child))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `open_file` refuses a FIFO without waiting for a writer to open it, and a link
    /// without following it; a regular file opens.
    #[test]
    fn open_file_refuses_a_fifo_at_once_and_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("fifo"))
            .status()
            .expect("mkfifo is part of every Unix");
        assert!(made.success());
        std::fs::write(dir.path().join("file"), b"bytes").unwrap();
        std::os::unix::fs::symlink("file", dir.path().join("link")).unwrap();
        let path = dir.path().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let root = Dir::open(&path).unwrap();
            let fifo = root.open_file("fifo").map(|_| ()).map_err(|e| e.kind());
            let link = root.open_file("link").is_err();
            let file = root.open_file("file").is_ok();
            let _ = tx.send((fifo, link, file));
        });
        let (fifo, link, file) = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("open_file waited for a writer of the FIFO");
        assert_eq!(fifo, Err(io::ErrorKind::InvalidInput));
        assert!(link, "a link is not followed");
        assert!(file, "a regular file opens");
    }
}
