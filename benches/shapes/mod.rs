//! The archive shapes of `benches/unzip.rs`, generated from a fixed seed: shared with
//! `benches/decoders` (its `shapes` binary writes them to `/dev/shm`), so both measure
//! the same bytes.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A xorshift generator: deterministic content without a dev-dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "def",
    "return",
    "self",
    "import",
    "from",
    "class",
    "None",
    "request",
    "response",
    "model",
    "field",
    "queryset",
    "template",
    "context",
    "if",
    "else",
    "for",
    "in",
    "not",
    "raise",
    "ValueError",
    "kwargs",
    "args",
    "super",
    "__init__",
    "settings",
    "url",
    "path",
    "view",
    "form",
];

/// Python-looking text, about 4:1 under deflate.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let indent = rng.below(4) as usize * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        for _ in 0..rng.below(8) + 2 {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(if rng.below(6) == 0 { b'_' } else { b' ' });
            if rng.below(5) == 0 {
                write!(out, "{}", rng.below(10_000)).unwrap();
            }
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// Machine-code-looking bytes, about 2:1 under deflate.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 600);
    while out.len() < len {
        let run = rng.below(512) as usize + 64;
        if rng.below(2) == 0 {
            out.extend((0..run).map(|_| rng.next() as u8));
        } else {
            let byte = rng.next() as u8;
            out.extend(std::iter::repeat_n(byte, run));
        }
    }
    out.truncate(len);
    out
}

fn small_files(zip: &mut ZipWriter<File>, rng: &mut Rng, count: usize) {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..count {
        let name = format!(
            "pkg/app{}/sub{}/part{}/module_{i}.py",
            i % 12,
            (i / 12) % 8,
            (i / 96) % 3
        );
        zip.start_file(name, options).unwrap();
        let len = 200 + rng.below(24 << 10) as usize;
        zip.write_all(&text(rng, len)).unwrap();
    }
}

fn big_files(zip: &mut ZipWriter<File>, rng: &mut Rng, sizes: &[usize]) {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .large_file(false);
    for (i, &size) in sizes.iter().enumerate() {
        zip.start_file(format!("pkg/.libs/lib{i}.so"), options)
            .unwrap();
        zip.write_all(&binary(rng, size)).unwrap();
    }
}

pub(crate) fn make_archive(path: &Path, shape: &str) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    match shape {
        "small" => small_files(&mut zip, &mut rng, 3_000),
        "large" => big_files(
            &mut zip,
            &mut rng,
            &[32 << 20, 24 << 20, 20 << 20, 16 << 20],
        ),
        _ => {
            small_files(&mut zip, &mut rng, 1_000);
            let medium: Vec<usize> = (0..8).map(|i| (256 << 10) + i * (96 << 10)).collect();
            big_files(&mut zip, &mut rng, &medium);
            let mut zip2 = zip;
            let options =
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            for i in 0..2 {
                zip2.start_file(format!("pkg/data/blob{i}.bin"), options)
                    .unwrap();
                zip2.write_all(&binary(&mut rng, 16 << 20)).unwrap();
            }
            zip2.finish().unwrap();
            return;
        }
    }
    zip.finish().unwrap();
}
