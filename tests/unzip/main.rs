//! Integration tests of the `Unzipper`: one binary, one module per concern.

#[path = "../common/mod.rs"]
mod common;
mod forge;
mod python;
mod readers;
mod support;

mod atomicity;
mod counting;
mod decoding;
mod descriptors;
mod directories;
mod end_record;
mod extra_fields;
mod fs_limits;
mod hidden_bytes;
mod malicious;
mod members;
mod modes;
mod platform_names;
mod property;
mod round_trip;
mod second_names;
mod streaming;
mod types;
mod writers;
mod zstd;
