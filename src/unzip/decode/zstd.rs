//! Zstandard entries (method 93, with the `zstd` feature).

use std::io;

use zstd::stream::raw::{DParameter, Decoder, Operation};

use super::stream::{Decode, Step};

/// Largest Zstandard window accepted, as a power of two: 32 MiB. A frame header
/// chooses the window the decoder allocates, so it is a size the archive declares;
/// the library's default cap (128 MiB) per worker is more than a package archive
/// needs. Frames that want more are reported as corrupt.
const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// This thread's zstd decoder, ready for a new entry.
pub(crate) struct Zstd<'a> {
    decoder: &'a mut Decoder<'static>,
}

impl<'a> Zstd<'a> {
    /// Resets the thread's decoder, creating it on the first zstd entry.
    pub(crate) fn new(slot: &'a mut Option<Decoder<'static>>) -> Result<Self, String> {
        let broken = |e: io::Error| e.to_string();
        let decoder = match slot {
            Some(decoder) => {
                decoder.reinit().map_err(broken)?;
                decoder
            }
            None => {
                let mut decoder = Decoder::new().map_err(broken)?;
                decoder
                    .set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))
                    .map_err(broken)?;
                slot.insert(decoder)
            }
        };
        Ok(Zstd { decoder })
    }
}

impl Decode for Zstd<'_> {
    fn truncated(&self) -> &'static str {
        "the zstd stream ends inside a frame"
    }

    fn step(&mut self, input: &[u8], output: &mut [u8], last: bool) -> Result<Step, String> {
        let status = self
            .decoder
            .run_on_buffers(input, output)
            .map_err(|e| e.to_string())?;
        // A hint of 0 means a frame just ended and its output is fully flushed. The
        // entry may hold several frames: it ends at a frame's end with no input left.
        let ended = status.remaining == 0 && last && status.bytes_read == input.len();
        Ok(Step {
            consumed: status.bytes_read,
            produced: status.bytes_written,
            ended,
        })
    }
}
