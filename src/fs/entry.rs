//! An entry of a cache root, `root/<id>`, built at most once across processes.
//!
//! | name in the root  | what it is                              | when it is there                         |
//! |-------------------|-----------------------------------------|------------------------------------------|
//! | `<id>`            | the complete entry (directory or file)  | from its publication on                  |
//! | `.<id>.lock`      | the id's lock ([`super::lock`]), empty  | while a process builds or waits for `<id>`; after a crash, until the id is next requested or swept |
//! | `.<id>.staging`   | the entry being built                   | while it is built; after a crash, the same |
//!
//! The protocol ([`get_or_build`]):
//!
//! 1. `<id>` complete? Use it: entries appear only by a rename of a complete staging
//!    entry, so one that is there is whole.
//! 2. Lock `.<id>.lock`, waiting for another process that holds it (up to the
//!    caller's deadline).
//! 3. `<id>` complete now? The process we waited for built it: release and use it.
//! 4. We hold the lock, so `.<id>.staging`, if there, was left by a dead process:
//!    remove it. Build into a fresh `.<id>.staging`, and rename it to `<id>`, never
//!    replacing anything.
//! 5. Release the lock, which removes `.<id>.lock`.
//!
//! So among processes that follow the protocol, one build per id runs at a time, and
//! none once the entry exists. A process that builds without the lock (an older
//! version, another program) can only make our rename fail: the entry is there,
//! complete, and is used; our staging entry is removed.
#![cfg_attr(not(shuttle), allow(unreachable_pub))]

use super::error::FsError;
use super::lock::{self, Acquired, Wait};
use super::space::{Kind, Space};

/// The lock file of `id`.
pub fn lock_name(id: &str) -> String {
    format!(".{id}.lock")
}

/// The staging entry of `id`.
pub fn staging_name(id: &str) -> String {
    format!(".{id}.staging")
}

/// Whether an entry is a directory or a single file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A directory the build fills.
    Dir,
    /// One regular file the build writes.
    File,
}

impl Shape {
    fn kind(self) -> Kind {
        match self {
            Shape::Dir => Kind::Dir,
            Shape::File => Kind::File,
        }
    }

    /// A word for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Dir => "directory",
            Shape::File => "file",
        }
    }
}

/// How [`get_or_build`] found its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// This call built and published the entry (else it found it complete).
    pub built: bool,
    /// This call waited for another process holding the id's lock.
    pub waited_for_process: bool,
}

/// Why [`get_or_build`] has no entry: the layer's own failure, or the build's.
#[derive(Debug)]
pub enum EntryError<E> {
    /// Locking, staging, publishing or looking failed.
    Fs(FsError),
    /// The build failed.
    Build(E),
}

impl<E> From<FsError> for EntryError<E> {
    fn from(error: FsError) -> Self {
        EntryError::Fs(error)
    }
}

/// Whether the complete entry `id` of shape `shape` is in `space`.
///
/// # Errors
///
/// [`FsError::UnexpectedType`] when something else is there (a link, a file where a
/// directory belongs): it is never followed or used. [`FsError::Io`] when it cannot
/// be looked at.
pub fn find<S: Space>(space: &S, id: &str, shape: Shape) -> Result<bool, FsError> {
    let kind = space
        .kind(id)
        .map_err(FsError::io("look at", &space.path_of(id)))?;
    match kind {
        Kind::Missing => Ok(false),
        kind if kind == shape.kind() => Ok(true),
        other => Err(FsError::UnexpectedType {
            path: space.path_of(id),
            found: match other {
                Kind::Dir => "directory",
                Kind::File => "file",
                Kind::Link => "symbolic link",
                _ => "special file",
            },
            expected: shape.describe(),
        }),
    }
}

/// Finds the entry `id`, or builds it once across processes (see the module docs).
///
/// `build` gets the staging name, on which nothing is; it must create the staging
/// entry there, fill it, and rename it to `id` with [`Space::rename_noreplace`] (the
/// real one does that through [`super::Staging`], which also checks that nothing
/// replaced the staging entry). `on_wait` is called once if another process holds the
/// lock.
///
/// # Errors
///
/// [`EntryError::Build`] with the build's error; [`EntryError::Fs`] when the entry
/// cannot be looked at, the lock cannot be taken (or not before the deadline of
/// `wait`), or the leftover of a dead process cannot be removed.
pub fn get_or_build<S: Space, E>(
    space: &S,
    id: &str,
    shape: Shape,
    wait: Wait,
    on_wait: impl FnMut(),
    build: impl FnOnce(&str) -> Result<(), EntryError<E>>,
) -> Result<Resolved, EntryError<E>> {
    if find(space, id, shape)? {
        return Ok(Resolved {
            built: false,
            waited_for_process: false,
        });
    }
    let mut waited_for_process = false;
    let mut on_wait = on_wait;
    let acquired = lock::lock(space, &lock_name(id), wait, || {
        waited_for_process = true;
        on_wait();
    })?;
    let Acquired::Held(held) = acquired else {
        // Only `Wait::No` gives up on a busy lock.
        return Err(EntryError::Fs(FsError::LockTimeout {
            path: space.path_of(&lock_name(id)),
            waited: std::time::Duration::ZERO,
        }));
    };
    if find(space, id, shape)? {
        // The entry is complete; a lock file we fail to remove stays empty and
        // harmless (a sweep removes it), and is no reason to fail the request.
        let _ = held.release();
        return Ok(Resolved {
            built: false,
            waited_for_process,
        });
    }
    let staging = staging_name(id);
    space
        .remove_tree(&staging)
        .map_err(FsError::io("remove", &space.path_of(&staging)))?;
    build(&staging)?;
    // The entry is published; a lock file we fail to remove stays empty and harmless
    // until a sweep, and is no reason to fail a request whose entry is complete.
    let _ = held.release();
    Ok(Resolved {
        built: true,
        waited_for_process,
    })
}

/// Removes what dead processes left in `space` (an entry's lock file and staging
/// entry, for every id whose lock is free), and returns how many ids it cleaned.
/// Ids being built are skipped.
///
/// # Errors
///
/// [`FsError::Io`] when the directory cannot be listed, or a leftover cannot be
/// locked or removed.
pub fn sweep<S: Space>(space: &S) -> Result<usize, FsError> {
    let names = space
        .list()
        .map_err(FsError::io("list", &space.path_of("")))?;
    let mut ids: Vec<&str> = names
        .iter()
        .filter_map(|name| {
            let rest = name.strip_prefix('.')?;
            rest.strip_suffix(".lock")
                .or_else(|| rest.strip_suffix(".staging"))
        })
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut cleaned = 0;
    for id in ids {
        if let Acquired::Held(held) = lock::lock(space, &lock_name(id), Wait::No, || {})? {
            let staging = staging_name(id);
            space
                .remove_tree(&staging)
                .map_err(FsError::io("remove", &space.path_of(&staging)))?;
            held.release()?;
            cleaned += 1;
        }
    }
    Ok(cleaned)
}
