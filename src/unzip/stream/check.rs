//! The check at the end of a stream, once the plan has run on what it kept: the walk
//! must have read the archive the plan read, entry for entry, and written the plan's
//! files and directories (see the module docs of `stream/`).

use std::collections::HashMap;

use crate::unzip::UnzipError;
use crate::unzip::coverage::Span;
use crate::unzip::plan::Plan;
use crate::unzip::tree::DirSet;

/// A file as it was streamed, for the check against the plan.
#[derive(Debug)]
pub(super) struct StreamedFile {
    pub(super) path: String,
    pub(super) size: u64,
    pub(super) crc32: u32,
}

/// The walk must have cut the stream into the plan's entries: each from the same
/// local header to the same last byte, none more, none less. Then every local header
/// the walk acted on is one the plan compared with its central record, and every
/// entry's data is where the plan has it, the same length.
pub(super) fn compare_spans(planned: &[Span], walked: &[(u64, u64)]) -> Result<(), UnzipError> {
    // Both are in offset order: the plan's sorted, the walk's as it went. The first
    // entry that differs, or the first one only one side has.
    let differs = planned
        .iter()
        .map(|span| (span.start, span.end))
        .zip(walked.iter().copied())
        .find(|(plan, walk)| plan != walk);
    let n = planned.len().min(walked.len());
    let offset = match (differs, planned.get(n), walked.get(n)) {
        (Some((plan, walk)), _, _) => plan.0.min(walk.0),
        (None, None, None) => return Ok(()),
        (None, Some(plan), _) => plan.start,
        (None, None, Some(walk)) => walk.0,
    };
    Err(UnzipError::StreamMismatch {
        offset,
        what: "the central directory cuts the archive into other entries than the local headers",
    })
}

/// The files written must be the plan's files, and the directories made the plan's
/// directories. The plan's rules already compared every local header with its central
/// record (so names and declared values agree), and [`compare_spans`] that they are
/// the headers the walk read; this is the safety net under those rules.
pub(super) fn compare(
    plan: &Plan,
    mut files: HashMap<u64, StreamedFile>,
    made: &DirSet,
) -> Result<(), UnzipError> {
    for entry in &plan.files {
        let mismatch = |what| UnzipError::StreamMismatch {
            offset: entry.data_start,
            what,
        };
        let streamed = files
            .remove(&entry.data_start)
            .ok_or_else(|| mismatch("no file was streamed at this entry's data"))?;
        if streamed.path != entry.path {
            return Err(mismatch("the path"));
        }
        if (streamed.size, streamed.crc32) != (entry.size, entry.crc32) {
            return Err(mismatch("the size or CRC-32"));
        }
    }
    if let Some(offset) = files.keys().min() {
        return Err(UnzipError::StreamMismatch {
            offset: *offset,
            what: "a file was streamed that the central directory does not list as one",
        });
    }
    if !made.is(&plan.dirs) {
        return Err(UnzipError::StreamMismatch {
            offset: 0,
            what: "the directories made differ from the central directory's",
        });
    }
    Ok(())
}
