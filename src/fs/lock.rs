//! Cross-process locks on lock files that are removed once nobody needs them.
//!
//! A lock is an exclusive advisory lock (`flock`, `LockFileEx`) on an empty file. The
//! operating system releases it when its holder's process dies, however it dies. A
//! lock file left in place forever is litter (one per id ever requested), and a lock
//! file removed carelessly gives two holders one lock: a process that opened the old
//! file before it was removed still locks it, while a newcomer creates and locks a new
//! file under the same name. So:
//!
//! | step        | what a process does                                                        |
//! |-------------|----------------------------------------------------------------------------|
//! | lock        | open the name (creating the file if missing, never through a link), lock the file, then check that the name **still names that file**; if not, close and start again |
//! | release     | while still holding the lock, remove the name; then close (which unlocks)  |
//!
//! **Why two processes never hold one lock.** Say A and B both hold the lock for a
//! name. They locked different files (a file's lock is exclusive), and each checked,
//! after locking, that the name named its file. So between A's check and B's, the name
//! stopped naming A's file: someone removed it. Only a holder removes the name, and
//! only the name of the file it holds; A's file was held by A from before its check,
//! so the remover was A, releasing: A no longer held the lock. The argument needs only
//! that nothing but this protocol removes the names (a person deleting lock files by
//! hand, or a program that does not lock before removing, breaks it).
//!
//! Waiting for a busy lock polls (`try_lock` with a doubling pause from 1 ms up to
//! 50 ms) so that the wait can end at a deadline, and so that a caller can be told it
//! is waiting for another process: a blocking `flock` can do neither.
//!
//! The protocol is written once, over [`LockSpace`], so that the shuttle models in
//! `shuttle-tests/` run this very code over a simulated file system with processes
//! that die at any step (see `scripts/planted/` for the bugs they catch).
#![cfg_attr(not(shuttle), allow(unreachable_pub))]

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::error::FsError;

/// What the lock protocol needs of a directory: [`Dir`](super::Dir) on a real file
/// system, a simulated directory in the shuttle models.
pub trait LockSpace {
    /// An open lock file; dropping it closes the file, which releases its lock.
    type File;
    /// Opens `name`, creating an empty file if nothing is there; never follows a link.
    /// [`io::ErrorKind::WouldBlock`] means the name is busy for a moment (on Windows,
    /// a lock file that its holder removed while another process still has it open
    /// cannot be opened until that handle closes): it is waited for like a held lock.
    fn open_lock(&self, name: &str) -> io::Result<Self::File>;
    /// Takes the exclusive lock on `file` if nobody holds it; `Ok(false)` if somebody
    /// does.
    fn try_lock(&self, file: &Self::File) -> io::Result<bool>;
    /// Whether `name` names `file` at this moment.
    fn names_file(&self, name: &str, file: &Self::File) -> io::Result<bool>;
    /// Removes the name `name`.
    fn unlink(&self, name: &str) -> io::Result<()>;
    /// The path of `name`, for errors.
    fn path_of(&self, name: &str) -> PathBuf;
    /// The current time, for deadlines.
    fn now(&self) -> Instant;
    /// Waits `pause` before the next attempt on a busy lock.
    fn pause(&self, pause: Duration);
}

/// How long to wait for a lock that another process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Do not wait: a busy lock is [`Acquired::Busy`].
    No,
    /// Wait until the lock is free, or until the deadline (then
    /// [`FsError::LockTimeout`]).
    Until(Option<Instant>),
}

/// What [`lock`] got.
pub enum Acquired<'s, S: LockSpace> {
    /// The lock is held until the [`Held`] is released or dropped.
    Held(Held<'s, S>),
    /// Somebody else holds it, and the caller did not want to wait.
    Busy,
}

/// A held lock. [`Held::release`] (or dropping it) removes the lock file while it is
/// still held, then unlocks.
pub struct Held<'s, S: LockSpace> {
    space: &'s S,
    name: String,
    file: Option<S::File>,
}

/// The first pause on a busy lock, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(50);
/// How many times in one request a lock file may be busy to open (about 10 s of
/// pauses) before that is reported as the error it may be.
const MOST_BUSY_OPENS: u32 = 200;

/// Takes the lock `name` in `space`, waiting as `wait` says. `on_wait` is called once,
/// the first time the lock is found busy, before any pause.
///
/// # Errors
///
/// [`FsError::LockTimeout`] when the deadline passes; [`FsError::Io`] when the file
/// cannot be opened, locked or checked (a link at `name` is such an error).
pub fn lock<'s, S: LockSpace>(
    space: &'s S,
    name: &str,
    wait: Wait,
    mut on_wait: impl FnMut(),
) -> Result<Acquired<'s, S>, FsError> {
    let io = |op| FsError::io(op, &space.path_of(name));
    let started = space.now();
    let mut pause = FIRST_PAUSE;
    let mut told = false;
    let mut busy_opens = 0u32;
    loop {
        let file = match space.open_lock(name) {
            Ok(file) => Some(file),
            // A name busy for a moment; bounded, so that a real refusal reported
            // that way cannot keep a request waiting without a deadline forever.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && busy_opens < MOST_BUSY_OPENS => {
                busy_opens += 1;
                None
            }
            Err(e) => return Err(io("open lock file")(e)),
        };
        if let Some(file) = file
            && space.try_lock(&file).map_err(io("lock"))?
        {
            // Locked; but the name may have been removed (and maybe created again)
            // since we opened it, by the holder we were waiting for. Then this lock
            // guards nothing: start again with whatever the name names now.
            if space
                .names_file(name, &file)
                .map_err(io("check lock file"))?
            {
                return Ok(Acquired::Held(Held {
                    space,
                    name: name.to_owned(),
                    file: Some(file),
                }));
            }
            continue;
        }
        let deadline = match wait {
            Wait::No => return Ok(Acquired::Busy),
            Wait::Until(deadline) => deadline,
        };
        if !told {
            told = true;
            on_wait();
        }
        let now = space.now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            return Err(FsError::LockTimeout {
                path: space.path_of(name),
                waited: now.saturating_duration_since(started),
            });
        }
        let pause_until = deadline.map_or(pause, |d| pause.min(d.saturating_duration_since(now)));
        space.pause(pause_until);
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

impl<S: LockSpace> Held<'_, S> {
    /// Removes the lock file, then unlocks.
    ///
    /// # Errors
    ///
    /// [`FsError::Io`] if the name cannot be removed; the lock is released anyway
    /// (and the empty file stays).
    pub fn release(mut self) -> Result<(), FsError> {
        self.remove_and_unlock()
    }

    fn remove_and_unlock(&mut self) -> Result<(), FsError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        // While we hold the lock, the name names our file (see the module docs), so
        // this removes our file's name and nobody else's.
        let removed = self.space.unlink(&self.name).map_err(FsError::io(
            "remove lock file",
            &self.space.path_of(&self.name),
        ));
        drop(file);
        removed
    }
}

impl<S: LockSpace> std::fmt::Debug for Held<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").field("name", &self.name).finish()
    }
}

impl<S: LockSpace> std::fmt::Debug for Acquired<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Acquired::Held(held) => f.debug_tuple("Held").field(held).finish(),
            Acquired::Busy => f.write_str("Busy"),
        }
    }
}

impl<S: LockSpace> Drop for Held<'_, S> {
    fn drop(&mut self) {
        // An error here has nowhere to go (an early return or a panic brought us
        // here); the lock is released either way, and an empty file stays.
        let _ = self.remove_and_unlock();
    }
}
