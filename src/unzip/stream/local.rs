//! One local entry as a stream gives it: its header read and checked as far as a
//! local header alone allows, before any of its bytes is written.
//!
//! The checks are the plan's own functions, in the plan's order: the name rules, the
//! tree of paths (duplicates, file/directory conflicts, the count of files and
//! directories), encryption, the method, a descriptor only where the data marks its
//! own end, a directory's data, the declared sizes against the limits. What needs the
//! central record (types from the Unix mode, every extra-field rule, local against
//! central) waits for the check at the end of the stream, before anything is
//! published; until then nothing but regular files and directories is created, each
//! relative to the staging directory's handle.

use std::io::Read;

use super::input::Input;
use super::kept_len;
use crate::unzip::UnzipError;
use crate::unzip::format::extra::{self, Header};
use crate::unzip::format::local_header::{self, FIXED_LEN, LocalHeader};
use crate::unzip::fs_names::FsRules;
use crate::unzip::kind;
use crate::unzip::limits::Limits;
use crate::unzip::name::{check_fits, normalize};
use crate::unzip::placement::Declared;
use crate::unzip::plan::{self, Method};
use crate::unzip::tree::Tree;

/// General purpose flag bit 3: CRC and sizes follow the data.
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

/// A local entry, checked as far as its header allows.
#[derive(Debug)]
pub(crate) struct LocalEntry {
    /// Position in the stream (0 for the first entry).
    pub(crate) index: usize,
    /// Stream offset of its local header.
    pub(crate) offset: u64,
    /// The name as stored.
    pub(crate) name: String,
    /// The normalized path.
    pub(crate) path: String,
    pub(crate) is_dir: bool,
    pub(crate) method: Method,
    /// Flag bit 3: the CRC and sizes are in a data descriptor after the data, and only
    /// the data's own end says where that is.
    pub(crate) deferred: bool,
    /// A zip64 field is present: a descriptor has 8-byte sizes.
    pub(crate) zip64: bool,
    /// The declared values (meaningful without `deferred`).
    pub(crate) crc32: u32,
    pub(crate) compressed: u64,
    pub(crate) size: u64,
    /// The header's raw bytes, kept for the check at the end.
    pub(crate) header: Vec<u8>,
}

/// What the checks of successive entries share.
pub(crate) struct Rules<'a> {
    pub(crate) limits: &'a Limits,
    /// Length of the directory path entries are written under.
    pub(crate) base_len: usize,
    pub(crate) tree: Tree,
    /// Declared uncompressed bytes so far.
    pub(crate) total: u64,
}

/// Reads the rest of the local header whose signature was just read at `offset`, and
/// checks it.
pub(crate) fn read_entry<R: Read>(
    input: &mut Input<'_, R>,
    index: usize,
    offset: u64,
    rules: &mut Rules<'_>,
    kept: &mut usize,
) -> Result<LocalEntry, UnzipError> {
    let mut header = vec![0u8; FIXED_LEN];
    header[..4].copy_from_slice(&local_header::SIGNATURE.to_le_bytes());
    input.read_exact(&mut header[4..])?;
    let name_len = usize::from(u16::from_le_bytes([header[26], header[27]]));
    let extra_len = usize::from(u16::from_le_bytes([header[28], header[29]]));
    header.resize(FIXED_LEN + name_len + extra_len, 0);
    input.read_exact(&mut header[FIXED_LEN..])?;
    *kept += header.len();
    kept_len(*kept)?;
    let local = local_header::parse(&header);
    let checked = check(&local, index, rules)?;
    Ok(LocalEntry {
        index,
        offset,
        header,
        ..checked
    })
}

/// The checks of one local header, in the plan's order.
fn check(
    local: &LocalHeader,
    index: usize,
    rules: &mut Rules<'_>,
) -> Result<LocalEntry, UnzipError> {
    let name = plan::entry_name(index, &local.name, local.flags)?;
    let normal = normalize(index, &name, rules.limits)?;
    check_fits(index, &name, &normal.path, rules.base_len)?;
    FsRules::HOST.check_components(index, &name, &normal.path)?;
    rules.tree.add(index, &name, &normal.path, normal.is_dir)?;
    plan::check_encryption(index, &name, local.flags)?;
    let method =
        Method::from_number(local.method).ok_or_else(|| UnzipError::UnsupportedMethod {
            index,
            name: name.clone(),
            method: local.method,
        })?;
    plan::check_end_known(index, &name, local.flags, method)?;
    let sizes = extra::local_sizes(&local.extra, local.uncompressed_size, local.compressed_size)
        .map_err(|problem| problem.error(index, &name, Header::Local))?;
    let deferred = local.flags & FLAG_DATA_DESCRIPTOR != 0;
    let declared = Declared {
        method,
        flags: local.flags,
        size: sizes.uncompressed,
        compressed: sizes.compressed,
        crc32: local.crc32,
    };
    if !deferred {
        if normal.is_dir {
            kind::directory_data(
                index,
                &name,
                method,
                declared.size,
                declared.compressed,
                declared.crc32,
            )?;
        } else {
            plan::check_declared_sizes(index, &name, &declared, rules.limits, &mut rules.total)?;
        }
    }
    Ok(LocalEntry {
        index,
        offset: 0,
        name,
        path: normal.path,
        is_dir: normal.is_dir,
        method,
        deferred,
        zip64: sizes.zip64,
        crc32: local.crc32,
        compressed: declared.compressed,
        size: declared.size,
        header: Vec::new(),
    })
}
