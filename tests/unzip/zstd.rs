//! Zstandard entries (method 93): extracted with the `zstd` feature, rejected without.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::support::{Raw, build, reject};

fn zstd_entry(name: &str, data: Vec<u8>, content: &[u8]) -> Raw {
    Raw {
        method: 93,
        csize: data.len() as u32,
        data,
        ..Raw::stored(name, content)
    }
}

#[cfg(not(feature = "zstd"))]
#[test]
fn zstd_entries_are_unsupported_without_the_feature() {
    let entry = zstd_entry("z", vec![0x28, 0xb5, 0x2f, 0xfd], b"");
    assert_matches!(
        reject(&build(&[entry])),
        E::UnsupportedMethod { method: 93, .. }
    );
}

#[cfg(feature = "zstd")]
mod with_feature {
    use inflight::Unzipper;

    use super::*;
    use crate::round_trip::semi_compressible;
    use crate::support::Scene;

    fn compress(content: &[u8]) -> Vec<u8> {
        zstd::bulk::compress(content, 3).unwrap()
    }

    #[test]
    fn zstd_entries_extract_to_their_content() {
        let content = semi_compressible(500_000, 5);
        let entry = zstd_entry("dir/z.txt", compress(&content), &content);
        let scene = Scene::new(&build(&[entry, Raw::deflated("d.txt", b"deflate")]));
        scene.unzip(&Unzipper::new()).unwrap();
        assert_eq!(
            std::fs::read(scene.dest.join("dir/z.txt")).unwrap(),
            content
        );
    }

    #[test]
    fn a_zstd_entry_that_decompresses_past_its_declared_size_is_stopped() {
        let content = vec![7u8; 100_000];
        let mut entry = zstd_entry("z", compress(&content), &content);
        entry.size = 10;
        entry.local_size = Some(10);
        assert_matches!(
            reject(&build(&[entry])),
            E::ExceedsDeclaredSize { declared: 10, .. }
        );
    }

    #[test]
    fn corrupt_or_cut_zstd_data_is_rejected() {
        let content = b"some zstd content ".repeat(100);
        let mut data = compress(&content);
        data.truncate(data.len() - 3);
        let cut = zstd_entry("cut", data, &content);
        assert_matches!(reject(&build(&[cut])), E::CorruptData { .. });
        let garbage = zstd_entry("garbage", vec![0xAB; 64], &content);
        assert_matches!(reject(&build(&[garbage])), E::CorruptData { .. });
    }

    #[test]
    fn a_frame_asking_for_a_huge_window_is_refused_before_allocating_it() {
        // Magic, header descriptor 0 (no content size), window descriptor 0xA0
        // (window log 30: 1 GiB), then one last raw block of one byte.
        let frame = |window: u8| vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, window, 0x09, 0x00, 0x00, b'x'];
        let entry = zstd_entry("huge-window", frame(0xA0), b"x");
        assert_matches!(reject(&build(&[entry])), E::CorruptData { ref source, .. }
            if source.to_string().contains("memory"));
        // The same frame with a 1 MiB window (log 20) is fine.
        let scene = Scene::new(&build(&[zstd_entry("small-window", frame(0x50), b"x")]));
        scene.unzip(&Unzipper::new()).unwrap();
        assert_eq!(
            std::fs::read(scene.dest.join("small-window")).unwrap(),
            b"x"
        );
    }
}
