//! The plan phase: read and check everything, single-threaded, before any byte is
//! written.
//!
//! Input: the archive `File`. Output: an immutable [`Plan`] that the execute phase
//! follows without looking at the central directory again. Every refusal of the
//! plan happens here, in this order, so an archive breaking several rules always
//! gets the same error:
//!
//! 1. the archive's structure ([`end::read`]): one end record, consistent zip64
//!    records, a central directory that fills its declared size with the declared
//!    number of records, nothing before the archive; then the entry count against
//!    [`Limits::max_entries`] (each entry creates at least one object);
//! 2. each central record in index order, read by [`central::Records`] (so the first
//!    bad entry by index is the one reported): [`entry_name`] (the raw name: flagged
//!    UTF-8 and valid, or ASCII), [`normalize`] and [`check_fits`], the platform's
//!    name rules ([`FsRules::check_components`]), [`kind::classify`] (the Unix mode
//!    whatever the host byte), the central extra fields ([`extra::check`]), the
//!    [`Tree`] of paths (duplicates, file/directory conflicts, names the file system
//!    folds into one, and every file and directory counted against the limit),
//!    [`check_encryption`], the method, [`check_declared_sizes`] (or
//!    [`kind::directory_data`]), [`placement::place`] (the local header with its
//!    extra fields, and the data descriptor), [`placement::check_empty_stream`] for a
//!    deflated directory, and [`Builder::check_unicode_paths_and_descriptors`];
//! 3. the coverage of `0..cd_start` by the entries' bytes ([`coverage::check`]);
//! 4. the records' bytes (everything but the files' data) against [`RECORDS_MAX`].
//!
//! # Memory
//!
//! Nothing here allocates from a size the archive declares: sizes are only compared
//! and summed (saturating). Only the current central record is in memory, and no
//! name is stored once per level of its depth. What stays, per entry: a span (24
//! bytes) and, per file, a [`FileEntry`] (88 bytes, and the name twice: as stored and
//! normalized); against the entry's 46 + n bytes of central record, at most 3 times
//! it. Per file or directory, named or implied, the [`Tree`] keeps a 16-byte node,
//! its component's bytes and a hash slot (at most 15 bytes while the index doubles);
//! an implied directory costs the central directory at least 2 bytes of a name
//! (`a/`), so at most 16 times that. Besides, the plan reads through a 64 KiB buffer,
//! the 64 KiB tail of the file and one local header at a time (at most 128 KiB), and
//! the tree grows in 64 KiB chunks. So:
//!
//! **the plan's peak heap is at most 16 times the central directory's size, plus
//! 1 MiB**, whatever the names (20 times on Windows and macOS, where the tree also
//! indexes folded names: one more hash slot per node). `tests/plan_memory.rs`
//! measures it on four shapes: 2.8x (wheel-like names), 2.9x (40,000 flat names),
//! 3.3x (400 names of 64 levels of 60 bytes) and 13.0x (2,000 names of 64 one-byte
//! levels, each implying 63 new directories, the worst case per byte); before the
//! trie and our own central directory reader, the same shapes took 9.0x, 11.0x, 37x
//! and 72x (the zip crate kept every record, the tree every prefix of every path).

use super::source::ReadAt;
use std::path::Path;

use super::coverage::{self, Span};
use super::error::UnzipError;
use super::format::central::{self, Record, Records};
use super::format::end::{self, Layout};
use super::format::extra::{self, Header, Resolved};
use super::fs_names::FsRules;
use super::kind::{self, DirData, Kind};
use super::limits::Limits;
use super::name::{check_fits, normalize};
use super::placement::{self, Archive, Declared, Placed};
use super::tree::Tree;
pub(crate) use super::vocabulary::{FileEntry, Method, Plan};

/// The most bytes of records an archive may have: everything but its files' data
/// (local headers, data descriptors, a directory's data, the central directory and
/// end records, the comment). A streaming extraction keeps them all for its check at
/// the end, so this bounds its memory; the seekable path refuses past it too, so the
/// two paths give one verdict. A wheel's records take about 100 to 300 bytes per
/// entry: this is a million entries and more.
pub(crate) const RECORDS_MAX: usize = 256 << 20;

/// General purpose flag bits (APPNOTE 4.4.4).
const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

/// The plan under construction, and what the per-entry checks share.
struct Builder<'a> {
    file: &'a dyn ReadAt,
    archive: &'a Path,
    limits: &'a Limits,
    /// Length of the directory path entries are written under (see [`check_fits`]).
    base_len: usize,
    layout: Layout,
    plan: Plan,
    tree: Tree,
    spans: Vec<Span>,
    /// The first Unicode Path field seen (which header it was in), and whether a data
    /// descriptor with 4-byte sizes was: see [`Resolved::unicode_path`].
    unicode_path: Option<Header>,
    narrow_descriptor: bool,
}

/// Reads the central directory and every local header of `file` and checks them;
/// `base_len` is the length of the longest directory path the entries will be
/// written under (the staging directory or `dest`).
///
/// # Errors
///
/// Every rejection of the plan phase; see [`UnzipError`].
pub(crate) fn plan(
    file: &dyn ReadAt,
    archive: &Path,
    limits: &Limits,
    base_len: usize,
) -> Result<Plan, UnzipError> {
    plan_with_spans(file, archive, limits, base_len).map(|(plan, _)| plan)
}

/// [`plan`], and where each entry's bytes are (its local header to the end of its
/// data or descriptor), sorted by offset: for a stream's check that its walk cut the
/// archive into the same entries. No more memory than [`plan`]: the spans are alive
/// at its end anyway, for [`coverage::check`].
///
/// # Errors
///
/// As [`plan`].
pub(crate) fn plan_with_spans(
    file: &dyn ReadAt,
    archive: &Path,
    limits: &Limits,
    base_len: usize,
) -> Result<(Plan, Vec<Span>), UnzipError> {
    let layout = end::read(file, archive)?;
    // Known before any record is read, and each entry creates at least one object.
    let count = usize::try_from(layout.entries).unwrap_or(usize::MAX);
    if count > limits.max_entries {
        return Err(UnzipError::TooManyEntries {
            count,
            limit: limits.max_entries,
        });
    }
    let mut builder = Builder {
        file,
        archive,
        limits,
        base_len,
        layout,
        // `end::read` counted these records in the directory: at most one per
        // 46 bytes of it, so these are sized by the file, not by a claim. Room made
        // once is also room never copied while a vector doubles.
        plan: Plan {
            files: Vec::with_capacity(count),
            ..Plan::default()
        },
        tree: Tree::new(FsRules::HOST, limits.max_entries, count),
        spans: Vec::with_capacity(count),
        unicode_path: None,
        narrow_descriptor: false,
    };
    let mut records = Records::new(file, layout.cd_start, layout.cd_end);
    let mut index = 0;
    while let Some(record) = records.next_record().map_err(UnzipError::read(archive))? {
        builder.add(index, &record)?;
        index += 1;
    }
    builder.finish()
}

impl Builder<'_> {
    /// Every check of one entry, in the order of the module docs.
    fn add(&mut self, index: usize, record: &Record<'_>) -> Result<(), UnzipError> {
        let fixed = &record.fixed;
        let name = entry_name(index, record.name, fixed.flags)?;
        let normal = normalize(index, &name, self.limits)?;
        check_fits(index, &name, &normal.path, self.base_len)?;
        FsRules::HOST.check_components(index, &name, &normal.path)?;
        let kind = kind::classify(index, &name, normal.is_dir, fixed.host(), fixed.external)?;
        let central = extra::check(record.extra, &central_raw(record))
            .map_err(|problem| problem.error(index, &name, Header::Central))?;
        self.tree
            .add(index, &name, &normal.path, kind == Kind::Dir)?;
        check_encryption(index, &name, fixed.flags)?;
        let method =
            Method::from_number(fixed.method).ok_or_else(|| UnzipError::UnsupportedMethod {
                index,
                name: name.clone(),
                method: fixed.method,
            })?;
        check_end_known(index, &name, fixed.flags, method)?;
        let declared = Declared {
            method,
            flags: fixed.flags,
            size: central.uncompressed,
            compressed: central.compressed,
            crc32: fixed.crc32,
        };
        check_stream_present(index, &name, &declared)?;
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
                check_declared_sizes(
                    index,
                    &name,
                    &declared,
                    self.limits,
                    &mut self.plan.total_bytes,
                )?;
                None
            }
        };
        let archive = Archive {
            file: self.file,
            path: self.archive,
            cd_start: self.layout.cd_start,
            earlier: &self.spans,
        };
        let placed = placement::place(&archive, index, &name, fixed, &central, &declared)?;
        if dir_data == Some(DirData::EmptyStream) {
            placement::check_empty_stream(&archive, index, &name, &placed, &declared)?;
        }
        self.check_unicode_paths_and_descriptors(index, &name, &central, &placed)?;
        self.spans.push(Span {
            start: placed.header_start,
            end: placed.end,
            index,
        });
        if let Kind::File { executable } = kind {
            self.plan.files.push(FileEntry {
                index,
                name,
                path: normal.path,
                data_start: placed.data_start,
                compressed_size: declared.compressed,
                size: declared.size,
                crc32: declared.crc32,
                method: declared.method,
                executable,
            });
        }
        Ok(())
    }

    /// Refuses an archive with both a Unicode Path field and a data descriptor with
    /// 4-byte sizes, whichever comes first: Info-ZIP 6.0 then reads the descriptor
    /// with 8-byte sizes and stops (see [`Resolved::unicode_path`]).
    fn check_unicode_paths_and_descriptors(
        &mut self,
        index: usize,
        name: &str,
        central: &Resolved,
        placed: &Placed,
    ) -> Result<(), UnzipError> {
        if self.unicode_path.is_none() {
            if central.unicode_path {
                self.unicode_path = Some(Header::Central);
            } else if placed.unicode_path {
                self.unicode_path = Some(Header::Local);
            }
        }
        self.narrow_descriptor |= placed.narrow_descriptor;
        match self.unicode_path {
            Some(header) if self.narrow_descriptor => Err(UnzipError::ExtraFieldMismatch {
                index,
                name: name.to_owned(),
                header: header.describe(),
                field: "Info-ZIP Unicode Path field (0x7075)",
                problem: "is in an archive with a 4-byte data descriptor, which Info-ZIP 6.0 \
                          then reads with 8-byte sizes",
            }),
            _ => Ok(()),
        }
    }

    /// The whole-archive checks after the last entry, and the plan in its final order,
    /// with the entries' spans sorted by offset.
    fn finish(mut self) -> Result<(Plan, Vec<Span>), UnzipError> {
        let (file, layout) = (self.file, self.layout);
        // The names are not kept per entry: an error reads the one it needs again.
        coverage::check(file, &mut self.spans, layout.cd_start, |index| {
            central::name_at(file, layout.cd_start, layout.cd_end, index)
        })?;
        // Every byte is owned once (coverage), so the records are the rest.
        let data = self
            .plan
            .files
            .iter()
            .fold(0u64, |sum, entry| sum.saturating_add(entry.compressed_size));
        if layout.file_len.saturating_sub(data) > RECORDS_MAX as u64 {
            return Err(UnzipError::RecordsTooLarge {
                limit: RECORDS_MAX as u64,
            });
        }
        let mut plan = self.plan;
        plan.dirs = self.tree.into_dirs();
        plan.files
            .sort_unstable_by(|a, b| b.size.cmp(&a.size).then(a.index.cmp(&b.index)));
        Ok((plan, self.spans))
    }
}

/// Stored sizes, and the [`Limits`] on declared sizes (per entry, ratio, and the
/// running `total`).
pub(crate) fn check_declared_sizes(
    index: usize,
    name: &str,
    declared: &Declared,
    limits: &Limits,
    total: &mut u64,
) -> Result<(), UnzipError> {
    let (size, compressed) = (declared.size, declared.compressed);
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
    *total = total.saturating_add(size);
    if *total > limits.max_total_size {
        return Err(UnzipError::TotalTooLarge {
            index,
            name: name.to_owned(),
            limit: limits.max_total_size,
        });
    }
    Ok(())
}

/// The raw central values its extra fields could override.
fn central_raw<'a>(record: &Record<'a>) -> extra::Raw<'a> {
    let fixed = &record.fixed;
    extra::Raw {
        name: record.name,
        uncompressed: fixed.uncompressed,
        compressed: fixed.compressed,
        offset: Some(fixed.offset),
        disk: Some(fixed.disk),
        made_by: fixed.made_by,
        external: fixed.external,
        fallback_host: fixed.host(),
    }
}

/// The entry's raw name as a string: UTF-8 when flagged so (and valid), otherwise
/// ASCII. The raw name is the one checked and written; no second name is ever used.
pub(crate) fn entry_name(index: usize, raw: &[u8], flags: u16) -> Result<String, UnzipError> {
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    if flags & FLAG_UTF8 != 0 {
        // A lying flag is a reason to refuse, not to guess another encoding.
        return String::from_utf8(raw.to_vec()).map_err(|_| UnzipError::NameNotUtf8 {
            index,
            name: lossy(),
        });
    }
    // Without the flag, readers decode bytes over 0x7F each their own way (CPython as
    // CP437, Info-ZIP and libarchive not at all or through the locale).
    if raw.is_ascii() {
        // ASCII is valid UTF-8.
        Ok(String::from_utf8_lossy(raw).into_owned())
    } else {
        Err(UnzipError::AmbiguousEncoding {
            index,
            name: lossy(),
        })
    }
}

/// An entry with a data descriptor must mark its own end, or a streaming reader
/// cannot find the descriptor: of our methods, only deflate does (stored data is
/// just bytes; zstd frames may follow one another).
pub(crate) fn check_end_known(
    index: usize,
    name: &str,
    flags: u16,
    method: Method,
) -> Result<(), UnzipError> {
    if flags & FLAG_DATA_DESCRIPTOR != 0 && method != Method::Deflated {
        return Err(UnzipError::EntryEndUnknown {
            index,
            name: name.to_owned(),
            method: method.number(),
        });
    }
    Ok(())
}

/// A deflated entry with a data descriptor must hold a deflate stream, since only the
/// stream marks where its data ends: with no compressed bytes at all, a streaming
/// reader takes the descriptor that follows the header for the stream, while a reader
/// of the central directory sees an empty entry (a directory, say). Refused as
/// [`UnzipError::EntryEndUnknown`]; a local header alone cannot tell (its sizes are
/// the descriptor's), so a stream refuses the entry when the descriptor does not
/// inflate.
fn check_stream_present(index: usize, name: &str, declared: &Declared) -> Result<(), UnzipError> {
    if declared.flags & FLAG_DATA_DESCRIPTOR != 0 && declared.compressed == 0 {
        return Err(UnzipError::EntryEndUnknown {
            index,
            name: name.to_owned(),
            method: declared.method.number(),
        });
    }
    Ok(())
}

/// Encrypted entries cannot be checked (and readers without the key skip them).
pub(crate) fn check_encryption(index: usize, name: &str, flags: u16) -> Result<(), UnzipError> {
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
        return Err(UnzipError::Encrypted {
            index,
            name: name.to_owned(),
        });
    }
    Ok(())
}
