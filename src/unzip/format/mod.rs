//! The zip format, apart from the policy: each record owns its signature and its
//! layout, and parses from a byte slice (or from positional reads of the archive,
//! for the records whose length the format does not fix).
//!
//! - [`end`]: the end record, the zip64 end record and its locator, and the
//!   central directory's extent; the one layout every reader agrees on.
//! - [`central`]: central directory records, walked in bounded chunks.
//! - [`local_header`]: local file headers.
//! - [`descriptor`]: data descriptors, signed or not, narrow or zip64.
//! - [`extra`]: extra fields, and the table of those some reader acts on.
//!
//! The policy consumes these records, never the file: the plan
//! ([`plan`](super::plan)) and the placement of each entry
//! ([`placement`](super::placement)) for the seekable path, and the walk of a
//! stream ([`stream`](super::stream)), whose local headers and descriptors parse
//! from the same functions and whose check at the end runs the same plan over the
//! central directory it kept.

pub(crate) mod bytes;
pub(crate) mod central;
pub(crate) mod descriptor;
pub(crate) mod end;
pub(crate) mod extra;
pub(crate) mod local_header;
