//! One thread, total time to inflate every deflated entry of each archive named on the
//! command line, per decoder, best of 5; every output is checked against the entry's
//! size (and, for the streaming baseline, CRC-32). `big:LEVEL` adds one entry made of
//! the contents of the numpy and pandas wheels found in `$WHEELS` (default
//! /tmp/wheels), deflated at LEVEL. `BUCKETS=1` regroups all entries by size.
//!
//! Decoders, each the way it is fastest when the size is known:
//! zlib-rs streaming (flate2, 64 KiB in / 256 KiB out, as the unzipper streams),
//! zlib-rs one-shot (`decompress_slice`), libdeflate (libdeflater), zune-inflate,
//! miniz_oxide (non-wrapping output buffer), fdeflate (zlib streams only: the raw
//! stream is wrapped, the copy counted), and with `--features isal` ISA-L's igzip
//! (isal-rs; building it needs nasm and autotools: `apt install nasm autoconf automake
//! libtool`).
use std::io::{Read, Write};
use std::time::{Duration, Instant};

struct Entry {
    data: Vec<u8>,
    size: usize,
    crc: u32,
}

fn entries_of(bytes: &[u8]) -> Vec<Entry> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).unwrap();
        if e.compression() != zip::CompressionMethod::Deflated {
            continue;
        }
        let (size, crc) = (e.size() as usize, e.crc32());
        let mut data = Vec::new();
        let mut e = e;
        e.read_to_end(&mut data).unwrap();
        out.push(Entry { data, size, crc });
    }
    out
}

/// One decoder's column: the best of 5 times to decode every entry with `decode`,
/// which returns the length of what it wrote, checked against the entry's size.
fn column(entries: &[Entry], mut decode: impl FnMut(&Entry) -> usize) -> (Duration, u64) {
    best(|| {
        let mut sum = 0u64;
        for e in entries {
            let n = decode(e);
            assert_eq!(n, e.size);
            sum += n as u64;
        }
        sum
    })
}

fn best<F: FnMut() -> u64>(mut f: F) -> (Duration, u64) {
    let mut b = Duration::MAX;
    let mut check = 0;
    for _ in 0..5 {
        let t = Instant::now();
        check = f();
        b = b.min(t.elapsed());
    }
    (b, check)
}

fn main() {
    let mut sets: Vec<(String, Vec<Entry>)> = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(level) = arg.strip_prefix("big:") {
            // One huge entry: every deflated entry's content of the given archives.
            let mut all = Vec::new();
            let wheels = std::env::var("WHEELS").unwrap_or_else(|_| "/tmp/wheels".into());
            let mut paths: Vec<_> = std::fs::read_dir(&wheels)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            paths.sort();
            for p in paths.iter().filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with("numpy-") || n.starts_with("pandas-")
            }) {
                let bytes = std::fs::read(p).unwrap();
                let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
                for i in 0..zip.len() {
                    zip.by_index(i).unwrap().read_to_end(&mut all).unwrap();
                }
            }
            let mut enc = flate2::write::DeflateEncoder::new(
                Vec::new(),
                flate2::Compression::new(level.parse().unwrap()),
            );
            enc.write_all(&all).unwrap();
            let data = enc.finish().unwrap();
            sets.push((
                format!("one entry {:.1} MB", all.len() as f64 / 1e6),
                vec![Entry {
                    size: all.len(),
                    crc: crc32fast::hash(&all),
                    data,
                }],
            ));
            continue;
        }
        let bytes = std::fs::read(&arg).unwrap();
        let name = std::path::Path::new(&arg)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split('-')
            .next()
            .unwrap()
            .to_owned();
        sets.push((name, entries_of(&bytes)));
    }
    if std::env::var_os("BUCKETS").is_some() {
        let all: Vec<Entry> = sets.drain(..).flat_map(|(_, e)| e).collect();
        let edges = [
            0usize,
            4 << 10,
            32 << 10,
            256 << 10,
            2 << 20,
            16 << 20,
            usize::MAX,
        ];
        let mut b: Vec<(String, Vec<Entry>)> = edges
            .windows(2)
            .map(|w| {
                (
                    format!(
                        "{}K-{}K",
                        w[0] >> 10,
                        if w[1] == usize::MAX { 0 } else { w[1] >> 10 }
                    ),
                    Vec::new(),
                )
            })
            .collect();
        for e in all {
            let i = edges
                .windows(2)
                .position(|w| e.size >= w[0] && e.size < w[1])
                .unwrap();
            b[i].1.push(e);
        }
        sets = b.into_iter().filter(|(_, e)| !e.is_empty()).collect();
    }
    let isal = if cfg!(feature = "isal") { " ISA-L |" } else { "" };
    println!(
        "| set | entries | MB out | zlib-rs streaming | zlib-rs one-shot | libdeflate | zune-inflate | miniz_oxide | fdeflate |{isal} crc32fast |"
    );
    println!("|---|---|---|---|---|---|---|---|---|{}---|", if isal.is_empty() { "" } else { "---|" });
    for (name, entries) in &sets {
        let total: usize = entries.iter().map(|e| e.size).sum();
        let max = entries.iter().map(|e| e.size).max().unwrap_or(0);
        let mut out = vec![0u8; max + 1];
        let mut cols = Vec::new();
        // zlib-rs streaming, 64 KiB in / 256 KiB out, as execute.rs does; the only
        // column that also checks the CRC-32.
        let mut d = flate2::Decompress::new(false);
        let mut obuf = vec![0u8; 256 << 10];
        cols.push(column(entries, |e| {
            d.reset(false);
            let mut h = crc32fast::Hasher::new();
            let mut pos = 0;
            let mut n = 0;
            loop {
                let end = (pos + (64 << 10)).min(e.data.len());
                let (bi, bo) = (d.total_in(), d.total_out());
                let st = d
                    .decompress(&e.data[pos..end], &mut obuf, flate2::FlushDecompress::None)
                    .unwrap();
                pos += (d.total_in() - bi) as usize;
                let p = (d.total_out() - bo) as usize;
                n += p;
                h.update(&obuf[..p]);
                if st == flate2::Status::StreamEnd {
                    break;
                }
            }
            assert_eq!(h.finalize(), e.crc);
            n
        }));
        cols.push(column(entries, |e| {
            let (o, rc) = zlib_rs::decompress_slice(
                &mut out[..e.size + 1],
                &e.data,
                zlib_rs::InflateConfig { window_bits: -15 },
            );
            assert_eq!(rc, zlib_rs::ReturnCode::Ok);
            o.len()
        }));
        let mut ld = libdeflater::Decompressor::new();
        cols.push(column(entries, |e| {
            ld.deflate_decompress(&e.data, &mut out[..e.size]).unwrap()
        }));
        cols.push(column(entries, |e| {
            zune_inflate::DeflateDecoder::new_with_options(
                &e.data,
                zune_inflate::DeflateOptions::default()
                    .set_size_hint(e.size)
                    .set_limit(e.size + 1),
            )
            .decode_deflate()
            .unwrap()
            .len()
        }));
        let mut mo = Box::new(miniz_oxide::inflate::core::DecompressorOxide::new());
        cols.push(column(entries, |e| {
            mo.init();
            let (st, _, n) = miniz_oxide::inflate::core::decompress(&mut mo, &e.data, &mut out[..e.size + 1], 0, miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
            assert_eq!(st, miniz_oxide::inflate::TINFLStatus::Done);
            n
        }));
        cols.push(column(entries, |e| {
            // fdeflate reads only zlib streams: wrap the raw stream (copying it, counted).
            let mut z = Vec::with_capacity(e.data.len() + 6);
            z.extend_from_slice(&[0x78, 0x9c]);
            z.extend_from_slice(&e.data);
            z.extend_from_slice(&[0; 4]);
            let mut fd = fdeflate::Decompressor::new();
            fd.ignore_adler32();
            let (_, n) = fd.read(&z, &mut out[..e.size + 1], 0, true).unwrap();
            assert!(fd.is_done());
            n
        }));
        // ISA-L's igzip (`--features isal`, needs nasm and autotools): its one-shot
        // stateless inflate, its fastest mode when the size is known.
        #[cfg(feature = "isal")]
        cols.push(column(entries, |e| {
            isal::decompress_into(&e.data, &mut out[..e.size], isal::Codec::Deflate).unwrap()
        }));
        // crc32fast over the outputs (libdeflate's output still in `out` only for the last; use data sized buffers)
        let (t, _) = best(|| {
            let mut s = 0u64;
            for e in entries {
                s += crc32fast::hash(&out[..e.size]) as u64;
            }
            s
        });
        let crc = t;
        let base = cols[0].0.as_secs_f64();
        print!("| {name} | {} | {:.1} |", entries.len(), total as f64 / 1e6);
        for (t, c) in &cols {
            assert_eq!(*c, total as u64);
            print!(
                " {:.1} ({:.2}x) |",
                t.as_secs_f64() * 1e3,
                base / t.as_secs_f64()
            );
        }
        println!(" {:.1} |", crc.as_secs_f64() * 1e3);
    }
}
