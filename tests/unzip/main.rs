//! Integration tests of the `Unzipper`: one binary, one module per concern.

mod support;

mod atomicity;
mod malicious;
mod modes;
mod round_trip;
mod zstd;
