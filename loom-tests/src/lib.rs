//! Loom models of `inflight::OnceMap`. The models are in `tests/`, one per file, so
//! that a model that deadlocks (loom aborts the whole binary) does not hide the others.
//! Run them with `cd loom-tests && cargo test --release`.

#[cfg(not(loom))]
compile_error!(
    "the loom models need `--cfg loom`: run `cargo test --release` from inside loom-tests/ (and do not set RUSTFLAGS, which replaces .cargo/config.toml's flags)"
);
