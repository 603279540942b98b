//! An entry decoded on one thread and written by another: for a large entry of a
//! stream, decoded alone on a thread of its own, whose `write`s (page allocation and
//! copying; a third of the time of a 16 MiB file on tmpfs here) would otherwise wait
//! for its decoding and hold up its end.
//!
//! Full output buffers go over by a swap, not a copy: the decoding thread gives the
//! writing one its full buffer and takes an empty one back, from [`SPARES`] that
//! circulate between the two. The writing thread writes buffers in the order they
//! come, so the file is exactly what the decoding thread produced, and the checks
//! (cap, size, CRC-32, end of stream) stay on the decoding thread, in the driver.

use std::io::{self, Write};

use crate::sync::stream::{Receiver, Sender, bounded};

/// Empty buffers handed back and forth besides the one being filled: enough for the
/// writing thread to have one in hand and one waiting while the decoding thread
/// fills a third, so neither waits for the other while both keep up.
const SPARES: usize = 2;

/// The decoding thread's end of a relay.
pub(super) struct Relay {
    /// Full buffers, and how many of their bytes are the file's.
    full: Sender<(Vec<u8>, usize)>,
    empty: Receiver<Vec<u8>>,
}

/// The writing thread has stopped: its own error (or panic) says why.
pub(super) struct Gone;

impl Relay {
    /// Hands the full `buffer` over and puts an empty one of the same length in its
    /// place.
    pub(super) fn hand(&mut self, buffer: &mut Vec<u8>) -> Result<(), Gone> {
        let mut spare = self.empty.recv().map_err(|_| Gone)?;
        debug_assert_eq!(spare.len(), buffer.len());
        std::mem::swap(buffer, &mut spare);
        let len = spare.len();
        self.full.send((spare, len)).map_err(|_| Gone)
    }

    /// Hands a copy of `bytes` over (the last, partly filled, output of an entry).
    pub(super) fn hand_copy(&mut self, mut bytes: &[u8]) -> Result<(), Gone> {
        while !bytes.is_empty() {
            let mut spare = self.empty.recv().map_err(|_| Gone)?;
            let n = bytes.len().min(spare.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.full.send((spare, n)).map_err(|_| Gone)?;
        }
        Ok(())
    }
}

/// The writing thread's end: what it writes the buffers it is handed with.
pub(super) struct Writing {
    full: Receiver<(Vec<u8>, usize)>,
    empty: Sender<Vec<u8>>,
}

impl Writing {
    /// Writes every buffer handed over into `file`, in order, until the decoding
    /// thread drops its end; stops at the first error.
    pub(super) fn run(self, file: &mut (dyn Write + Send)) -> io::Result<()> {
        for (buffer, len) in self.full {
            file.write_all(&buffer[..len])?;
            // The decoding thread may be gone (it failed): nothing waits for this one.
            let _ = self.empty.send(buffer);
        }
        Ok(())
    }
}

/// Both ends of a relay of buffers of `len` bytes.
pub(super) fn relay(len: usize) -> (Relay, Writing) {
    let (full_tx, full_rx) = bounded(SPARES);
    let (empty_tx, empty_rx) = bounded(SPARES);
    for _ in 0..SPARES {
        // Cannot fail: the channel has room for every spare, and both ends are here.
        let _ = empty_tx.send(vec![0u8; len]);
    }
    (
        Relay {
            full: full_tx,
            empty: empty_rx,
        },
        Writing {
            full: full_rx,
            empty: empty_tx,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Swapped and copied buffers come out in the order they went in, each with its
    /// own length: the file is the decoded bytes, whatever the hand-offs.
    #[test]
    fn a_relay_writes_what_it_was_handed_in_order() {
        let (mut relay, writing) = relay(4);
        let written = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                let mut file = Vec::new();
                writing.run(&mut file).map(|()| file)
            });
            for round in 0u8..10 {
                let mut buffer = vec![round; 4];
                assert!(relay.hand(&mut buffer).is_ok());
                assert_eq!(buffer.len(), 4, "an empty buffer of the same length back");
            }
            assert!(relay.hand_copy(&[7, 8, 9, 10, 11, 12]).is_ok());
            drop(relay);
            writer.join().unwrap().unwrap()
        });
        let mut expected: Vec<u8> = (0u8..10).flat_map(|r| [r; 4]).collect();
        expected.extend_from_slice(&[7, 8, 9, 10, 11, 12]);
        assert_eq!(written, expected);
    }

    /// A writing thread that fails leaves the decoding thread an error at its next
    /// hand-off, never a wait.
    #[test]
    fn a_failed_writer_is_gone_for_the_decoding_thread() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (mut relay, writing) = relay(4);
        let error = std::thread::scope(|scope| {
            let writer = scope.spawn(move || writing.run(&mut Full));
            let mut gone = false;
            for _ in 0..(SPARES + 3) {
                if relay.hand(&mut vec![1; 4]).is_err() {
                    gone = true;
                    break;
                }
            }
            assert!(gone, "the decoding thread learns that the writer stopped");
            writer.join().unwrap().unwrap_err()
        });
        assert_eq!(error.to_string(), "disk full");
    }
}
