//! The archives of benches/unzip.rs (its generator, `benches/shapes/`), written to
//! /dev/shm.

#[path = "../../../shapes/mod.rs"]
mod shapes;

use std::path::Path;

fn main() {
    for s in ["small", "large", "mixed"] {
        shapes::make_archive(Path::new(&format!("/dev/shm/inflight-shape-{s}.zip")), s);
    }
}
