//! The tree of paths the archive creates: every entry's normalized path and its
//! implied parent directories, so that no path is named twice and none is both a
//! file and a directory, and, on file systems that fold names, no two paths fold to
//! one. Each would make the result depend on which entry a reader (or a thread)
//! writes last. It also counts what the archive creates (files and directories,
//! named or implied) against [`Limits::max_entries`].
//!
//! # Memory
//!
//! The tree is a trie of components: a node keeps its parent's number and its own
//! component (in one shared string), never its full path. `a/b/c/d.py` costs four
//! small nodes and the bytes of `a`, `b`, `c` and `d.py`, so the tree grows with the
//! bytes of the names and not with their depth times their length, as a set of full
//! paths would (a name of 64 levels would store its prefixes 64 times over). Full
//! paths are built one at a time, for an error or for the directory being created.
//!
//! Invariants: node 0 is the destination itself; a node's parent has a smaller
//! number, so numbers in order list parents before their children; `index` holds
//! every node but the root, keyed by (parent, component).
//!
//! [`Limits::max_entries`]: super::limits::Limits::max_entries

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::error::UnzipError;
use super::fs_names::{Folding, FsRules};

/// No entry: an implied directory.
const NO_ENTRY: u32 = u32::MAX;

/// One path component and where it hangs: 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    /// `text[start..start + len]` is the component (at most 255 bytes: `normalize`
    /// refuses longer ones).
    start: u32,
    /// The entry that named it ([`NO_ENTRY`] for an implied directory).
    entry: u32,
    len: u8,
    file: bool,
}

/// Nodes in chunks of [`CHUNK`]: growing never copies them, and never holds more than
/// one chunk of spare room (a doubling vector holds up to three times its nodes while
/// it grows).
#[derive(Debug, Default)]
struct Nodes {
    chunks: Vec<Vec<Node>>,
    len: usize,
}

/// Nodes per chunk (64 KiB), and bytes per chunk of component text.
const CHUNK: usize = 4096;
const TEXT_CHUNK: usize = 1 << 16;

impl Nodes {
    fn push(&mut self, node: Node) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(node);
        }
        self.len += 1;
    }

    fn get(&self, id: u32) -> &Node {
        &self.chunks[id as usize / CHUNK][id as usize % CHUNK]
    }

    fn get_mut(&mut self, id: u32) -> &mut Node {
        &mut self.chunks[id as usize / CHUNK][id as usize % CHUNK]
    }
}

/// Component text in 64 KiB chunks, for the same reason; a component (at most 255
/// bytes) never straddles two, so `start` is `chunk * 64 Ki + offset`.
#[derive(Debug, Default)]
struct Text {
    chunks: Vec<String>,
}

impl Text {
    /// Stores `component` and returns where it starts.
    fn push(&mut self, component: &str) -> u32 {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + component.len() <= TEXT_CHUNK);
        if !fits {
            self.chunks.push(String::with_capacity(TEXT_CHUNK));
        }
        let chunk = self.chunks.len() - 1;
        let last = &mut self.chunks[chunk];
        let start = chunk * TEXT_CHUNK + last.len();
        last.push_str(component);
        u32::try_from(start).unwrap_or(u32::MAX)
    }

    fn get(&self, node: &Node) -> &str {
        let (chunk, at) = (
            node.start as usize / TEXT_CHUNK,
            node.start as usize % TEXT_CHUNK,
        );
        &self.chunks[chunk][at..at + usize::from(node.len)]
    }
}

/// Paths seen so far, as a trie (see the module docs).
#[derive(Debug)]
pub(crate) struct Tree {
    text: Text,
    nodes: Nodes,
    /// Node numbers, found by (parent, component).
    index: HashTable<u32>,
    rules: FsRules,
    /// Where the file system folds names: node numbers, found by (parent, folded
    /// component); the folded form is computed again to compare, never stored.
    folded: HashTable<u32>,
    /// Most nodes (files and directories) allowed besides the root.
    limit: usize,
}

/// The directories of a finished [`Tree`], parents first.
#[derive(Debug, Default)]
pub(crate) struct Dirs {
    text: Text,
    nodes: Nodes,
    dirs: Vec<u32>,
}

fn hash_of(parent: u32, component: &str) -> u64 {
    let mut hasher = FxBuildHasher.build_hasher();
    parent.hash(&mut hasher);
    component.hash(&mut hasher);
    hasher.finish()
}

impl Tree {
    /// An empty tree whose paths must stay distinct under `rules`' folding, and that
    /// holds at most `limit` files and directories; the index has room for `entries`
    /// from the start.
    pub(crate) fn new(rules: FsRules, limit: usize, entries: usize) -> Self {
        Tree {
            text: Text::default(),
            nodes: root_nodes(),
            index: HashTable::with_capacity(entries),
            rules,
            folded: HashTable::new(),
            // Node numbers are `u32`: a tree never holds more, whatever the limit.
            limit: limit.min(u32::MAX as usize - 1),
        }
    }

    /// The normalized path of node `id`, components joined by `/`.
    fn path(&self, id: u32) -> String {
        path_of(&self.text, &self.nodes, id)
    }

    fn find(&self, parent: u32, component: &str) -> Option<u32> {
        find(&self.index, &self.text, &self.nodes, parent, component)
    }

    /// Adds a node for `component` under `parent`: refused if the file system would
    /// take it for a sibling with another name.
    fn insert(
        &mut self,
        index: usize,
        name: &str,
        parent: u32,
        component: &str,
        entry: u32,
        file: bool,
    ) -> Result<u32, UnzipError> {
        let id = u32::try_from(self.nodes.len).unwrap_or(u32::MAX);
        if let Some(key) = self.rules.fold(component) {
            let hash = hash_of(parent, &key);
            let (text, nodes, rules) = (&self.text, &self.nodes, self.rules);
            let same = |&other: &u32| {
                let node = nodes.get(other);
                node.parent == parent && rules.fold(text.get(node)).as_deref() == Some(&key)
            };
            if let Some(&other) = self.folded.find(hash, same) {
                let other = self.path(other);
                let mine = match self.path(parent) {
                    p if p.is_empty() => component.to_owned(),
                    p => format!("{p}/{component}"),
                };
                let name = name.to_owned();
                return Err(match self.rules.why(&mine, &other) {
                    Folding::Case => UnzipError::CaseCollision { index, name, other },
                    Folding::Normalization => {
                        UnzipError::NormalizationCollision { index, name, other }
                    }
                });
            }
            self.folded.insert_unique(hash, id, |&id| {
                let node = nodes.get(id);
                let folded = rules.fold(text.get(node)).unwrap_or_default();
                hash_of(node.parent, &folded)
            });
        }
        Ok(push(
            &mut self.index,
            &mut self.text,
            &mut self.nodes,
            parent,
            component,
            entry,
            file,
        ))
    }

    /// Records `path` (normalized, entry `index` named `name`) and its implied parent
    /// directories, rejecting a path that is both a file and a directory, or that is
    /// named twice, and an archive that creates more than the limit.
    pub(crate) fn add(
        &mut self,
        index: usize,
        name: &str,
        path: &str,
        is_dir: bool,
    ) -> Result<(), UnzipError> {
        let entry = u32::try_from(index).unwrap_or(u32::MAX);
        let conflict = |tree: &Tree, id: u32| UnzipError::FileDirectoryConflict {
            index,
            name: name.to_owned(),
            other: tree.path(id),
        };
        let (parents, last) = match path.rsplit_once('/') {
            Some((parents, last)) => (Some(parents), last),
            None => (None, path),
        };
        let mut parent = 0;
        for component in parents.into_iter().flat_map(|p| p.split('/')) {
            parent = match self.find(parent, component) {
                Some(id) if self.nodes.get(id).file => return Err(conflict(self, id)),
                Some(id) => id,
                None => self.insert(index, name, parent, component, NO_ENTRY, false)?,
            };
        }
        let duplicate = |first: u32| UnzipError::DuplicateName {
            index,
            name: name.to_owned(),
            first: first as usize,
        };
        match self.find(parent, last) {
            Some(id) => {
                let node = self.nodes.get_mut(id);
                match (node.file, node.entry, is_dir) {
                    (true, first, false) => return Err(duplicate(first)),
                    (false, first, true) if first != NO_ENTRY => return Err(duplicate(first)),
                    (false, _, true) => node.entry = entry,
                    (true, _, true) | (false, _, false) => return Err(conflict(self, id)),
                }
            }
            None => {
                self.insert(index, name, parent, last, entry, !is_dir)?;
            }
        }
        let count = self.nodes.len - 1;
        if count > self.limit {
            return Err(UnzipError::TooManyEntries {
                count,
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// How many files and directories the tree holds.
    #[cfg(test)]
    fn count(&self) -> usize {
        self.nodes.len - 1
    }

    /// The directories (named or implied), parents first; the lookup tables go.
    pub(crate) fn into_dirs(self) -> Dirs {
        let last = u32::try_from(self.nodes.len).unwrap_or(u32::MAX);
        let dirs = (1..last).filter(|&id| !self.nodes.get(id).file).collect();
        Dirs {
            text: self.text,
            nodes: self.nodes,
            dirs,
        }
    }
}

/// The node for `component` under `parent`, if there is one.
fn find(
    index: &HashTable<u32>,
    text: &Text,
    nodes: &Nodes,
    parent: u32,
    component: &str,
) -> Option<u32> {
    index
        .find(hash_of(parent, component), |&id| {
            let node = nodes.get(id);
            node.parent == parent && text.get(node) == component
        })
        .copied()
}

/// Adds a node for `component` under `parent` (not there yet) and returns its number.
fn push(
    index: &mut HashTable<u32>,
    text: &mut Text,
    nodes: &mut Nodes,
    parent: u32,
    component: &str,
    entry: u32,
    file: bool,
) -> u32 {
    let id = u32::try_from(nodes.len).unwrap_or(u32::MAX);
    let start = text.push(component);
    nodes.push(Node {
        parent,
        start,
        entry,
        // `normalize` refused components over 255 bytes.
        len: u8::try_from(component.len()).unwrap_or(u8::MAX),
        file,
    });
    let (text, nodes) = (&*text, &*nodes);
    index.insert_unique(hash_of(parent, component), id, |&id| {
        let node = nodes.get(id);
        hash_of(node.parent, text.get(node))
    });
    id
}

/// The root node, number 0: the destination itself.
fn root_nodes() -> Nodes {
    let mut nodes = Nodes::default();
    nodes.push(Node {
        parent: 0,
        start: 0,
        entry: NO_ENTRY,
        len: 0,
        file: false,
    });
    nodes
}

/// A set of directories kept as a trie, as [`Tree`] keeps paths (and with the same
/// memory: the bytes of the components, not depth times length), without the tree's
/// rules: the directories a stream has made, for the check against the plan's
/// [`Dirs`]. Paths are normalized, as the tree stores them.
#[derive(Debug)]
pub(crate) struct DirSet {
    text: Text,
    nodes: Nodes,
    index: HashTable<u32>,
}

impl Default for DirSet {
    fn default() -> Self {
        DirSet {
            text: Text::default(),
            nodes: root_nodes(),
            index: HashTable::new(),
        }
    }
}

impl DirSet {
    /// The longest prefix of `path` (whole components) in the set: its length in
    /// bytes and its node (0 and the root when there is none).
    pub(crate) fn deepest(&self, path: &str) -> (usize, u32) {
        let (mut len, mut node) = (0, 0);
        for component in path.split('/') {
            match find(&self.index, &self.text, &self.nodes, node, component) {
                Some(child) => {
                    node = child;
                    len = if len == 0 {
                        component.len()
                    } else {
                        len + 1 + component.len()
                    };
                }
                None => break,
            }
        }
        (len, node)
    }

    /// Adds `component` under the node `parent` (from [`deepest`](Self::deepest) or
    /// an earlier `add`), which does not hold it yet; returns its node.
    pub(crate) fn add(&mut self, parent: u32, component: &str) -> u32 {
        debug_assert!(find(&self.index, &self.text, &self.nodes, parent, component).is_none());
        push(
            &mut self.index,
            &mut self.text,
            &mut self.nodes,
            parent,
            component,
            NO_ENTRY,
            false,
        )
    }

    /// Whether the set holds exactly the directories of `dirs`.
    pub(crate) fn is(&self, dirs: &Dirs) -> bool {
        if self.nodes.len != dirs.dirs.len() + 1 {
            return false;
        }
        // `dirs` lists parents first, so each parent is mapped before its children.
        let mut mine = vec![u32::MAX; dirs.nodes.len];
        mine[0] = 0;
        for &id in &dirs.dirs {
            let node = dirs.nodes.get(id);
            let parent = mine[node.parent as usize];
            let component = dirs.text.get(node);
            match find(&self.index, &self.text, &self.nodes, parent, component) {
                Some(own) => mine[id as usize] = own,
                None => return false,
            }
        }
        true
    }
}

/// The path of node `id`: its components from the root down, joined by `/`.
fn path_of(text: &Text, nodes: &Nodes, mut id: u32) -> String {
    let mut parts = Vec::new();
    while id != 0 {
        let node = nodes.get(id);
        parts.push(text.get(node));
        id = node.parent;
    }
    parts.reverse();
    parts.join("/")
}

impl Dirs {
    /// How many directories.
    pub(crate) fn len(&self) -> usize {
        self.dirs.len()
    }

    /// Their normalized paths, parents before children, built one at a time.
    pub(crate) fn paths(&self) -> impl DoubleEndedIterator<Item = String> + '_ {
        self.dirs
            .iter()
            .map(|&id| path_of(&self.text, &self.nodes, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        Tree::new(FsRules::LINUX, usize::MAX, 0)
    }

    #[test]
    fn implied_directories_are_created_once_and_listed_parents_first() {
        let mut t = tree();
        t.add(0, "a/b/c.py", "a/b/c.py", false).unwrap();
        t.add(1, "a/d/", "a/d", true).unwrap();
        t.add(2, "a/b/", "a/b", true).unwrap();
        assert_eq!(t.count(), 4);
        let dirs = t.into_dirs();
        assert_eq!(dirs.paths().collect::<Vec<_>>(), ["a", "a/b", "a/d"]);
        assert_eq!(dirs.paths().next_back().as_deref(), Some("a/d"));
    }

    /// The stream's directories made: found by their deepest prefix, and equal to a
    /// tree's directories exactly when they are the same paths.
    #[test]
    fn a_dir_set_finds_the_deepest_prefix_made_and_equals_the_tree_s_dirs() {
        let mut made = DirSet::default();
        assert_eq!(made.deepest("a/b"), (0, 0));
        let a = made.add(0, "a");
        let b = made.add(a, "b");
        assert_eq!(made.deepest("a/b"), (3, b));
        assert_eq!(made.deepest("a/b/c/d"), (3, b));
        assert_eq!(made.deepest("a/bc"), (1, a), "whole components only");
        assert_eq!(made.deepest("b"), (0, 0));
        made.add(0, "d");

        let mut t = tree();
        t.add(0, "a/b/c.py", "a/b/c.py", false).unwrap();
        t.add(1, "d/", "d", true).unwrap();
        assert!(made.is(&t.into_dirs()));
        // One directory more, one less, or the same count with another name: not equal.
        let mut more = tree();
        more.add(0, "a/b/e/c.py", "a/b/e/c.py", false).unwrap();
        more.add(1, "d/", "d", true).unwrap();
        assert!(!made.is(&more.into_dirs()));
        let mut fewer = tree();
        fewer.add(0, "a/b/c.py", "a/b/c.py", false).unwrap();
        assert!(!made.is(&fewer.into_dirs()));
        let mut other = tree();
        other.add(0, "a/b/c.py", "a/b/c.py", false).unwrap();
        other.add(1, "e/", "e", true).unwrap();
        assert!(!made.is(&other.into_dirs()));
    }

    #[test]
    fn a_name_used_twice_or_as_file_and_directory_is_refused() {
        let mut t = tree();
        t.add(0, "a/b", "a/b", false).unwrap();
        assert!(matches!(
            t.add(1, "a/b", "a/b", false),
            Err(UnzipError::DuplicateName {
                index: 1,
                first: 0,
                ..
            })
        ));
        assert!(matches!(
            t.add(2, "a/b/c", "a/b/c", false),
            Err(UnzipError::FileDirectoryConflict { index: 2, ref other, .. }) if other == "a/b"
        ));
        assert!(matches!(
            t.add(3, "a", "a", false),
            Err(UnzipError::FileDirectoryConflict { index: 3, ref other, .. }) if other == "a"
        ));
    }

    #[test]
    fn the_limit_counts_implied_directories() {
        let mut t = Tree::new(FsRules::LINUX, 3, 0);
        assert!(matches!(
            t.add(0, "a/b/c/d.py", "a/b/c/d.py", false),
            Err(UnzipError::TooManyEntries { count: 4, limit: 3 })
        ));
        let mut t = Tree::new(FsRules::LINUX, 4, 0);
        t.add(0, "a/b/c/d.py", "a/b/c/d.py", false).unwrap();
        t.add(1, "a/b/c/e.py", "a/b/c/e.py", false).unwrap_err();
    }

    #[test]
    fn siblings_that_fold_to_one_name_collide_with_the_full_path_named() {
        let mut t = Tree::new(FsRules::WINDOWS, usize::MAX, 0);
        t.add(0, "pkg/Readme", "pkg/Readme", false).unwrap();
        assert!(matches!(
            t.add(1, "pkg/README", "pkg/README", false),
            Err(UnzipError::CaseCollision { index: 1, ref other, .. }) if other == "pkg/Readme"
        ));
        t.add(2, "Pkg2/a", "Pkg2/a", false).unwrap();
        assert!(matches!(
            t.add(3, "pkg2/b", "pkg2/b", false),
            Err(UnzipError::CaseCollision { index: 3, ref other, .. }) if other == "Pkg2"
        ));
        let mut mac = Tree::new(FsRules::MACOS, usize::MAX, 4);
        mac.add(0, "caf\u{e9}", "caf\u{e9}", false).unwrap();
        assert!(matches!(
            mac.add(1, "cafe\u{301}", "cafe\u{301}", false),
            Err(UnzipError::NormalizationCollision { index: 1, .. })
        ));
    }
}
