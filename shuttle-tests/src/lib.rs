//! Shuttle models of `inflight::OnceMap` with 5 to 16 threads, past what loom can
//! finish, and of the file system protocols (`inflight::model`) over [`simfs`], a
//! simulated directory shared by processes that die. The models are in `tests/`; run
//! them with `cargo test --release` from this folder (see README.md).

#[cfg(not(shuttle))]
compile_error!(
    "the shuttle models need `--cfg shuttle`: run `cargo test --release` from inside shuttle-tests/ (and do not set RUSTFLAGS, which replaces .cargo/config.toml's flags)"
);

pub mod simfs;
