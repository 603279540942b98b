//! The tree of paths the archive creates: every entry's normalized path and its
//! implied parent directories, so that no path is named twice and none is both a
//! file and a directory, and, on file systems that fold names, no two paths fold to
//! one. Each would make the result depend on which entry a reader (or a thread)
//! writes last.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::error::UnzipError;
use super::fs_names::{Folding, FsRules};

/// What a normalized path is in the tree being built.
#[derive(Debug, Clone, Copy)]
enum Node {
    File(usize),
    /// A directory, with the index of the entry that named it, if one did.
    Dir(Option<usize>),
}

/// Paths seen so far, and, where the file system folds names (case, Unicode
/// normalization), which path each folded key belongs to.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: FxHashMap<String, Node>,
    rules: FsRules,
    folded: FxHashMap<String, String>,
}

impl Tree {
    /// An empty tree whose paths must stay distinct under `rules`' folding.
    pub(crate) fn new(rules: FsRules) -> Self {
        Tree {
            nodes: FxHashMap::default(),
            rules,
            folded: FxHashMap::default(),
        }
    }

    /// Records that `path` exists, refusing a different path the file system would
    /// take for the same one.
    fn claim_folded(&mut self, index: usize, name: &str, path: &str) -> Result<(), UnzipError> {
        let Some(key) = self.rules.fold(path) else {
            return Ok(());
        };
        match self.folded.get(&key) {
            Some(other) if other != path => {
                let (name, other) = (name.to_owned(), other.clone());
                Err(match self.rules.why(path, &other) {
                    Folding::Case => UnzipError::CaseCollision { index, name, other },
                    Folding::Normalization => {
                        UnzipError::NormalizationCollision { index, name, other }
                    }
                })
            }
            Some(_) => Ok(()),
            None => {
                self.folded.insert(key, path.to_owned());
                Ok(())
            }
        }
    }

    /// Every directory (named or implied), sorted so that a parent comes before its
    /// children (a string sorts before its extensions).
    pub(crate) fn into_dirs(self) -> Vec<String> {
        let dirs: BTreeSet<String> = self
            .nodes
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
            match self.nodes.get(parent) {
                Some(Node::File(_)) => return Err(conflict(parent)),
                Some(Node::Dir(_)) => {}
                None => {
                    self.claim_folded(index, name, parent)?;
                    self.nodes.insert(parent.to_owned(), Node::Dir(None));
                }
            }
        }
        let duplicate = |first| UnzipError::DuplicateName {
            index,
            name: name.to_owned(),
            first,
        };
        match (self.nodes.get(path).copied(), is_dir) {
            (Some(Node::File(first)), false) | (Some(Node::Dir(Some(first))), true) => {
                Err(duplicate(first))
            }
            (Some(Node::File(_)), true) | (Some(Node::Dir(_)), false) => Err(conflict(path)),
            (Some(Node::Dir(None)), true) => {
                self.nodes.insert(path.to_owned(), Node::Dir(Some(index)));
                Ok(())
            }
            (None, true) => {
                self.claim_folded(index, name, path)?;
                self.nodes.insert(path.to_owned(), Node::Dir(Some(index)));
                Ok(())
            }
            (None, false) => {
                self.claim_folded(index, name, path)?;
                self.nodes.insert(path.to_owned(), Node::File(index));
                Ok(())
            }
        }
    }
}
