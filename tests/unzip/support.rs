//! Helpers: a byte-level zip writer for archives the zip crate refuses to write, and a
//! scene (temporary root, archive, parent, dest) that checks nothing is left behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use inflight::{Limits, UnzipError, Unzipper};
use tempfile::TempDir;

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
            ..Raw::stored(name, b"")
        }
    }

    pub(crate) fn local_header(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"PK\x03\x04");
        b.extend_from_slice(&20u16.to_le_bytes());
        b.extend_from_slice(&self.local_flags.unwrap_or(self.flags).to_le_bytes());
        b.extend_from_slice(&self.local_method.unwrap_or(self.method).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // time, date
        b.extend_from_slice(&self.local_crc.unwrap_or(self.crc).to_le_bytes());
        b.extend_from_slice(&self.local_csize.unwrap_or(self.csize).to_le_bytes());
        b.extend_from_slice(&self.local_size.unwrap_or(self.size).to_le_bytes());
        let name = self.local_name.as_ref().unwrap_or(&self.name);
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(name);
        b
    }

    /// The local header followed by the data.
    pub(crate) fn local_record(&self) -> Vec<u8> {
        let mut b = self.local_header();
        b.extend_from_slice(&self.data);
        b
    }

    pub(crate) fn central_header(&self, offset: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"PK\x01\x02");
        let made_by: u16 = if self.mode.is_some() { 3 << 8 | 20 } else { 20 };
        b.extend_from_slice(&made_by.to_le_bytes());
        b.extend_from_slice(&20u16.to_le_bytes());
        b.extend_from_slice(&self.flags.to_le_bytes());
        b.extend_from_slice(&self.method.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.crc.to_le_bytes());
        b.extend_from_slice(&self.csize.to_le_bytes());
        b.extend_from_slice(&self.size.to_le_bytes());
        b.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes()); // extra
        b.extend_from_slice(&0u16.to_le_bytes()); // comment
        b.extend_from_slice(&0u16.to_le_bytes()); // disk
        b.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        b.extend_from_slice(&(self.mode.unwrap_or(0) << 16).to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.extend_from_slice(&self.name);
        b
    }
}

pub(crate) fn deflate(content: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// Local records laid out one after another, then the central directory.
pub(crate) fn build(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for entry in entries {
        offsets.push(out.len() as u32);
        out.extend_from_slice(&entry.local_record());
    }
    let central: Vec<(Raw, u32)> = entries.iter().cloned().zip(offsets).collect();
    finish(out, &central)
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

/// `root/archive.zip`, an empty `root/parent/`, and `dest = root/parent/dest`.
pub(crate) struct Scene {
    pub(crate) root: TempDir,
    pub(crate) archive: PathBuf,
    pub(crate) dest: PathBuf,
}

impl Scene {
    pub(crate) fn new(bytes: &[u8]) -> Scene {
        let root = tempfile::tempdir().unwrap();
        let archive = root.path().join("archive.zip");
        std::fs::write(&archive, bytes).unwrap();
        std::fs::create_dir(root.path().join("parent")).unwrap();
        let dest = root.path().join("parent").join("dest");
        Scene {
            root,
            archive,
            dest,
        }
    }

    pub(crate) fn unzip(&self, unzipper: &Unzipper) -> Result<inflight::Extracted, UnzipError> {
        unzipper.unzip(&self.archive, &self.dest)
    }

    /// Asserts the failure left nothing: no `dest`, no staging directory (only the
    /// empty lock files of staging slots), nothing next to the archive.
    pub(crate) fn assert_untouched(&self) {
        assert!(!self.dest.exists(), "dest exists after a failure");
        assert_eq!(
            beside(&self.root.path().join("parent")),
            Vec::<String>::new(),
            "parent not empty"
        );
        assert_eq!(
            listing(self.root.path()),
            ["archive.zip", "parent"],
            "something escaped the parent"
        );
    }
}

/// What is in `dir` besides the empty lock files of staging slots
/// (`.<name>.staging-<k>.lock`), which stay in place by design.
pub(crate) fn beside(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|name| {
            let lock =
                name.starts_with('.') && name.contains(".staging-") && name.ends_with(".lock");
            !(lock && std::fs::metadata(dir.join(name)).unwrap().len() == 0)
        })
        .collect()
}

pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Extracts `bytes` with `limits`, asserts it failed without leaving anything behind,
/// and returns the error.
pub(crate) fn reject_with(bytes: &[u8], limits: Limits) -> UnzipError {
    let scene = Scene::new(bytes);
    let result = scene.unzip(&Unzipper::new().limits(limits));
    scene.assert_untouched();
    match result {
        Err(error) => error,
        Ok(done) => panic!("extracted {done:?} instead of failing"),
    }
}

/// [`reject_with`] and default limits.
pub(crate) fn reject(bytes: &[u8]) -> UnzipError {
    reject_with(bytes, Limits::default())
}

/// Asserts an expression matches a pattern, printing the value otherwise.
#[macro_export]
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(if $guard:expr)?) => {
        match $value {
            $pattern $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}
