//! The plan's vocabulary: what the plan phase hands the execute phase.

use super::tree::Dirs;

/// How an entry's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
    /// Method 93, with the `zstd` feature.
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Method {
    /// The method numbered `number` in the headers (APPNOTE 4.4.5), if we decode it.
    pub(crate) fn from_number(number: u16) -> Option<Method> {
        match number {
            0 => Some(Method::Stored),
            8 => Some(Method::Deflated),
            #[cfg(feature = "zstd")]
            93 => Some(Method::Zstd),
            _ => None,
        }
    }

    /// The number in the headers (APPNOTE 4.4.5).
    pub(crate) fn number(self) -> u16 {
        match self {
            Method::Stored => 0,
            Method::Deflated => 8,
            #[cfg(feature = "zstd")]
            Method::Zstd => 93,
        }
    }
}

/// One regular file to write.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    /// Position in the central directory; errors and cancellation order use it.
    pub(crate) index: usize,
    /// The name as stored, for error messages.
    pub(crate) name: String,
    /// Normalized relative path (`/`-separated, checked by `name::normalize`).
    pub(crate) path: String,
    pub(crate) data_start: u64,
    pub(crate) compressed_size: u64,
    pub(crate) size: u64,
    pub(crate) crc32: u32,
    pub(crate) method: Method,
    /// The Unix mode has an execute bit: the file gets 0o755 instead of 0o644.
    pub(crate) executable: bool,
}

/// Everything the execute phase needs, checked.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Every directory to create (explicit entries and implied parents), parents
    /// before their children.
    pub(crate) dirs: Dirs,
    /// Regular files, largest declared size first (ties by index).
    pub(crate) files: Vec<FileEntry>,
    /// Sum of the files' declared sizes.
    pub(crate) total_bytes: u64,
}
