//! Limits checked against the sizes an archive *declares*, before anything is written.
//!
//! Declared sizes are only claims; the execute phase enforces them as well (output per
//! entry is capped at its declared size), so a lying archive cannot write more than
//! these limits allow.

/// Upper bounds on what an archive may ask for, checked in the plan phase.
///
/// Fields are public; start from [`Limits::default()`] (sane for package archives such
/// as Python wheels) or [`Limits::none()`] and change what you need. The struct is
/// `#[non_exhaustive]` so new limits can be added without breaking callers.
///
/// # Examples
///
/// ```
/// use inflight::Limits;
///
/// let mut limits = Limits::default();
/// limits.max_entries = 10_000;
/// limits.max_total_size = 1 << 30; // 1 GiB
/// assert_eq!(limits.max_depth, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most file system objects the archive creates: files, plus every directory,
    /// named by an entry or implied by a path (`a/b/c.py` creates three objects).
    /// Counted in the plan, before anything is written; an archive with more central
    /// directory entries than this is refused before any record is read. Default
    /// 200,000 (the largest wheels create a few tens of thousands).
    pub max_entries: usize,
    /// Most declared uncompressed bytes of any one entry. Default 8 GiB.
    pub max_entry_size: u64,
    /// Most declared uncompressed bytes of all entries together. Default 32 GiB.
    pub max_total_size: u64,
    /// Most declared uncompressed bytes per compressed byte of a compressed entry.
    /// Default 1,100: deflate cannot exceed about 1,032:1, so a larger claim is a lie.
    /// (Zstandard can legitimately go further on degenerate data such as long runs of
    /// zeros; raise this if you extract such archives with the `zstd` feature.)
    pub max_compression_ratio: u64,
    /// Most bytes in an entry's name. Default 4,096 (Linux `PATH_MAX`).
    pub max_name_len: usize,
    /// Most components in an entry's normalized path. Default 64.
    pub max_depth: usize,
}

impl Limits {
    /// No limits at all: every field at its type's maximum.
    ///
    /// Only for archives you trust; the per-entry output cap and CRC check still apply.
    /// Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let limits = inflight::Limits::none();
    /// assert_eq!(limits.max_entries, usize::MAX);
    /// ```
    #[must_use]
    pub const fn none() -> Self {
        Limits {
            max_entries: usize::MAX,
            max_entry_size: u64::MAX,
            max_total_size: u64::MAX,
            max_compression_ratio: u64::MAX,
            max_name_len: usize::MAX,
            max_depth: usize::MAX,
        }
    }
}

impl Default for Limits {
    /// The documented defaults on each field. Never blocks.
    fn default() -> Self {
        Limits {
            max_entries: 200_000,
            max_entry_size: 8 << 30,
            max_total_size: 32 << 30,
            max_compression_ratio: 1_100,
            max_name_len: 4_096,
            max_depth: 64,
        }
    }
}
