//! The plan phase: read and check everything, single-threaded, before any byte is
//! written.
//!
//! Input: the archive `File`. Output: an immutable [`Plan`] that the execute phase
//! follows without looking at the central directory again. Every refusal of the
//! plan happens here, in this order, so an archive breaking several rules always
//! gets the same error:
//!
//! 1. the archive's structure ([`structure::read`]): one end record, consistent zip64
//!    records, a central directory that fills its declared size with the declared
//!    number of records, nothing before the archive;
//! 2. the zip crate's reading of that central directory, and the entry-count limit
//!    and duplicate names ([`open_central_directory`]);
//! 3. each entry in index order (so the first bad entry by index is the one
//!    reported): [`entry_name`], [`normalize`] and [`check_fits`], the platform's name
//!    rules ([`FsRules::check_components`]), [`kind::classify`], [`check_encryption`],
//!    [`method`], [`Builder::check_declared_sizes`] (or [`kind::directory_data`]),
//!    [`Builder::check_local_header`] with its data descriptor, then the [`Tree`] of
//!    paths (duplicates, file/directory conflicts, names the file system folds into
//!    one);
//! 4. the coverage of `0..cd_start` by the entries' bytes ([`coverage::check`]).
//!
//! Nothing here allocates from a size the archive declares: sizes are only compared
//! and summed (saturating). Allocations are bounded by the central directory's own
//! size (names, one small record per entry), by the 64 KiB tail read for the end
//! record, and by 64 KiB + 128 KiB per local header.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use rustc_hash::FxHashMap;
use zip::read::{ArchiveOffset, Config, ZipFileEntry};
use zip::{CompressionMethod, System, ZipArchive};

use super::coverage::{self, Span};
use super::descriptor;
use super::error::UnzipError;
use super::fs_names::FsRules;
use super::kind::{self, DirData, Kind};
use super::limits::Limits;
use super::local_header::{self, Found, LocalHeader};
use super::name::{check_fits, normalize};
use super::reader::read_up_to_at;
use super::structure::{self, Layout};
use super::tree::Tree;

/// General purpose flag bits (APPNOTE 4.4.4).
const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;

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

/// What the central directory declares about an entry's content.
#[derive(Debug, Clone, Copy)]
struct Declared {
    method: Method,
    flags: u16,
    size: u64,
    compressed: u64,
    crc32: u32,
}

/// Where an entry's bytes are, once its local header and descriptor are checked.
#[derive(Debug, Clone, Copy)]
struct Placed {
    header_start: u64,
    data_start: u64,
    /// One past the entry's last byte (its data, or its data descriptor).
    end: u64,
}

/// The plan under construction, and what the per-entry checks share.
struct Builder<'a> {
    file: &'a File,
    archive: &'a Path,
    limits: &'a Limits,
    /// Length of the directory path entries are written under (see [`check_fits`]).
    base_len: usize,
    layout: Layout,
    plan: Plan,
    tree: Tree,
    spans: Vec<Span>,
    names: Vec<String>,
    header_owner: FxHashMap<u64, usize>,
}

/// Reads the central directory and every local header of `file` and checks them;
/// `base_len` is the length of the longest directory path the entries will be
/// written under (the staging directory or `dest`).
///
/// # Errors
///
/// Every rejection of the plan phase; see [`UnzipError`].
pub(crate) fn plan(
    file: &File,
    archive: &Path,
    limits: &Limits,
    base_len: usize,
) -> Result<Plan, UnzipError> {
    let layout = structure::read(file, archive)?;
    let zip = open_central_directory(file, archive, limits, &layout)?;
    let mut builder = Builder {
        file,
        archive,
        limits,
        base_len,
        layout,
        plan: Plan::default(),
        tree: Tree::new(FsRules::HOST),
        spans: Vec::with_capacity(zip.len()),
        names: Vec::with_capacity(zip.len()),
        header_owner: FxHashMap::default(),
    };
    for index in 0..zip.len() {
        let entry = zip
            .by_index_data(index)
            .map_err(|source| builder.cd_err(source))?;
        builder.add(index, &entry)?;
    }
    builder.finish()
}

/// Opens the central directory with the zip crate, at the place [`structure::read`]
/// found (no offset guessing), and applies the entry-count limit and the
/// duplicate-name rule.
fn open_central_directory<'f>(
    file: &'f File,
    archive: &Path,
    limits: &Limits,
    layout: &Layout,
) -> Result<ZipArchive<BufReader<&'f File>>, UnzipError> {
    // The count is known before the zip crate allocates a record per entry.
    let count = usize::try_from(layout.entries).unwrap_or(usize::MAX);
    if count > limits.max_entries {
        return Err(UnzipError::TooManyEntries {
            count,
            limit: limits.max_entries,
        });
    }
    // The zip crate reads the central directory with many small reads; a 64 KiB
    // buffer turns them into one `read` per 64 KiB of directory (about 800 entries
    // of a wheel) instead of three or four syscalls per entry.
    let config = Config {
        archive_offset: ArchiveOffset::Known(0),
    };
    let zip = ZipArchive::with_config(config, BufReader::with_capacity(64 << 10, file))
        .map_err(UnzipError::central_directory(archive))?;
    if zip.has_duplicate_names() {
        // The zip crate keeps one entry per exact name; find the hidden one ourselves.
        return Err(structure::find_exact_duplicate(file, archive, layout)
            .map_err(UnzipError::read(archive))?);
    }
    // The structure checks leave the zip crate one reading; make sure it took it.
    if zip.offset() != 0 || zip.central_directory_start() != layout.cd_start || zip.len() != count {
        return Err(UnzipError::central_directory(archive)(
            zip::result::ZipError::InvalidArchive(
                "the zip crate reads a different central directory".into(),
            ),
        ));
    }
    Ok(zip)
}

impl Builder<'_> {
    fn cd_err(&self, source: zip::result::ZipError) -> UnzipError {
        UnzipError::central_directory(self.archive)(source)
    }

    fn read_err(&self, source: std::io::Error) -> UnzipError {
        UnzipError::read(self.archive)(source)
    }

    /// Every check of one entry, in the order of the module docs.
    fn add(&mut self, index: usize, entry: &ZipFileEntry<'_>) -> Result<(), UnzipError> {
        let name = entry_name(index, entry)?;
        let normal = normalize(index, &name, self.limits)?;
        check_fits(index, &name, &normal.path, self.base_len)?;
        FsRules::HOST.check_components(index, &name, &normal.path)?;
        let unix_mode = (entry.system() == System::Unix).then(|| entry.external_attributes() >> 16);
        let kind = kind::classify(
            index,
            &name,
            normal.is_dir,
            unix_mode,
            entry.external_attributes(),
        )?;
        let flags = entry.flags().as_u16();
        check_encryption(index, &name, flags)?;
        let declared = Declared {
            method: method(index, &name, entry.compression())?,
            flags,
            size: entry.size(),
            compressed: entry.compressed_size(),
            crc32: entry.crc32(),
        };
        let dir_data = match kind {
            Kind::Dir => Some(kind::directory_data(
                index,
                &name,
                declared.method,
                declared.size,
                declared.compressed,
                declared.crc32,
            )?),
            Kind::File { .. } => {
                self.check_declared_sizes(index, &name, &declared)?;
                None
            }
        };
        let placed = self.check_local_header(index, &name, entry, &declared)?;
        if dir_data == Some(DirData::EmptyStream) {
            self.check_empty_stream(index, &name, &placed, &declared)?;
        }
        self.spans.push(Span {
            start: placed.header_start,
            end: placed.end,
            index,
        });
        self.tree
            .add(index, &name, &normal.path, kind == Kind::Dir)?;
        if let Kind::File { executable } = kind {
            self.plan.files.push(FileEntry {
                index,
                name: name.clone(),
                path: normal.path,
                data_start: placed.data_start,
                compressed_size: declared.compressed,
                size: declared.size,
                crc32: declared.crc32,
                method: declared.method,
                executable,
            });
        }
        self.names.push(name);
        Ok(())
    }

    /// Stored sizes, and the [`Limits`] on declared sizes (per entry, ratio, total).
    fn check_declared_sizes(
        &mut self,
        index: usize,
        name: &str,
        declared: &Declared,
    ) -> Result<(), UnzipError> {
        let (size, compressed, limits) = (declared.size, declared.compressed, self.limits);
        // A stored entry has one size; two are two readings of its end.
        if declared.method == Method::Stored && size != compressed {
            return Err(UnzipError::StoredSizeMismatch {
                index,
                name: name.to_owned(),
                compressed,
                uncompressed: size,
            });
        }
        if size > limits.max_entry_size {
            return Err(UnzipError::EntryTooLarge {
                index,
                name: name.to_owned(),
                size,
                limit: limits.max_entry_size,
            });
        }
        let ratio_cap = compressed
            .max(1)
            .saturating_mul(limits.max_compression_ratio);
        if declared.method != Method::Stored && size > ratio_cap {
            return Err(UnzipError::CompressionRatio {
                index,
                name: name.to_owned(),
                size,
                compressed,
                limit: limits.max_compression_ratio,
            });
        }
        self.plan.total_bytes = self.plan.total_bytes.saturating_add(size);
        if self.plan.total_bytes > limits.max_total_size {
            return Err(UnzipError::TotalTooLarge {
                index,
                name: name.to_owned(),
                limit: limits.max_total_size,
            });
        }
        Ok(())
    }

    /// The local header must exist, lie before the central directory, belong to this
    /// entry alone and agree with the central record; with flag bit 3, the data
    /// descriptor after the data must agree too. Returns where the entry's bytes are.
    ///
    /// Flags are compared whole, bit 3 included: every streaming writer seen
    /// (CPython, Info-ZIP, Java, the zip crate) sets it in both headers, and a
    /// difference would leave readers disagreeing on whether a descriptor follows
    /// (streaming readers go by the local flag, the zip crate's checks by the
    /// central one). Bit 3 only excuses zeros in the local CRC and sizes.
    fn check_local_header(
        &mut self,
        index: usize,
        name: &str,
        entry: &ZipFileEntry<'_>,
        declared: &Declared,
    ) -> Result<Placed, UnzipError> {
        let cd_start = self.layout.cd_start;
        let header_start = entry.header_start();
        let out_of_bounds = || UnzipError::EntryOutOfBounds {
            index,
            name: name.to_owned(),
        };
        if header_start.saturating_add(30) > cd_start {
            return Err(out_of_bounds());
        }
        // Two central entries on one local header (the "full overlap" of zip bombs)
        // would otherwise show as a name mismatch on the second: name it for what it is.
        if let Some(&other) = self.header_owner.get(&header_start) {
            return Err(UnzipError::OverlappingEntries {
                index,
                name: name.to_owned(),
                other,
            });
        }
        self.header_owner.insert(header_start, index);
        let mismatch = |field| UnzipError::LocalHeaderMismatch {
            index,
            name: name.to_owned(),
            field,
        };
        let local = match local_header::read(self.file, header_start, entry.name_raw().len())
            .map_err(|e| self.read_err(e))?
        {
            Found::Header(local) => local,
            Found::Truncated => return Err(out_of_bounds()),
            Found::BadSignature => return Err(mismatch("signature")),
        };
        if let Some(field) = local_disagreement(&local, entry.name_raw(), declared) {
            return Err(mismatch(field));
        }
        let data_start = header_start + local.len;
        let data_end = data_start
            .checked_add(declared.compressed)
            .filter(|&end| end <= cd_start)
            .ok_or_else(out_of_bounds)?;
        let end = if declared.flags & FLAG_DATA_DESCRIPTOR != 0 {
            let found = descriptor::read(self.file, data_end, local.zip64, cd_start)
                .map_err(|e| self.read_err(e))?
                .ok_or_else(out_of_bounds)?;
            let field = if found.crc32 != declared.crc32 {
                Some("crc")
            } else if found.compressed_size != declared.compressed {
                Some("compressed size")
            } else if found.uncompressed_size != declared.size {
                Some("uncompressed size")
            } else {
                None
            };
            if let Some(field) = field {
                return Err(UnzipError::DataDescriptorMismatch {
                    index,
                    name: name.to_owned(),
                    field,
                });
            }
            data_end + found.len
        } else {
            data_end
        };
        Ok(Placed {
            header_start,
            data_start,
            end,
        })
    }

    /// A directory's few deflated bytes must be one empty stream and nothing else.
    fn check_empty_stream(
        &self,
        index: usize,
        name: &str,
        placed: &Placed,
        declared: &Declared,
    ) -> Result<(), UnzipError> {
        // `directory_data` bounded the size by a small constant.
        let mut bytes = vec![0u8; usize::try_from(declared.compressed).unwrap_or(0)];
        let got = read_up_to_at(self.file, &mut bytes, placed.data_start)
            .map_err(|e| self.read_err(e))?;
        if got != bytes.len() || !kind::is_empty_deflate_stream(&bytes) {
            return Err(UnzipError::DirectoryWithData {
                index,
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// The whole-archive checks after the last entry, and the plan in its final order.
    fn finish(mut self) -> Result<Plan, UnzipError> {
        let names = &self.names;
        coverage::check(self.file, &mut self.spans, self.layout.cd_start, |index| {
            names.get(index).cloned().unwrap_or_default()
        })?;
        let mut plan = self.plan;
        plan.dirs = self.tree.into_dirs();
        plan.files
            .sort_unstable_by(|a, b| b.size.cmp(&a.size).then(a.index.cmp(&b.index)));
        Ok(plan)
    }
}

/// The entry's name as UTF-8. The zip crate quietly falls back to CP437 for a name
/// flagged UTF-8 that is not; a lying flag is a reason to refuse, not to guess.
fn entry_name(index: usize, entry: &ZipFileEntry<'_>) -> Result<String, UnzipError> {
    let flagged_utf8 = entry.flags().as_u16() & FLAG_UTF8 != 0;
    match entry.name() {
        Ok(name) if !flagged_utf8 || std::str::from_utf8(entry.name_raw()).is_ok() => {
            Ok(name.into_owned())
        }
        _ => Err(UnzipError::NameNotUtf8 {
            index,
            name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
        }),
    }
}

/// Encrypted entries cannot be checked (and readers without the key skip them).
fn check_encryption(index: usize, name: &str, flags: u16) -> Result<(), UnzipError> {
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
        return Err(UnzipError::Encrypted {
            index,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The compression methods we decode; any other is refused.
fn method(index: usize, name: &str, method: CompressionMethod) -> Result<Method, UnzipError> {
    match method {
        CompressionMethod::Stored => Ok(Method::Stored),
        CompressionMethod::Deflated => Ok(Method::Deflated),
        // `to_u16` is deprecated in favour of matching on variants, but the zip
        // crate only has a `Zstd` variant with its own `zstd` feature, which we
        // do not need (we decompress ourselves): the number is the stable name.
        #[allow(deprecated)]
        other => match other.to_u16() {
            #[cfg(feature = "zstd")]
            93 => Ok(Method::Zstd),
            number => Err(UnzipError::UnsupportedMethod {
                index,
                name: name.to_owned(),
                method: number,
            }),
        },
    }
}

/// The first field in which the local header disagrees with the central record, if
/// any. With flag bit 3 the local CRC and sizes may be zero (the descriptor has them).
fn local_disagreement(
    local: &LocalHeader,
    central_name: &[u8],
    declared: &Declared,
) -> Option<&'static str> {
    let deferred = declared.flags & FLAG_DATA_DESCRIPTOR != 0;
    let agrees = |local: u64, central: u64| local == central || (deferred && local == 0);
    if local.name != central_name {
        Some("name")
    } else if local.method != declared.method.number() {
        Some("method")
    } else if local.flags != declared.flags {
        Some("flags")
    } else if !agrees(u64::from(local.crc32), u64::from(declared.crc32)) {
        Some("crc")
    } else if !agrees(local.compressed_size, declared.compressed) {
        Some("compressed size")
    } else if !agrees(local.uncompressed_size, declared.size) {
        Some("uncompressed size")
    } else {
        None
    }
}
