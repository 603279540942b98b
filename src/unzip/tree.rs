//! The tree of paths the archive creates: every entry's normalized path and its
//! implied parent directories, so that no path is named twice and none is both a
//! file and a directory. Either would make the result depend on which entry a reader
//! (or a thread) writes last.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::error::UnzipError;

/// What a normalized path is in the tree being built.
#[derive(Debug, Clone, Copy)]
enum Node {
    File(usize),
    /// A directory, with the index of the entry that named it, if one did.
    Dir(Option<usize>),
}

/// Paths seen so far.
#[derive(Debug, Default)]
pub(crate) struct Tree(FxHashMap<String, Node>);

impl Tree {
    /// Every directory (named or implied), sorted so that a parent comes before its
    /// children (a string sorts before its extensions).
    pub(crate) fn into_dirs(self) -> Vec<String> {
        let dirs: BTreeSet<String> = self
            .0
            .into_iter()
            .filter_map(|(path, node)| matches!(node, Node::Dir(_)).then_some(path))
            .collect();
        dirs.into_iter().collect()
    }

    /// Records `path` and its implied parent directories, rejecting a path that is both a
    /// file and a directory, or that is named twice.
    pub(crate) fn add(
        &mut self,
        index: usize,
        name: &str,
        path: &str,
        is_dir: bool,
    ) -> Result<(), UnzipError> {
        let conflict = |other: &str| UnzipError::FileDirectoryConflict {
            index,
            name: name.to_owned(),
            other: other.to_owned(),
        };
        for (at, _) in path.match_indices('/') {
            let parent = &path[..at];
            match self.0.get(parent) {
                Some(Node::File(_)) => return Err(conflict(parent)),
                Some(Node::Dir(_)) => {}
                None => {
                    self.0.insert(parent.to_owned(), Node::Dir(None));
                }
            }
        }
        let duplicate = |first| UnzipError::DuplicateName {
            index,
            name: name.to_owned(),
            first,
        };
        match (self.0.get(path).copied(), is_dir) {
            (Some(Node::File(first)), false) | (Some(Node::Dir(Some(first))), true) => {
                Err(duplicate(first))
            }
            (Some(Node::File(_)), true) | (Some(Node::Dir(_)), false) => Err(conflict(path)),
            (Some(Node::Dir(None)), true) | (None, true) => {
                self.0.insert(path.to_owned(), Node::Dir(Some(index)));
                Ok(())
            }
            (None, false) => {
                self.0.insert(path.to_owned(), Node::File(index));
                Ok(())
            }
        }
    }
}
