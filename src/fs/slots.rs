//! Staging slots: where a job without a lock of its own (a standalone extraction)
//! stages next to its destination, and the reclaiming of slots whose owner died.
//!
//! Slot `k` of a stem is the pair `.<stem>.staging-<k>` (the staging directory) and
//! `.<stem>.staging-<k>.lock` (its lock, [`super::lock`]'s protocol). A job takes the
//! lowest slot whose lock it can take without waiting, removes whatever a dead owner
//! left there, and holds the lock until its directory is published or removed; then
//! it releases the lock, which removes the lock file. So:
//!
//! - **a slot whose lock can be taken belongs to nobody alive**, and whoever takes it
//!   may remove what is there;
//! - **a live job's staging directory is never touched**: its lock is held, so every
//!   other job, in this process or another, skips the slot;
//! - **nothing stays behind** once a job ends, whether it published or failed; a
//!   process that was killed leaves its slot (directory and lock file), and the next
//!   job of the same stem reclaims every dead slot it finds by listing the parent
//!   ([`sweep`]). Slot numbers can have gaps (a lower slot released while a higher one
//!   lives on), which is why the sweep lists the directory rather than counting up.
#![cfg_attr(not(shuttle), allow(unreachable_pub))]

use super::error::FsError;
use super::lock::{self, Acquired, Held, Wait};
use super::space::Space;

/// The staging directory's and the lock file's names of slot `k` of `stem`.
pub fn slot_names(stem: &str, k: usize) -> (String, String) {
    let dir = format!(".{stem}.staging-{k}");
    let lock = format!("{dir}.lock");
    (dir, lock)
}

/// The slot number in `name`, if it is slot `k`'s directory or lock file of `stem`.
fn slot_of(stem: &str, name: &str) -> Option<usize> {
    let rest = name
        .strip_prefix('.')?
        .strip_prefix(stem)?
        .strip_prefix(".staging-")?;
    let digits = rest.strip_suffix(".lock").unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Takes the lowest free slot of `stem` in `space` and clears what a dead owner left
/// in it. Returns the slot's number and its held lock; the staging directory's name is
/// [`slot_names`]`(stem, k).0`, and nothing is there.
///
/// # Errors
///
/// [`FsError::Io`] when a lock file cannot be opened or locked, or a leftover
/// cannot be removed.
pub fn take<'s, S: Space>(space: &'s S, stem: &str) -> Result<(usize, Held<'s, S>), FsError> {
    for k in 0.. {
        let (dir, lock_name) = slot_names(stem, k);
        if let Acquired::Held(held) = lock::lock(space, &lock_name, Wait::No, || {})? {
            // We hold the slot, so whatever is at `dir` was left by a dead owner.
            space
                .remove_tree(&dir)
                .map_err(FsError::io("remove", &space.path_of(&dir)))?;
            return Ok((k, held));
        }
    }
    unreachable!("there are fewer live slots than numbers")
}

/// Removes every dead slot of `stem` other than `mine` (directory and lock file), and
/// returns how many it removed. Live slots are skipped.
///
/// # Errors
///
/// [`FsError::Io`] when the directory cannot be listed, or a dead slot cannot be
/// locked or removed.
pub fn sweep<S: Space>(space: &S, stem: &str, mine: Option<usize>) -> Result<usize, FsError> {
    let names = space
        .list()
        .map_err(FsError::io("list", &space.path_of("")))?;
    let mut slots: Vec<usize> = names
        .iter()
        .filter_map(|name| slot_of(stem, name))
        .filter(|&k| Some(k) != mine)
        .collect();
    slots.sort_unstable();
    slots.dedup();
    let mut removed = 0;
    for k in slots {
        let (dir, lock_name) = slot_names(stem, k);
        if let Acquired::Held(held) = lock::lock(space, &lock_name, Wait::No, || {})? {
            space
                .remove_tree(&dir)
                .map_err(FsError::io("remove", &space.path_of(&dir)))?;
            held.release()?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_parse_back_to_their_number_and_nothing_else_does() {
        let (dir, lock) = slot_names("numpy-2.1", 12);
        assert_eq!(slot_of("numpy-2.1", &dir), Some(12));
        assert_eq!(slot_of("numpy-2.1", &lock), Some(12));
        for other in [
            "numpy-2.1",
            ".numpy-2.1.staging-",
            ".numpy-2.1.staging-x",
            ".numpy-2.1.staging-1.lock.lock",
            ".numpy.staging-1",
            ".numpy-2.1.staging-1.staging-2",
        ] {
            assert_eq!(slot_of("numpy-2.1", other), None, "{other}");
        }
    }
}
