//! The demo set: two dozen wheel-like archives in three shapes, the same on every run.

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

/// Builds 24 wheel-like archives in `dir`: eight of each shape.
pub(crate) fn demo_set(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut archives = Vec::new();
    for i in 0..8 {
        // Like django: hundreds of small source files in nested packages.
        let files: Vec<(String, Vec<u8>)> = (0..250)
            .map(|f| {
                let name = format!("smallpkg{i}/mod{}/sub{}/file{f}.py", f % 7, f % 3);
                (name, text(&mut rng, 500 + (f * 37) % 4000))
            })
            .collect();
        archives.push(write_archive(
            dir,
            &format!("smallpkg{i}-1.0-py3-none-any"),
            &files,
        )?);
    }
    for i in 0..8 {
        // Like numpy: a few large shared-library-like files.
        let files = vec![
            (format!("bigpkg{i}/_core.so"), binary(&mut rng, 2 << 20)),
            (format!("bigpkg{i}/_linalg.so"), binary(&mut rng, 1 << 20)),
            (format!("bigpkg{i}/__init__.py"), text(&mut rng, 800)),
        ];
        archives.push(write_archive(
            dir,
            &format!("bigpkg{i}-2.0-cp312-linux_x86_64"),
            &files,
        )?);
    }
    for i in 0..8 {
        // Mixed: some sources and one medium library.
        let mut files: Vec<(String, Vec<u8>)> = (0..60)
            .map(|f| {
                (
                    format!("mixpkg{i}/m{}/f{f}.py", f % 5),
                    text(&mut rng, 1500),
                )
            })
            .collect();
        files.push((
            format!("mixpkg{i}/_speedups.so"),
            binary(&mut rng, 768 << 10),
        ));
        archives.push(write_archive(
            dir,
            &format!("mixpkg{i}-3.1-cp312-linux_x86_64"),
            &files,
        )?);
    }
    Ok(archives)
}

/// Writes `<stem>.whl` with `files` and, as a wheel has, `<name>-<version>.dist-info/METADATA`.
fn write_archive(dir: &Path, stem: &str, files: &[(String, Vec<u8>)]) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{stem}.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path)?);
    let mut parts = stem.split('-');
    let (name, version) = (parts.next().unwrap_or(stem), parts.next().unwrap_or("0"));
    let metadata = (
        format!("{name}-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").into_bytes(),
    );
    for (name, data) in files.iter().chain([&metadata]) {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(if name.ends_with(".so") { 0o755 } else { 0o644 });
        zip.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(data)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    Ok(path)
}

/// Source-code-like bytes: words from a small vocabulary, so they compress like code.
fn text(rng: &mut XorShift, len: usize) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "def ", "return ", "self", ".value", " = ", "import ", "(x)", ":\n    ", "if ", "None",
        "\n", "class ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[(rng.next() % WORDS.len() as u64) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

/// Machine-code-like bytes: half compressible (runs and a small alphabet), half noise.
fn binary(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let r = rng.next();
        if r.is_multiple_of(2) {
            out.extend_from_slice(&r.to_le_bytes());
        } else {
            out.extend(std::iter::repeat_n((r >> 8) as u8 & 0x1f, 8));
        }
    }
    out.truncate(len);
    out
}

/// A tiny deterministic generator, so the demo set is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
