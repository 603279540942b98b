//! A test-only zip forger: archives written byte by byte, with every field of every
//! record settable, for the archives no honest writer produces. No binary fixtures.
//!
//! [`Raw`] is one entry (local header, data, optional data descriptor, central
//! record); [`Archive`] lays entries out and adds what surrounds them: bytes before
//! the first entry, bytes between entries, unlisted local entries, junk inside the
//! central directory, the end record, the zip64 end record and locator, the comment
//! and bytes after it. Every field left at its default is what an honest writer
//! would put there.
//!
//! Also used by `fuzz/seeds.rs` (through `#[path]`) to write the fuzz seed corpus, so
//! it depends only on `std`, `crc32fast` and `flate2`.

#![allow(dead_code)]

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// General purpose flag bit 3: CRC and sizes follow the data in a data descriptor.
pub(crate) const FLAG_DESCRIPTOR: u16 = 1 << 3;

/// One entry as it will be written, with every field open to forgery.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) name: Vec<u8>,
    pub(crate) local_name: Option<Vec<u8>>,
    pub(crate) method: u16,
    pub(crate) local_method: Option<u16>,
    pub(crate) flags: u16,
    pub(crate) local_flags: Option<u16>,
    /// The bytes after the local header (compressed or stored).
    pub(crate) data: Vec<u8>,
    pub(crate) crc: u32,
    pub(crate) local_crc: Option<u32>,
    pub(crate) size: u32,
    pub(crate) local_size: Option<u32>,
    pub(crate) csize: u32,
    pub(crate) local_csize: Option<u32>,
    /// Unix mode; `None` writes a DOS entry with no mode.
    pub(crate) mode: Option<u32>,
    /// The low 16 bits of the external attributes (DOS attributes: 0x10 directory).
    pub(crate) dos_attributes: u16,
    /// The local header's extra field (a zip64 field makes descriptors 64-bit).
    pub(crate) local_extra: Vec<u8>,
    /// The central record's extra field.
    pub(crate) central_extra: Vec<u8>,
    /// "Version made by" as written; `None` writes 20 with host 3 (Unix) when there
    /// is a `mode`, host 0 (DOS) otherwise.
    pub(crate) made_by: Option<u16>,
    /// The external attributes as written; `None` writes `mode << 16 | dos_attributes`.
    pub(crate) external: Option<u32>,
    /// The local header's "version needed" (default 20).
    pub(crate) version_needed: u16,
    /// Written right after the data.
    pub(crate) descriptor: Option<Descriptor>,
}

/// A data descriptor, written after the entry's data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Descriptor {
    pub(crate) signature: bool,
    /// 8-byte sizes.
    pub(crate) wide: bool,
    pub(crate) crc: u32,
    pub(crate) csize: u64,
    pub(crate) size: u64,
}

impl Descriptor {
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        if self.signature {
            b.extend_from_slice(b"PK\x07\x08");
        }
        b.extend_from_slice(&self.crc.to_le_bytes());
        if self.wide {
            b.extend_from_slice(&self.csize.to_le_bytes());
            b.extend_from_slice(&self.size.to_le_bytes());
        } else {
            b.extend_from_slice(&(self.csize as u32).to_le_bytes());
            b.extend_from_slice(&(self.size as u32).to_le_bytes());
        }
        b
    }
}

impl Raw {
    pub(crate) fn stored(name: &str, content: &[u8]) -> Raw {
        Raw {
            name: name.as_bytes().to_vec(),
            local_name: None,
            method: 0,
            local_method: None,
            flags: 0,
            local_flags: None,
            data: content.to_vec(),
            crc: crc32fast::hash(content),
            local_crc: None,
            size: content.len() as u32,
            local_size: None,
            csize: content.len() as u32,
            local_csize: None,
            mode: Some(0o100644),
            dos_attributes: 0,
            local_extra: Vec::new(),
            central_extra: Vec::new(),
            made_by: None,
            external: None,
            version_needed: 20,
            descriptor: None,
        }
    }

    pub(crate) fn deflated(name: &str, content: &[u8]) -> Raw {
        let data = deflate(content);
        Raw {
            method: 8,
            csize: data.len() as u32,
            data,
            ..Raw::stored(name, content)
        }
    }

    pub(crate) fn dir(name: &str) -> Raw {
        Raw {
            mode: Some(0o040755),
            dos_attributes: 0x10,
            ..Raw::stored(name, b"")
        }
    }

    /// As a streaming writer writes it: flag bit 3 in both headers, zeros in the
    /// local CRC and sizes, the real values in a signed descriptor after the data.
    pub(crate) fn streamed(self) -> Raw {
        let descriptor = Descriptor {
            signature: true,
            wide: false,
            crc: self.crc,
            csize: u64::from(self.csize),
            size: u64::from(self.size),
        };
        Raw {
            flags: self.flags | FLAG_DESCRIPTOR,
            local_crc: Some(0),
            local_size: Some(0),
            local_csize: Some(0),
            descriptor: Some(descriptor),
            ..self
        }
    }

    pub(crate) fn local_header(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"PK\x03\x04");
        b.extend_from_slice(&self.version_needed.to_le_bytes());
        b.extend_from_slice(&self.local_flags.unwrap_or(self.flags).to_le_bytes());
        b.extend_from_slice(&self.local_method.unwrap_or(self.method).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // time, date
        b.extend_from_slice(&self.local_crc.unwrap_or(self.crc).to_le_bytes());
        b.extend_from_slice(&self.local_csize.unwrap_or(self.csize).to_le_bytes());
        b.extend_from_slice(&self.local_size.unwrap_or(self.size).to_le_bytes());
        let name = self.local_name.as_ref().unwrap_or(&self.name);
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(&(self.local_extra.len() as u16).to_le_bytes());
        b.extend_from_slice(name);
        b.extend_from_slice(&self.local_extra);
        b
    }

    /// The local header, the data and the descriptor: every byte the entry owns.
    pub(crate) fn local_record(&self) -> Vec<u8> {
        let mut b = self.local_header();
        b.extend_from_slice(&self.data);
        if let Some(descriptor) = &self.descriptor {
            b.extend_from_slice(&descriptor.bytes());
        }
        b
    }

    pub(crate) fn central_header(&self, offset: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"PK\x01\x02");
        let made_by = self
            .made_by
            .unwrap_or(if self.mode.is_some() { 3 << 8 | 20 } else { 20 });
        b.extend_from_slice(&made_by.to_le_bytes());
        b.extend_from_slice(&20u16.to_le_bytes());
        b.extend_from_slice(&self.flags.to_le_bytes());
        b.extend_from_slice(&self.method.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.crc.to_le_bytes());
        b.extend_from_slice(&self.csize.to_le_bytes());
        b.extend_from_slice(&self.size.to_le_bytes());
        b.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        b.extend_from_slice(&(self.central_extra.len() as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes()); // comment
        b.extend_from_slice(&0u16.to_le_bytes()); // disk
        b.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        let external = self
            .external
            .unwrap_or(self.mode.unwrap_or(0) << 16 | u32::from(self.dos_attributes));
        b.extend_from_slice(&external.to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&self.name);
        b.extend_from_slice(&self.central_extra);
        b
    }
}

/// One extra field: its id, its length and `data`.
pub(crate) fn extra_field(id: u16, data: &[u8]) -> Vec<u8> {
    let mut b = id.to_le_bytes().to_vec();
    b.extend_from_slice(&(data.len() as u16).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// An Info-ZIP Unicode Path field (0x7075) naming `name`, version 1, with the CRC-32
/// of `raw` (the name it stands for, so that readers that check the CRC take it).
pub(crate) fn unicode_path(name: &[u8], raw: &[u8]) -> Vec<u8> {
    let mut data = vec![1];
    data.extend_from_slice(&crc32fast::hash(raw).to_le_bytes());
    data.extend_from_slice(name);
    extra_field(0x7075, &data)
}

/// libarchive's `xl` field (0x6c78) with a version made by and external attributes.
pub(crate) fn libarchive_xl(made_by: u16, external: u32) -> Vec<u8> {
    let mut data = vec![0x05];
    data.extend_from_slice(&made_by.to_le_bytes());
    data.extend_from_slice(&external.to_le_bytes());
    extra_field(0x6c78, &data)
}

/// An ASi Unix field (0x756e) with `mode` and a link name.
pub(crate) fn asi_unix(mode: u16, link: &[u8]) -> Vec<u8> {
    let mut data = 0u32.to_le_bytes().to_vec(); // CRC, read by nobody
    data.extend_from_slice(&mode.to_le_bytes());
    data.extend_from_slice(&(link.len() as u32).to_le_bytes());
    data.extend_from_slice(&[0; 4]); // uid, gid
    data.extend_from_slice(link);
    extra_field(0x756e, &data)
}

pub(crate) fn deflate(content: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// The end of central directory record's fields; `None` is the honest value.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndRecord {
    pub(crate) disk: u16,
    pub(crate) cd_disk: u16,
    pub(crate) entries_on_disk: Option<u16>,
    pub(crate) entries: Option<u16>,
    pub(crate) cd_size: Option<u32>,
    pub(crate) cd_offset: Option<u32>,
    pub(crate) comment_len: Option<u16>,
}

/// A zip64 end record and its locator, written before the end record; `None` is
/// the honest value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Zip64 {
    /// The "size of the zip64 end record" field (honest: 44 + extensible data).
    pub(crate) record_size: Option<u64>,
    /// Extensible data after the 56 fixed bytes.
    pub(crate) extensible: Vec<u8>,
    pub(crate) disk: u32,
    pub(crate) cd_disk: u32,
    pub(crate) entries_on_disk: Option<u64>,
    pub(crate) entries: Option<u64>,
    pub(crate) cd_size: Option<u64>,
    pub(crate) cd_offset: Option<u64>,
    /// The locator's "offset of the zip64 end record" (honest: where it is).
    pub(crate) locator_offset: Option<u64>,
    pub(crate) locator_disk: u32,
    /// The locator's "total number of disks" (honest: 1).
    pub(crate) total_disks: Option<u32>,
    /// Write `0xFFFF`/`0xFFFFFFFF` in the 32-bit end record's fields, as writers do
    /// when a value does not fit (honest either way when it does fit).
    pub(crate) saturate: bool,
}

/// A whole archive: entries and everything around them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Archive {
    /// Bytes before the first entry (a self-extracting stub).
    pub(crate) prefix: Vec<u8>,
    /// Central offsets count from the end of `prefix` (as a writer that appends to
    /// an existing file does), not from the start of the file.
    pub(crate) relative_offsets: bool,
    pub(crate) entries: Vec<Raw>,
    /// `(i, bytes)`: bytes written right after entry `i`'s record.
    pub(crate) after: Vec<(usize, Vec<u8>)>,
    /// Entries written locally but left out of the central directory.
    pub(crate) unlisted: Vec<usize>,
    /// Bytes appended inside the central directory, counted in its size.
    pub(crate) central_junk: Vec<u8>,
    pub(crate) end: EndRecord,
    pub(crate) zip64: Option<Zip64>,
    pub(crate) comment: Vec<u8>,
    /// Bytes after the comment.
    pub(crate) suffix: Vec<u8>,
}

impl Archive {
    pub(crate) fn new(entries: Vec<Raw>) -> Archive {
        Archive {
            entries,
            ..Archive::default()
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = self.prefix.clone();
        let base = if self.relative_offsets {
            self.prefix.len()
        } else {
            0
        };
        let mut central = Vec::new();
        for (i, entry) in self.entries.iter().enumerate() {
            let offset = (out.len() - base) as u32;
            out.extend_from_slice(&entry.local_record());
            for (_, bytes) in self.after.iter().filter(|(at, _)| *at == i) {
                out.extend_from_slice(bytes);
            }
            if !self.unlisted.contains(&i) {
                central.push(entry.central_header(offset));
            }
        }
        let cd_start = out.len();
        for record in &central {
            out.extend_from_slice(record);
        }
        out.extend_from_slice(&self.central_junk);
        let cd_size = (out.len() - cd_start) as u64;
        let cd_offset = (cd_start - base) as u64;
        let count = central.len() as u64;
        let end = &self.end;
        let mut narrow = (count as u16, cd_size as u32, cd_offset as u32);
        if let Some(z) = &self.zip64 {
            let at = (out.len() - base) as u64;
            out.extend_from_slice(b"PK\x06\x06");
            let size = z.record_size.unwrap_or(44 + z.extensible.len() as u64);
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&45u16.to_le_bytes());
            out.extend_from_slice(&45u16.to_le_bytes());
            out.extend_from_slice(&z.disk.to_le_bytes());
            out.extend_from_slice(&z.cd_disk.to_le_bytes());
            out.extend_from_slice(&z.entries_on_disk.unwrap_or(count).to_le_bytes());
            out.extend_from_slice(&z.entries.unwrap_or(count).to_le_bytes());
            out.extend_from_slice(&z.cd_size.unwrap_or(cd_size).to_le_bytes());
            out.extend_from_slice(&z.cd_offset.unwrap_or(cd_offset).to_le_bytes());
            out.extend_from_slice(&z.extensible);
            out.extend_from_slice(b"PK\x06\x07");
            out.extend_from_slice(&z.locator_disk.to_le_bytes());
            out.extend_from_slice(&z.locator_offset.unwrap_or(at).to_le_bytes());
            out.extend_from_slice(&z.total_disks.unwrap_or(1).to_le_bytes());
            if z.saturate {
                narrow = (0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF);
            }
        }
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&end.disk.to_le_bytes());
        out.extend_from_slice(&end.cd_disk.to_le_bytes());
        out.extend_from_slice(&end.entries_on_disk.unwrap_or(narrow.0).to_le_bytes());
        out.extend_from_slice(&end.entries.unwrap_or(narrow.0).to_le_bytes());
        out.extend_from_slice(&end.cd_size.unwrap_or(narrow.1).to_le_bytes());
        out.extend_from_slice(&end.cd_offset.unwrap_or(narrow.2).to_le_bytes());
        let comment_len = end.comment_len.unwrap_or(self.comment.len() as u16);
        out.extend_from_slice(&comment_len.to_le_bytes());
        out.extend_from_slice(&self.comment);
        out.extend_from_slice(&self.suffix);
        out
    }
}

/// Local records laid out one after another, then the central directory.
pub(crate) fn build(entries: &[Raw]) -> Vec<u8> {
    Archive::new(entries.to_vec()).bytes()
}

/// Appends a central directory for `central` (entry, local header offset) and the
/// end record to the local records in `body`.
pub(crate) fn finish(mut body: Vec<u8>, central: &[(Raw, u32)]) -> Vec<u8> {
    let cd_start = body.len() as u32;
    for (entry, offset) in central {
        body.extend_from_slice(&entry.central_header(*offset));
    }
    let cd_len = body.len() as u32 - cd_start;
    body.extend_from_slice(b"PK\x05\x06");
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(central.len() as u16).to_le_bytes());
    body.extend_from_slice(&(central.len() as u16).to_le_bytes());
    body.extend_from_slice(&cd_len.to_le_bytes());
    body.extend_from_slice(&cd_start.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body
}

/// A raw deflate stream of one final fixed-Huffman block: `literals`, then one match
/// of literal/length symbol `length_symbol` at distance 1, then end-of-block.
///
/// Symbol 285 is a valid match of 258 bytes. 286 and 287 have codes in the fixed
/// code but no meaning (RFC 1951 3.2.6): zlib refuses them, libdeflate decodes them
/// as 258 like 285. `literals` must not be empty (distance 1 needs a byte before).
pub(crate) fn fixed_block(literals: &[u8], length_symbol: u16) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman codes
    for &byte in literals {
        match byte {
            0..=143 => bits.code(0x30 + u32::from(byte), 8),
            _ => bits.code(0x190 + u32::from(byte) - 144, 9),
        }
    }
    let symbol = u32::from(length_symbol);
    bits.code(0xC0 + symbol - 280, 8); // 280..=287 have 8-bit codes
    bits.code(0, 5); // distance code 0: distance 1, no extra bits
    bits.code(0, 7); // end of block (256)
    bits.bytes
}

/// Bits packed into bytes the deflate way: fields from the low bit up, Huffman codes
/// most significant bit first.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn push(&mut self, bit: u32) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        let last = self.bytes.len() - 1;
        self.bytes[last] |= (bit as u8) << (self.used % 8);
        self.used += 1;
    }

    fn put(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.push((value >> i) & 1);
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.push((code >> i) & 1);
        }
    }
}

/// One archive that a walk of its local headers and its central directory cut into
/// entries differently, though either way every byte belongs to a listed entry and
/// every record a reader of that way looks at is sound.
///
/// The walk sees `first` (with a data descriptor: it ends where its deflate stream
/// does) and then `second`, whose local extra field holds, in a field of an unknown
/// id, a second descriptor of `first` and a copy of `second`'s own local header,
/// ending where the real one ends. The central directory gives `first` a compressed
/// size that reaches up to that second descriptor (its data then holds its stream, its
/// real descriptor and the start of `second`'s header: bytes no plan reads), and
/// places `second` at the copy of its header, so both readings name the same data.
pub(crate) fn records_in_extra(first: Raw, second: Raw) -> Vec<u8> {
    let first = first.streamed();
    let mut body = first.local_record();
    let header_len = |raw: &Raw| 30 + raw.name.len();
    // Where the hidden descriptor starts: after `second`'s fixed header, its name and
    // the 4 bytes that open the extra field holding it.
    let hidden_at = body.len() + header_len(&second) + 4;
    let csize = hidden_at - header_len(&first);
    let hidden = Descriptor {
        csize: csize as u64,
        ..first.descriptor.expect("a streamed entry has a descriptor")
    };
    let copy_at = hidden_at + hidden.bytes().len();
    let mut walked = second.clone();
    walked.local_extra = extra_field(0xCAFE, &[hidden.bytes(), second.local_header()].concat());
    body.extend_from_slice(&walked.local_record());
    let listed_first = Raw {
        csize: csize as u32,
        ..first
    };
    finish(body, &[(listed_first, 0), (second, copy_at as u32)])
}
