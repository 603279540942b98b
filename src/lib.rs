//! inflight (skeleton)
#![forbid(unsafe_code)]

mod error;
