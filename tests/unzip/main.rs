//! Integration tests of the `Unzipper`: one binary, one module per concern.

#[path = "../common/mod.rs"]
mod common;
mod forge;
mod python;
mod support;

mod atomicity;
mod decoding;
mod descriptors;
mod directories;
mod end_record;
mod fs_limits;
mod hidden_bytes;
mod malicious;
mod modes;
mod platform_names;
mod round_trip;
mod writers;
mod zstd;
