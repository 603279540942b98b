//! Integration tests of the `Unzipper`: one binary, one module per concern.

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
mod round_trip;
mod writers;
mod zstd;
