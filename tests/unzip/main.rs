//! Integration tests of the `Unzipper`: one binary, one module per concern.

mod support;

mod malicious;
