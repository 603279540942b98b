//! Extra fields: the ones some reader acts on must say what the raw fields say.
//!
//! An extra field can override what a header's fixed part says: a size, an offset,
//! the name, the host and the Unix mode (hence the type: a symbolic link). Readers
//! honour different fields, in different headers, under different conditions, so a
//! field that says something else than the raw fields is how one archive becomes two.
//! Every field some reader acts on is therefore checked in both headers, and must agree
//! with the raw fields it would override; the others are ignored, each for a reason.
//! (The crate docs have the same list as a table.)
//!
//! | id | field | read by | what inflight does |
//! |---|---|---|---|
//! | `0x0001` | zip64 extended information | all: CPython (central), Info-ZIP and libarchive (both headers), the zip crate, uv | at most one per header; it must hold a value for every saturated 32-bit field, in APPNOTE's order; a local one may not extend one size alone; the values it gives must match the other header's ([`Resolved`]) |
//! | `0x7075` | Info-ZIP Unicode Path | Info-ZIP (central; version 1, CRC), libarchive (local, CRC, any version), the zip crate (CRC, any version), CPython 3.12+ (central, version 1, CRC); after one, Info-ZIP 6.0 reads every data descriptor with 8-byte sizes | its name must be the raw name byte for byte, whatever its version and CRC; not in an archive with a 4-byte data descriptor |
//! | `0x6c78` | libarchive `xl` | libarchive (both headers): host and external attributes, hence type and mode | its host (or, without one, the host byte libarchive falls back on) and its external attributes must be the central record's |
//! | `0x756e` | ASi Unix | Info-ZIP (central, when the external attributes have no Unix mode): the mode, hence a link | its mode must be the central record's Unix mode |
//! | `0x9901` | WinZip AES | the zip crate, libarchive: the real method of an AES entry | refused: AES entries (method 99) are refused, and on any other entry the field is a contradiction |
//! | `0x4341` | Acorn SparkFS | Info-ZIP with `-F`: appends a `,xyz` file type to the name | refused: a second name |
//! | `0x5455`, `0x5855`, `0x7855`, `0x7875`, `0x000d`, `0x000a` | timestamps, Unix uid/gid (Info-ZIP, PKWARE), NTFS times | Info-ZIP, libarchive, the zip crate | ignored: times and owners, never names, types or bytes |
//! | `0x6375` | Info-ZIP Unicode Comment | Info-ZIP, the zip crate | ignored: comments are not extracted |
//! | `0xcafe`, `0xd935`, `0xa11e` | JAR marker, Android and zip-crate alignment padding | the zip crate (alignment) | ignored: padding |
//! | any other | | nobody on extraction | ignored |
//!
//! Besides, the area itself must parse as fields (4-byte header, data within the area)
//! up to at most 3 trailing zero bytes (old alignment padding, which every reader
//! skips): readers stop at a malformed field in different places, or fail the entry.
//! A field some reader acts on may not appear twice in one header: some take the
//! first, others the last.
//!
//! Everything here is a pure function of the header's bytes; [`Problem::error`] names
//! the entry when a problem becomes an error.

use super::bytes::{u16_at, u32_at, u64_at};
use crate::unzip::error::UnzipError;

const ZIP64: u16 = 0x0001;
const UNICODE_PATH: u16 = 0x7075;
const LIBARCHIVE_XL: u16 = 0x6c78;
const ASI_UNIX: u16 = 0x756e;
const WINZIP_AES: u16 = 0x9901;
const ACORN_SPARK: u16 = 0x4341;
/// The fields some reader acts on; each at most once per header.
const ACTED_ON: [u16; 6] = [
    ZIP64,
    UNICODE_PATH,
    LIBARCHIVE_XL,
    ASI_UNIX,
    WINZIP_AES,
    ACORN_SPARK,
];

const SATURATED_32: u32 = 0xFFFF_FFFF;
const SATURATED_16: u16 = 0xFFFF;

/// Which header an extra area belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    Local,
    Central,
}

impl Header {
    /// `"local"` or `"central"`, for error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Header::Local => "local",
            Header::Central => "central",
        }
    }
}

/// The raw values of one header that its extra fields could override.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    /// The header's own name.
    pub(crate) name: &'a [u8],
    pub(crate) uncompressed: u32,
    pub(crate) compressed: u32,
    /// Central only: the local header offset and the disk number start.
    pub(crate) offset: Option<u32>,
    pub(crate) disk: Option<u16>,
    /// The central record's version made by and external attributes: a local field
    /// that carries them must agree with the central record too.
    pub(crate) made_by: u16,
    pub(crate) external: u32,
    /// The host byte libarchive reads an `xl` field without a version made by with:
    /// the high byte of the central version made by, or of the local version needed.
    pub(crate) fallback_host: u8,
}

/// What the raw fields mean once the extra fields that may override them are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) uncompressed: u64,
    pub(crate) compressed: u64,
    /// Central only (0 for a local header).
    pub(crate) offset: u64,
    /// A zip64 field is present: a data descriptor after a local header that has one
    /// holds 8-byte sizes (APPNOTE 4.3.9.2).
    pub(crate) zip64: bool,
    /// A Unicode Path field is present (naming the raw name). Info-ZIP 6.0 sets its
    /// "zip64" flag when it takes one (not when it reads a zip64 field), keeps the flag
    /// across entries, and reads every data descriptor after it with 8-byte sizes: it
    /// then takes its own skip past a 4-byte one for overlapping data and stops
    /// ("possible zip bomb"). So the plan refuses an archive with both a Unicode Path
    /// field and a 4-byte data descriptor.
    pub(crate) unicode_path: bool,
}

/// Why an extra area was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A field some reader acts on says something the raw fields do not, appears
    /// twice, or the area does not parse: `field` names it, `problem` says what.
    Mismatch {
        field: &'static str,
        problem: &'static str,
    },
    /// A Unicode Path field (or a field that renames the entry) gives this name, which
    /// is not the raw one.
    SecondName { name: Vec<u8> },
    /// A field gives a Unix mode whose type is not a regular file or a directory that
    /// the raw fields agree with: `kind` is what libarchive or Info-ZIP would create.
    Type {
        kind: &'static str,
        field: &'static str,
        mode: u32,
    },
}

impl Problem {
    /// The error for this problem in the `header` of entry `index`, named `name`.
    pub(crate) fn error(self, index: usize, name: &str, header: Header) -> UnzipError {
        let (name, header) = (name.to_owned(), header.describe());
        match self {
            Problem::Mismatch { field, problem } => UnzipError::ExtraFieldMismatch {
                index,
                name,
                header,
                field,
                problem,
            },
            Problem::SecondName { name: second } => UnzipError::SecondName {
                index,
                name,
                header,
                second: String::from_utf8_lossy(&second).into_owned(),
            },
            Problem::Type { kind, field, mode } => UnzipError::AmbiguousType {
                index,
                name,
                kind,
                why: format!("the {field} in the {header} header gives the Unix mode {mode:#o}"),
            },
        }
    }
}

/// One field: its id and its data.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    id: u16,
    data: &'a [u8],
}

/// Splits an extra area into fields; `None` if it does not parse (a field running
/// past the end, or trailing bytes that are not up to 3 zeros).
fn fields(mut area: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    while area.len() >= 4 {
        let id = u16_at(area, 0);
        let len = usize::from(u16_at(area, 2));
        let data = area.get(4..4 + len)?;
        out.push(Field { id, data });
        area = &area[4 + len..];
    }
    area.iter().all(|&b| b == 0).then_some(out)
}

/// Applies the rules of the module docs to the extra `area` of one header.
///
/// # Errors
///
/// The first [`Problem`] found, in the order the fields appear.
pub(crate) fn check(area: &[u8], raw: &Raw<'_>) -> Result<Resolved, Problem> {
    let mismatch = |field, problem| Problem::Mismatch { field, problem };
    let fields = fields(area).ok_or(mismatch(
        "extra field area",
        "does not parse as a sequence of fields",
    ))?;
    let mut resolved = Resolved {
        uncompressed: u64::from(raw.uncompressed),
        compressed: u64::from(raw.compressed),
        offset: raw.offset.map_or(0, u64::from),
        zip64: false,
        unicode_path: false,
    };
    let mut named = false;
    for (at, field) in fields.iter().enumerate() {
        if ACTED_ON.contains(&field.id) && fields[..at].iter().any(|f| f.id == field.id) {
            return Err(mismatch(name_of(field.id), "appears twice"));
        }
        match field.id {
            ZIP64 => {
                resolved = zip64(field.data, raw)?;
            }
            UNICODE_PATH => {
                unicode_path(field.data, raw)?;
                named = true;
            }
            LIBARCHIVE_XL => libarchive_xl(field.data, raw)?,
            ASI_UNIX => asi_unix(field.data, raw)?,
            WINZIP_AES => {
                return Err(mismatch(
                    name_of(WINZIP_AES),
                    "marks an AES entry, whose real method some readers take from it",
                ));
            }
            ACORN_SPARK => {
                return Err(mismatch(
                    name_of(ACORN_SPARK),
                    "gives a file type Info-ZIP appends to the name (with -F)",
                ));
            }
            _ => {}
        }
    }
    resolved.unicode_path = named;
    Ok(resolved)
}

/// A local header's sizes as its zip64 field resolves them, and whether it has one
/// (its data descriptor, if any, then has 8-byte sizes): all a streaming reader needs
/// of the extra area before the data. The other rules need the central record, and
/// run when it has arrived (the stream's check at its end runs [`check`] on both).
pub(crate) fn local_sizes(
    area: &[u8],
    uncompressed: u32,
    compressed: u32,
) -> Result<Resolved, Problem> {
    let fields = fields(area).ok_or(Problem::Mismatch {
        field: "extra field area",
        problem: "does not parse as a sequence of fields",
    })?;
    let raw = Raw {
        name: &[],
        uncompressed,
        compressed,
        offset: None,
        disk: None,
        made_by: 0,
        external: 0,
        fallback_host: 0,
    };
    match fields.iter().find(|field| field.id == ZIP64) {
        Some(field) => zip64(field.data, &raw),
        None => Ok(Resolved {
            uncompressed: u64::from(uncompressed),
            compressed: u64::from(compressed),
            offset: 0,
            zip64: false,
            unicode_path: false,
        }),
    }
}

/// How errors name a field.
fn name_of(id: u16) -> &'static str {
    match id {
        ZIP64 => "zip64 extended information field (0x0001)",
        UNICODE_PATH => "Info-ZIP Unicode Path field (0x7075)",
        LIBARCHIVE_XL => "libarchive 'xl' field (0x6c78)",
        ASI_UNIX => "ASi Unix field (0x756e)",
        WINZIP_AES => "WinZip AES field (0x9901)",
        ACORN_SPARK => "Acorn SparkFS field (0x4341)",
        _ => "extra field",
    }
}

/// The zip64 field. Every reader that takes values from it takes those of the
/// saturated 32-bit fields (`0xFFFFFFFF`, `0xFFFF` for the disk), 8 bytes each (4 for
/// the disk), in APPNOTE's order: uncompressed, compressed, offset, disk. Bytes after
/// them are ignored by all (the zip crate writes both sizes whenever it marks an
/// entry large). So:
///
/// - central: the field must hold every saturated value;
/// - local: with no saturated size, its values are read by nobody (only its presence
///   counts: the data descriptor then has 8-byte sizes); with both sizes saturated, it
///   must hold both; with one alone, it is refused: Java-style readers read the sizes
///   from fixed places (uncompressed at 0, compressed at 8) whenever either is
///   saturated, Info-ZIP and libarchive read the saturated one from 0.
fn zip64(data: &[u8], raw: &Raw<'_>) -> Result<Resolved, Problem> {
    let too_short = Problem::Mismatch {
        field: name_of(ZIP64),
        problem: "is shorter than the saturated fields it extends",
    };
    let saturated = [
        raw.uncompressed == SATURATED_32,
        raw.compressed == SATURATED_32,
    ];
    if raw.offset.is_none() && saturated[0] != saturated[1] {
        return Err(Problem::Mismatch {
            field: name_of(ZIP64),
            problem: "extends one size of the local header but not the other",
        });
    }
    let mut at = 0;
    let mut take = |saturated: bool, value: u64| -> Result<u64, Problem> {
        if !saturated {
            return Ok(value);
        }
        let bytes = data.get(at..at + 8).ok_or(too_short.clone())?;
        at += 8;
        Ok(u64_at(bytes, 0))
    };
    let uncompressed = take(saturated[0], u64::from(raw.uncompressed))?;
    let compressed = take(saturated[1], u64::from(raw.compressed))?;
    let offset = match raw.offset {
        Some(offset) => take(offset == SATURATED_32, u64::from(offset))?,
        None => 0,
    };
    if raw.disk == Some(SATURATED_16) && data.len() < at + 4 {
        return Err(too_short);
    }
    Ok(Resolved {
        uncompressed,
        compressed,
        offset,
        zip64: true,
        unicode_path: false,
    })
}

/// The Unicode Path field: version (1 byte), CRC-32 of the raw name (4), the name.
/// Readers check the version and the CRC differently (or not at all), so the field is
/// accepted only when whoever honours it gets the raw name anyway.
fn unicode_path(data: &[u8], raw: &Raw<'_>) -> Result<(), Problem> {
    let Some(name) = data.get(5..) else {
        return Err(Problem::Mismatch {
            field: name_of(UNICODE_PATH),
            problem: "is shorter than its version and CRC",
        });
    };
    if name != raw.name {
        return Err(Problem::SecondName {
            name: name.to_vec(),
        });
    }
    Ok(())
}

/// libarchive's experimental `xl` field: a bitmap (7 bits a byte, high bit = more),
/// then, as its bits say, a version made by (2 bytes), internal attributes (2),
/// external attributes (4) and a comment (2 + n). libarchive reads the external
/// attributes as a Unix mode when the host is 3, as DOS attributes when it is 0.
fn libarchive_xl(data: &[u8], raw: &Raw<'_>) -> Result<(), Problem> {
    let field = name_of(LIBARCHIVE_XL);
    let malformed = Problem::Mismatch {
        field,
        problem: "is cut short",
    };
    let (&bitmap, mut rest) = data.split_first().ok_or(malformed.clone())?;
    let mut more = bitmap & 0x80 != 0;
    while more {
        let (&next, tail) = rest.split_first().ok_or(malformed.clone())?;
        more = next & 0x80 != 0;
        rest = tail;
    }
    let mut take = |len: usize| -> Result<&[u8], Problem> {
        let (head, tail) = rest.split_at_checked(len).ok_or(malformed.clone())?;
        rest = tail;
        Ok(head)
    };
    let made_by = if bitmap & 1 != 0 {
        Some(u16_at(take(2)?, 0))
    } else {
        None
    };
    if bitmap & 2 != 0 {
        take(2)?;
    }
    let external = if bitmap & 4 != 0 {
        Some(u32_at(take(4)?, 0))
    } else {
        None
    };
    if bitmap & 8 != 0 {
        let len = usize::from(u16_at(take(2)?, 0));
        take(len)?;
    }
    let host = made_by.map_or(raw.fallback_host, |m| (m >> 8) as u8);
    if let Some(external) = external {
        // What libarchive makes of it, before asking whether it agrees.
        let mode = match host {
            3 => external >> 16,
            0 if external & 0x10 != 0 => 0o040_775,
            0 => 0o100_664,
            _ => 0,
        };
        if let Some(kind) = foreign_type(mode) {
            return Err(Problem::Type { kind, field, mode });
        }
        if external != raw.external || host != (raw.made_by >> 8) as u8 {
            return Err(Problem::Mismatch {
                field,
                problem: "gives other external attributes or another host than the central record",
            });
        }
    }
    if made_by.is_some_and(|m| m != raw.made_by) {
        return Err(Problem::Mismatch {
            field,
            problem: "gives another version made by than the central record",
        });
    }
    Ok(())
}

/// The ASi Unix field: CRC (4 bytes), mode (2), link size (4), uid (2), gid (2), link
/// name. Info-ZIP takes the mode from it when the external attributes hold none.
fn asi_unix(data: &[u8], raw: &Raw<'_>) -> Result<(), Problem> {
    let field = name_of(ASI_UNIX);
    if data.len() < 6 {
        return Err(Problem::Mismatch {
            field,
            problem: "is cut short",
        });
    }
    let mode = u32::from(u16_at(data, 4));
    if let Some(kind) = foreign_type(mode) {
        return Err(Problem::Type { kind, field, mode });
    }
    if mode != raw.external >> 16 {
        return Err(Problem::Mismatch {
            field,
            problem: "gives another Unix mode than the central record",
        });
    }
    Ok(())
}

/// What a Unix mode makes of an entry if not a regular file or a directory (which the
/// name decides, and the kind rules check).
fn foreign_type(mode: u32) -> Option<&'static str> {
    match mode & 0o170_000 {
        0 | 0o100_000 | 0o040_000 => None,
        0o120_000 => Some("symbolic link"),
        _ => Some("special file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(header: Header) -> Raw<'static> {
        Raw {
            name: b"pkg/a.py",
            uncompressed: 10,
            compressed: 8,
            offset: (header == Header::Central).then_some(100),
            disk: (header == Header::Central).then_some(0),
            made_by: 0x0314,
            external: 0o100_644 << 16,
            fallback_host: 3,
        }
    }

    fn field(id: u16, data: &[u8]) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.extend_from_slice(&(data.len() as u16).to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    fn problem(area: &[u8], raw: &Raw<'_>) -> &'static str {
        match check(area, raw) {
            Err(Problem::Mismatch { problem, .. }) => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_nobody_acts_on_are_ignored_and_zero_padding_is_skipped() {
        let mut area = field(0x5455, &[1, 0, 0, 0, 0]);
        area.extend(field(0xcafe, &[]));
        area.extend([0, 0, 0]);
        let resolved = check(&area, &raw(Header::Local)).unwrap();
        assert_eq!((resolved.uncompressed, resolved.zip64), (10, false));
    }

    #[test]
    fn an_area_that_does_not_parse_is_refused() {
        let mut area = field(0x5455, &[1]);
        area.truncate(area.len() - 1);
        assert_eq!(
            problem(&area, &raw(Header::Central)),
            "does not parse as a sequence of fields"
        );
        assert!(check(&[0, 0, 1], &raw(Header::Central)).is_err());
    }

    #[test]
    fn zip64_values_come_in_order_for_the_saturated_fields_only() {
        let mut central = raw(Header::Central);
        central.compressed = SATURATED_32;
        central.offset = Some(SATURATED_32);
        let data = [(5u64 << 32).to_le_bytes(), (7u64 << 32).to_le_bytes()].concat();
        let resolved = check(&field(ZIP64, &data), &central).unwrap();
        assert_eq!(
            (resolved.uncompressed, resolved.compressed, resolved.offset),
            (10, 5 << 32, 7 << 32)
        );
        assert!(resolved.zip64);
    }

    #[test]
    fn a_zip64_field_must_hold_every_saturated_value() {
        let mut central = raw(Header::Central);
        central.uncompressed = SATURATED_32;
        assert_eq!(
            problem(&field(ZIP64, &[0; 4]), &central),
            "is shorter than the saturated fields it extends"
        );
        // Bytes after the saturated values are read by nobody.
        assert!(check(&field(ZIP64, &[0; 16]), &central).is_ok());
        central.disk = Some(SATURATED_16);
        assert!(check(&field(ZIP64, &[0; 8]), &central).is_err());
        assert!(check(&field(ZIP64, &[0; 12]), &central).is_ok());
        // Nothing saturated: the values are nobody's, the presence counts.
        assert!(
            check(&field(ZIP64, &[0; 16]), &raw(Header::Local))
                .unwrap()
                .zip64
        );
    }

    #[test]
    fn a_local_zip64_field_extending_one_size_alone_is_refused() {
        let mut local = raw(Header::Local);
        local.compressed = SATURATED_32;
        // Java reads the compressed size at 8, Info-ZIP and libarchive at 0.
        assert_eq!(
            problem(&field(ZIP64, &[0; 16]), &local),
            "extends one size of the local header but not the other"
        );
        local.uncompressed = SATURATED_32;
        let data = [3u64.to_le_bytes(), 4u64.to_le_bytes()].concat();
        let resolved = check(&field(ZIP64, &data), &local).unwrap();
        assert_eq!((resolved.uncompressed, resolved.compressed), (3, 4));
    }

    #[test]
    fn a_field_some_reader_acts_on_may_not_appear_twice() {
        let mut area = field(ZIP64, &[]);
        area.extend(field(ZIP64, &[]));
        assert_eq!(problem(&area, &raw(Header::Local)), "appears twice");
        let mut ignored = field(0x5455, &[0]);
        ignored.extend(field(0x5455, &[0]));
        assert!(check(&ignored, &raw(Header::Local)).is_ok());
    }

    #[test]
    fn a_unicode_path_must_be_the_raw_name_whatever_its_version_and_crc() {
        let same = [&[1u8, 0, 0, 0, 0][..], b"pkg/a.py"].concat();
        assert!(check(&field(UNICODE_PATH, &same), &raw(Header::Central)).is_ok());
        for version in [1u8, 2] {
            let other = [&[version, 1, 2, 3, 4][..], b"../evil"].concat();
            assert_eq!(
                check(&field(UNICODE_PATH, &other), &raw(Header::Local)),
                Err(Problem::SecondName {
                    name: b"../evil".to_vec()
                })
            );
        }
        assert!(check(&field(UNICODE_PATH, &[1, 0]), &raw(Header::Local)).is_err());
    }

    fn xl(bitmap: u8, made_by: Option<u16>, external: Option<u32>) -> Vec<u8> {
        let mut b = vec![bitmap];
        b.extend(made_by.map(u16::to_le_bytes).unwrap_or_default());
        b.extend(external.map(u32::to_le_bytes).unwrap_or_default());
        field(LIBARCHIVE_XL, &b)
    }

    #[test]
    fn an_xl_field_must_say_what_the_central_record_says() {
        let local = raw(Header::Local);
        assert!(check(&xl(5, Some(0x0314), Some(0o100_644 << 16)), &local).is_ok());
        assert!(matches!(
            check(&xl(5, Some(0x0314), Some(0o120_777 << 16)), &local),
            Err(Problem::Type {
                kind: "symbolic link",
                ..
            })
        ));
        assert!(check(&xl(5, Some(0x0314), Some(0o100_755 << 16)), &local).is_err());
        assert!(check(&xl(1, Some(0x0014), None), &local).is_err());
        // Without a version made by, libarchive reads the attributes with the host
        // byte of the local "version needed": 0 here, so they mean DOS attributes.
        let dos = Raw {
            fallback_host: 0,
            ..local
        };
        assert!(check(&xl(4, None, Some(0o100_644 << 16)), &dos).is_err());
        assert!(check(&xl(0x85, None, None), &local).is_err());
    }

    #[test]
    fn an_asi_field_must_give_the_central_unix_mode() {
        let asi = |mode: u16| {
            let mut b = vec![0; 4];
            b.extend(mode.to_le_bytes());
            b.extend([0; 8]);
            field(ASI_UNIX, &b)
        };
        assert!(check(&asi(0o100_644), &raw(Header::Central)).is_ok());
        assert!(check(&asi(0o100_755), &raw(Header::Central)).is_err());
        assert!(matches!(
            check(&asi(0o120_777), &raw(Header::Central)),
            Err(Problem::Type {
                kind: "symbolic link",
                ..
            })
        ));
    }

    #[test]
    fn aes_and_acorn_fields_are_refused() {
        assert!(check(&field(WINZIP_AES, &[0; 7]), &raw(Header::Central)).is_err());
        assert!(check(&field(ACORN_SPARK, &[0; 20]), &raw(Header::Local)).is_err());
    }
}
