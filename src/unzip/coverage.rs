//! Every byte from offset 0 to the central directory belongs to exactly one listed
//! entry.
//!
//! A central-directory reader sees only the entries the directory lists; a streaming
//! reader walks local headers from offset 0 and sees whatever is there. The two see
//! the same archive only when the listed entries, each one local header, its data and
//! its data descriptor, tile `0..cd_start` with no gap and no overlap. Sorting the
//! entries' spans by offset and walking them once checks that in `O(n log n)`, with
//! no per-byte work. The local order need not be the central directory's order:
//! names are unique and no extraction depends on order, so writers that sort their
//! central directory are accepted.

use super::source::ReadAt;

use super::error::UnzipError;
use super::format::local_header::{self, Found};

/// One listed entry's bytes: `start..end` holds its local header, data and descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) index: usize,
}

/// Checks that `spans` tile `0..cd_start` exactly. `name_of` gives an entry's name for
/// [`UnzipError::OverlappingEntries`].
///
/// # Errors
///
/// [`UnzipError::OverlappingEntries`] where two spans share bytes;
/// [`UnzipError::UnlistedEntry`] where a gap starts with a local header;
/// [`UnzipError::Prefix`] for other bytes before the first entry;
/// [`UnzipError::UnlistedBytes`] for other gaps (also when the gap cannot be read).
pub(crate) fn check(
    file: &dyn ReadAt,
    spans: &mut [Span],
    cd_start: u64,
    name_of: impl Fn(usize) -> String,
) -> Result<(), UnzipError> {
    spans.sort_unstable();
    let mut covered = 0u64;
    let mut last: Option<usize> = None;
    for span in spans.iter() {
        if span.start < covered {
            let other = last.unwrap_or(span.index);
            let index = span.index.max(other);
            return Err(UnzipError::OverlappingEntries {
                index,
                name: name_of(index),
                other: span.index.min(other),
            });
        }
        if span.start > covered {
            return Err(gap(file, covered, span.start));
        }
        covered = span.end;
        last = Some(span.index);
    }
    if covered < cd_start {
        return Err(gap(file, covered, cd_start));
    }
    Ok(())
}

/// Names the bytes `start..end` that no listed entry owns.
fn gap(file: &dyn ReadAt, start: u64, end: u64) -> UnzipError {
    if let Ok(Found::Header(header)) = local_header::read(file, start, 0)
        && start + header.len <= end
    {
        return UnzipError::UnlistedEntry {
            offset: start,
            name: String::from_utf8_lossy(&header.name).into_owned(),
        };
    }
    if start == 0 {
        UnzipError::Prefix { len: end }
    } else {
        UnzipError::UnlistedBytes {
            offset: start,
            len: end - start,
        }
    }
}
