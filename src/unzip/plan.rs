//! The plan phase: read and check everything, single-threaded, before any byte is
//! written.
//!
//! Input: the archive `File`. Output: an immutable [`Plan`] that the execute phase
//! follows without looking at the central directory again. Every rejection in the
//! crate docs happens here, in one pass over the central directory in index order
//! (so the first bad entry by index is the one reported), followed by the overlap
//! check over all entries' byte ranges.
//!
//! Nothing here allocates from a size the archive declares: sizes are only compared
//! and summed (saturating). Allocations are bounded by the central directory's own
//! size (names, one small record per entry) and by 64 KiB + 128 KiB per local header.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use rustc_hash::FxHashMap;
use zip::{CompressionMethod, System, ZipArchive};

use super::local_header::{self, Found};
use super::name::normalize;
use crate::Limits;
use crate::error::UnzipError;

/// General purpose flag bits (APPNOTE 4.4.4).
const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;

/// Unix file type bits of `st_mode`.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

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
    /// The number in the headers (APPNOTE 4.4.5).
    fn number(self) -> u16 {
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
    /// Normalized relative path (`/`-separated, checked by [`normalize`]).
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
    /// Every directory to create (explicit entries and implied parents), sorted so
    /// that a parent comes before its children (a string sorts before its extensions).
    pub(crate) dirs: Vec<String>,
    /// Regular files, largest declared size first (ties by index).
    pub(crate) files: Vec<FileEntry>,
    /// Sum of the files' declared sizes.
    pub(crate) total_bytes: u64,
}

/// What a normalized path is in the tree being built.
#[derive(Debug, Clone, Copy)]
enum Node {
    File(usize),
    /// A directory, with the index of the entry that named it, if one did.
    Dir(Option<usize>),
}

/// Reads the central directory and every local header of `file` and checks them.
///
/// # Errors
///
/// Every rejection of the plan phase; see [`UnzipError`].
pub(crate) fn plan(file: &File, archive: &Path, limits: &Limits) -> Result<Plan, UnzipError> {
    let read_err = |source| UnzipError::ReadArchive {
        archive: archive.to_owned(),
        source,
    };
    let cd_err = |source| UnzipError::CentralDirectory {
        archive: archive.to_owned(),
        source,
    };

    // The zip crate reads the central directory with many small reads; a 64 KiB
    // buffer turns them into one `read` per 64 KiB of directory (about 800 entries
    // of a wheel) instead of three or four syscalls per entry.
    let zip = ZipArchive::new(BufReader::with_capacity(64 << 10, file)).map_err(cd_err)?;
    if zip.len() > limits.max_entries {
        return Err(UnzipError::TooManyEntries {
            count: zip.len(),
            limit: limits.max_entries,
        });
    }
    if zip.has_duplicate_names() {
        // The zip crate keeps one entry per exact name; find the hidden one ourselves.
        let cd_start = zip.central_directory_start();
        let reader = BufReader::with_capacity(64 << 10, file);
        return Err(find_exact_duplicate(reader, cd_start).map_err(read_err)?);
    }
    let data_end_limit = zip.central_directory_start();

    let mut plan = Plan::default();
    let mut tree: FxHashMap<String, Node> = FxHashMap::default();
    let mut ranges: Vec<(u64, u64, usize)> = Vec::with_capacity(zip.len());
    let mut names: Vec<String> = Vec::with_capacity(zip.len());
    let mut header_owner: FxHashMap<u64, usize> = FxHashMap::default();

    for index in 0..zip.len() {
        let entry = zip.by_index_data(index).map_err(cd_err)?;
        // The zip crate quietly falls back to CP437 for a name flagged UTF-8 that is
        // not; a lying flag is a reason to reject, not to guess.
        let flagged_utf8 = entry.flags().as_u16() & FLAG_UTF8 != 0;
        let name = match entry.name() {
            Ok(name) if !flagged_utf8 || std::str::from_utf8(entry.name_raw()).is_ok() => {
                name.into_owned()
            }
            _ => {
                let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
                return Err(UnzipError::NameNotUtf8 { index, name });
            }
        };
        let normal = normalize(index, &name, limits)?;

        // Entry kind, from the Unix mode when the archive was made on Unix.
        let mode = (entry.system() == System::Unix).then(|| entry.external_attributes() >> 16);
        let file_type = mode.map_or(0, |m| m & S_IFMT);
        match file_type {
            0 | S_IFREG | S_IFDIR => {}
            S_IFLNK => return Err(UnzipError::Symlink { index, name }),
            _ => {
                return Err(UnzipError::SpecialFile {
                    index,
                    name,
                    mode: mode.unwrap_or(0),
                });
            }
        }
        let is_dir = normal.is_dir || file_type == S_IFDIR;

        let flags = entry.flags().as_u16();
        if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
            return Err(UnzipError::Encrypted { index, name });
        }
        let method = match entry.compression() {
            CompressionMethod::Stored => Method::Stored,
            CompressionMethod::Deflated => Method::Deflated,
            // `to_u16` is deprecated in favour of matching on variants, but the zip
            // crate only has a `Zstd` variant with its own `zstd` feature, which we
            // do not need (we decompress ourselves): the number is the stable name.
            #[allow(deprecated)]
            other => match other.to_u16() {
                #[cfg(feature = "zstd")]
                93 => Method::Zstd,
                number => {
                    return Err(UnzipError::UnsupportedMethod {
                        index,
                        name,
                        method: number,
                    });
                }
            },
        };
        let method_number = method.number();
        let (size, compressed) = (entry.size(), entry.compressed_size());
        let crc32 = entry.crc32();

        if !is_dir {
            if method == Method::Stored && size != compressed {
                return Err(UnzipError::StoredSizeMismatch {
                    index,
                    name,
                    compressed,
                    uncompressed: size,
                });
            }
            if size > limits.max_entry_size {
                return Err(UnzipError::EntryTooLarge {
                    index,
                    name,
                    size,
                    limit: limits.max_entry_size,
                });
            }
            let ratio_cap = compressed
                .max(1)
                .saturating_mul(limits.max_compression_ratio);
            if method != Method::Stored && size > ratio_cap {
                return Err(UnzipError::CompressionRatio {
                    index,
                    name,
                    size,
                    compressed,
                    limit: limits.max_compression_ratio,
                });
            }
            plan.total_bytes = plan.total_bytes.saturating_add(size);
            if plan.total_bytes > limits.max_total_size {
                return Err(UnzipError::TotalTooLarge {
                    index,
                    name,
                    limit: limits.max_total_size,
                });
            }
        }

        // The local header must exist, lie before the central directory and agree.
        let header_start = entry.header_start();
        let out_of_bounds = || UnzipError::EntryOutOfBounds {
            index,
            name: name.clone(),
        };
        if header_start.saturating_add(30) > data_end_limit {
            return Err(out_of_bounds());
        }
        // Two central entries on one local header (the "full overlap" of zip bombs)
        // would otherwise show as a name mismatch on the second: name it for what it is.
        if let Some(&other) = header_owner.get(&header_start) {
            return Err(UnzipError::OverlappingEntries { index, name, other });
        }
        header_owner.insert(header_start, index);
        let local = match local_header::read(file, header_start, entry.name_raw().len())
            .map_err(read_err)?
        {
            Found::Header(local) => local,
            Found::Truncated => return Err(out_of_bounds()),
            Found::BadSignature => {
                return Err(UnzipError::LocalHeaderMismatch {
                    index,
                    name,
                    field: "signature",
                });
            }
        };
        let deferred = flags & FLAG_DATA_DESCRIPTOR != 0;
        // With a data descriptor (flag bit 3) the local CRC and sizes may be zero.
        let agrees = |local: u64, central: u64| local == central || (deferred && local == 0);
        let mismatch = if local.name != entry.name_raw() {
            Some("name")
        } else if local.method != method_number {
            Some("method")
        } else if local.flags != flags {
            Some("flags")
        } else if !agrees(u64::from(local.crc32), u64::from(crc32)) {
            Some("crc")
        } else if !agrees(local.compressed_size, compressed) {
            Some("compressed size")
        } else if !agrees(local.uncompressed_size, size) {
            Some("uncompressed size")
        } else {
            None
        };
        if let Some(field) = mismatch {
            return Err(UnzipError::LocalHeaderMismatch { index, name, field });
        }
        let data_start = header_start + local.len;
        let data_end = data_start
            .checked_add(compressed)
            .ok_or_else(out_of_bounds)?;
        if data_end > data_end_limit {
            return Err(out_of_bounds());
        }
        ranges.push((header_start, data_end, index));

        add_to_tree(&mut tree, index, &name, &normal.path, is_dir)?;
        if !is_dir {
            let executable = mode.is_some_and(|m| m & 0o111 != 0);
            plan.files.push(FileEntry {
                index,
                name: name.clone(),
                path: normal.path,
                data_start,
                compressed_size: compressed,
                size,
                crc32,
                method,
                executable,
            });
        }
        names.push(name);
    }

    // Overlap: sorted by start, each range must end before the next one starts.
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        let ((_, end, a), (start, _, b)) = (pair[0], pair[1]);
        if start < end {
            let (index, other) = (a.max(b), a.min(b));
            return Err(UnzipError::OverlappingEntries {
                index,
                name: names[index].clone(),
                other,
            });
        }
    }

    let dirs: BTreeSet<String> = tree
        .into_iter()
        .filter_map(|(path, node)| matches!(node, Node::Dir(_)).then_some(path))
        .collect();
    plan.dirs = dirs.into_iter().collect();
    plan.files
        .sort_unstable_by(|a, b| b.size.cmp(&a.size).then(a.index.cmp(&b.index)));
    Ok(plan)
}

/// Records `path` and its implied parent directories, rejecting a path that is both a
/// file and a directory, or that is named twice.
fn add_to_tree(
    tree: &mut FxHashMap<String, Node>,
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
        match tree.get(parent) {
            Some(Node::File(_)) => return Err(conflict(parent)),
            Some(Node::Dir(_)) => {}
            None => {
                tree.insert(parent.to_owned(), Node::Dir(None));
            }
        }
    }
    let duplicate = |first| UnzipError::DuplicateName {
        index,
        name: name.to_owned(),
        first,
    };
    match (tree.get(path).copied(), is_dir) {
        (Some(Node::File(first)), false) | (Some(Node::Dir(Some(first))), true) => {
            Err(duplicate(first))
        }
        (Some(Node::File(_)), true) | (Some(Node::Dir(_)), false) => Err(conflict(path)),
        (Some(Node::Dir(None)), true) | (None, true) => {
            tree.insert(path.to_owned(), Node::Dir(Some(index)));
            Ok(())
        }
        (None, false) => {
            tree.insert(path.to_owned(), Node::File(index));
            Ok(())
        }
    }
}

/// Walks the central directory from `cd_start` and returns the first name that
/// repeats exactly, as a [`UnzipError::DuplicateName`]. Only called when the zip
/// crate reports duplicates (it keeps one entry per exact name, so we cannot see
/// them through it).
fn find_exact_duplicate<R: Read + Seek>(
    mut reader: BufReader<R>,
    cd_start: u64,
) -> std::io::Result<UnzipError> {
    reader.seek(SeekFrom::Start(cd_start))?;
    let mut seen: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    let mut fixed = [0u8; 46];
    for index in 0.. {
        let mut got = 0;
        while got < fixed.len() {
            match reader.read(&mut fixed[got..])? {
                0 => break,
                n => got += n,
            }
        }
        if got < fixed.len() || fixed[..4] != [b'P', b'K', 1, 2] {
            break;
        }
        let len = |at: usize| usize::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
        let mut name = vec![0u8; len(28)];
        reader.read_exact(&mut name)?;
        let skip = len(30) + len(32);
        reader.seek_relative(skip as i64)?;
        if let Some(&first) = seen.get(&name) {
            let name = String::from_utf8_lossy(&name).into_owned();
            return Ok(UnzipError::DuplicateName { index, name, first });
        }
        seen.insert(name, index);
    }
    // The zip crate saw a duplicate that this walk did not: report it without a name.
    Ok(UnzipError::DuplicateName {
        index: 0,
        name: String::new(),
        first: 0,
    })
}
