//! [`Space`]: the directory operations the protocols of this layer are written over,
//! and their implementation on a real directory ([`Dir`]).
//!
//! The protocols (locks, staging slots, build-once) take a `Space` so that the shuttle
//! models in `shuttle-tests/` run the same code over a simulated directory, with
//! processes that die between any two of these calls.
#![cfg_attr(not(shuttle), allow(unreachable_pub))]

use std::fs::{File, TryLockError};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::lock::LockSpace;
use super::{Dir, Found};

/// What is at a name, as the protocols see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing.
    Missing,
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (or junction): never followed, never used.
    Link,
    /// A FIFO, socket or device: never used.
    Other,
}

/// A directory the protocols work in: locks, plus what staging and publishing need.
///
/// `make_dir` and `rename_noreplace` are what a build does in a simulated directory;
/// the real builds go through [`Staging`](super::Staging), which also checks
/// identities on a real one.
#[cfg_attr(not(shuttle), allow(dead_code))]
pub trait Space: LockSpace {
    /// What is at `name`, not following a link.
    fn kind(&self, name: &str) -> io::Result<Kind>;
    /// Creates the directory `name`; fails if anything is there.
    fn make_dir(&self, name: &str) -> io::Result<()>;
    /// Removes whatever is at `name` (a directory with its contents), never following
    /// a link; nothing there is not an error.
    fn remove_tree(&self, name: &str) -> io::Result<()>;
    /// Renames `from` to `to`; fails with [`io::ErrorKind::AlreadyExists`] if `to`
    /// exists, and never replaces it.
    fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()>;
    /// The names in the directory.
    fn list(&self) -> io::Result<Vec<String>>;
}

impl LockSpace for Dir {
    type File = File;

    fn open_lock(&self, name: &str) -> io::Result<File> {
        Dir::open_lock(self, name)
    }

    fn try_lock(&self, file: &File) -> io::Result<bool> {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn names_file(&self, name: &str, file: &File) -> io::Result<bool> {
        Dir::names_file(self, name, file)
    }

    fn unlink(&self, name: &str) -> io::Result<()> {
        Dir::unlink(self, name)
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.join(name)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn pause(&self, pause: Duration) {
        std::thread::sleep(pause);
    }
}

impl Space for Dir {
    fn kind(&self, name: &str) -> io::Result<Kind> {
        Ok(match self.stat(name)? {
            Found::Missing => Kind::Missing,
            Found::Dir => Kind::Dir,
            Found::File => Kind::File,
            Found::Symlink => Kind::Link,
            Found::Other(_) => Kind::Other,
        })
    }

    fn make_dir(&self, name: &str) -> io::Result<()> {
        Dir::make_dir(self, name)
    }

    fn remove_tree(&self, name: &str) -> io::Result<()> {
        Dir::remove_tree(self, name)
    }

    fn rename_noreplace(&self, from: &str, to: &str) -> io::Result<()> {
        Dir::rename_noreplace(self, from, to)
    }

    fn list(&self) -> io::Result<Vec<String>> {
        Dir::list(self)
    }
}
