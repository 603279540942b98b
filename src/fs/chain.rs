//! Directories made below a root through handles of the ones made last.
//!
//! An archive lists its directories depth first, so the next one to make is mostly
//! below one made just before (`django/conf/locale/af/LC_MESSAGES`, then
//! `django/conf/locale/ar/LC_MESSAGES`). Made through a handle of its parent, it
//! costs one `mkdirat`; made from the root, it costs an `openat2` of its parent (a
//! walk of every component) and a `close` besides. Django 5.1.4 has 2,455
//! directories, and making them is the serial start of its extraction.

use std::collections::VecDeque;
use std::io;

use super::Dir;

/// Directories made below `root`, with the path made last: each directory on it, its
/// handle once one was needed (a directory that gets no child is never opened).
/// Every handle is of a directory made through this chain (or opened from one,
/// or from the root), never following a link.
pub(crate) struct DirChain<'r> {
    root: &'r Dir,
    /// Deepest last; each an ancestor of the next.
    dirs: VecDeque<(String, Option<Dir>)>,
}

impl<'r> DirChain<'r> {
    /// The most directories held: a path deeper than that opens its upper part from
    /// the root again, as if none were held.
    const DEPTH: usize = 16;

    /// A chain below `root`, holding nothing yet.
    pub(crate) fn new(root: &'r Dir) -> Self {
        DirChain {
            root,
            dirs: VecDeque::new(),
        }
    }

    /// Makes the directory at the relative path `rel` (components separated by `/`),
    /// whose parent exists: the root, or a directory made before (through this chain
    /// or not). With `exact_mode`, it gets exactly 0o755 whatever the umask.
    ///
    /// # Errors
    ///
    /// The `mkdirat` of `rel`, or the opening of its parent (or of the directory,
    /// with `exact_mode`): anything there already, a link on the way, a full disk.
    pub(crate) fn make(&mut self, rel: &str, exact_mode: bool) -> io::Result<()> {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let at = self.reach(parent)?;
        at.make_dir(name)?;
        let made = if exact_mode {
            let made = at.open_dir(name)?;
            made.set_dir_mode()?;
            Some(made)
        } else {
            None
        };
        self.push(rel, made);
        Ok(())
    }

    /// A handle of the directory made last, opened now if it was not yet.
    ///
    /// # Errors
    ///
    /// Its opening; `NotFound` when nothing was made.
    pub(crate) fn last(&mut self) -> io::Result<&Dir> {
        let Some((path, _)) = self.dirs.back() else {
            return Err(io::ErrorKind::NotFound.into());
        };
        let path = path.clone();
        self.reach(&path)
    }

    /// The handle of the directory at `rel` (the root if empty), which exists: the
    /// chain then ends there, holding what it held of `rel`'s ancestors.
    fn reach(&mut self, rel: &str) -> io::Result<&Dir> {
        if rel.is_empty() {
            self.dirs.clear();
            return Ok(self.root);
        }
        while let Some((path, _)) = self.dirs.back() {
            let above = rel
                .strip_prefix(path.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if above {
                break;
            }
            self.dirs.pop_back();
        }
        if self.dirs.back().is_none_or(|(path, _)| path != rel) {
            self.push(rel, None);
        }
        let last = self.dirs.len() - 1;
        if self.dirs[last].1.is_none() {
            // From the deepest ancestor held open, or from the root.
            let held = self.dirs.range(..last).rposition(|(_, dir)| dir.is_some());
            let opened = match held {
                Some(at) => {
                    let (path, dir) = &self.dirs[at];
                    let dir = dir.as_ref().expect("a handle held");
                    dir.open_dir_beneath(&rel[path.len() + 1..])?
                }
                None => self.root.open_dir_beneath(rel)?,
            };
            self.dirs[last].1 = Some(opened);
        }
        Ok(self.dirs[last].1.as_ref().expect("opened above"))
    }

    /// Holds the directory at `rel`, below the deepest one held, and its handle if any.
    fn push(&mut self, rel: &str, dir: Option<Dir>) {
        if self.dirs.len() == Self::DEPTH {
            self.dirs.pop_front();
        }
        self.dirs.push_back((rel.to_owned(), dir));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Down a path deeper than the chain holds, back up to cousins at every level,
    /// across to another tree, and down again: every directory lands where its path
    /// says, and the last one made can be opened.
    #[test]
    fn directories_land_where_their_paths_say_however_the_chain_moves() {
        let dir = tempfile::tempdir().unwrap();
        let root = Dir::open(dir.path()).unwrap();
        let mut chain = DirChain::new(&root);
        let mut expected = Vec::new();
        let mut path = String::new();
        for level in 0..40 {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&format!("d{level}"));
            chain.make(&path, level % 7 == 3).unwrap();
            expected.push(path.clone());
        }
        let levels: Vec<&str> = path.split('/').collect();
        for cut in (1..=40).rev().step_by(3) {
            let cousin = format!("{}/c{cut}", levels[..cut].join("/"));
            chain.make(&cousin, false).unwrap();
            let child = format!("{cousin}/x");
            chain.make(&child, false).unwrap();
            expected.extend([cousin, child]);
        }
        for rel in ["other", "other/a", "d0/d1/late", "other/a/b", "top"] {
            chain.make(rel, false).unwrap();
            expected.push(rel.to_owned());
        }
        assert_eq!(chain.last().unwrap().path(), dir.path().join("top"));
        let mut found = Vec::new();
        for entry in walk(dir.path()) {
            let rel = entry.strip_prefix(dir.path()).unwrap();
            found.push(rel.to_string_lossy().replace('\\', "/"));
        }
        found.sort();
        expected.sort();
        assert_eq!(found, expected);
        let made = chain.make("d0/d1/late", false).unwrap_err();
        assert_eq!(made.kind(), io::ErrorKind::AlreadyExists);
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            assert!(path.is_dir(), "{} is a directory", path.display());
            out.extend(walk(&path));
            out.push(path);
        }
        out
    }
}
