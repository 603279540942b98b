//! Streaming extraction: an archive read once, front to back, from any `Read`.
#![allow(dead_code)]

mod blocks;
mod input;
mod writers;
