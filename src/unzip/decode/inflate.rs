//! Deflated entries (method 8), streamed through zlib-rs (flate2's `zlib-rs` backend).

use flate2::{Decompress, FlushDecompress, Status};

use super::stream::{Decode, Step};

/// A raw-deflate inflater, reset for the entry it decodes.
pub(crate) struct Inflate<'a> {
    inflater: &'a mut Decompress,
}

impl<'a> Inflate<'a> {
    /// Resets this thread's inflater for a new stream.
    pub(crate) fn new(inflater: &'a mut Decompress) -> Self {
        inflater.reset(false);
        Inflate { inflater }
    }
}

impl Decode for Inflate<'_> {
    fn truncated(&self) -> &'static str {
        "the deflate stream ends before its final block"
    }

    fn step(&mut self, input: &[u8], output: &mut [u8], _last: bool) -> Result<Step, String> {
        let (in_before, out_before) = (self.inflater.total_in(), self.inflater.total_out());
        let status = self
            .inflater
            .decompress(input, output, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        Ok(Step {
            consumed: (self.inflater.total_in() - in_before) as usize,
            produced: (self.inflater.total_out() - out_before) as usize,
            ended: status == Status::StreamEnd,
        })
    }
}
