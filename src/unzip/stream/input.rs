//! The reading side of a streaming extraction: the stream read into pool blocks, a
//! cursor over them that knows the offset of every byte, and what watches every
//! byte go by (the SHA-256, the copy of the archive).

use std::io::{self, Read};
use std::sync::Arc;

use crate::sync::stream::Sender;
use sha2::{Digest, Sha256};

use super::blocks::{Block, Pool, Slice};

/// Why the stream gave no more bytes where the archive needs some.
#[derive(Debug)]
pub(crate) enum InputError {
    /// Reading failed at this offset.
    Read { offset: u64, source: io::Error },
    /// The stream ended at this offset.
    Ended { offset: u64 },
}

/// Why a stream stopped at a block: the copy of the archive's bytes failed, and its
/// own error says why.
#[derive(Debug)]
pub(crate) struct CopyStopped;

impl std::fmt::Display for CopyStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the copy of the archive failed")
    }
}

impl std::error::Error for CopyStopped {}

impl CopyStopped {
    /// Whether `error` is a stream stopped for a failed copy.
    pub(crate) fn is(error: &crate::unzip::UnzipError) -> bool {
        matches!(
            error,
            crate::unzip::UnzipError::StreamRead { source, .. }
                if source.get_ref().is_some_and(|inner| inner.is::<CopyStopped>())
        )
    }
}

/// The stream and a cursor over it.
pub(crate) struct Input<'p, R> {
    reader: R,
    pool: &'p Pool,
    /// The block being consumed, and the position of the next byte in it.
    current: Option<Arc<Block>>,
    pos: usize,
    /// Stream offset of the next byte.
    offset: u64,
    ended: bool,
    /// A read that failed after some bytes of the current block had arrived: reported
    /// once those bytes are consumed, at the offset where it happened.
    failed: Option<io::Error>,
    /// The SHA-256 of every byte read, when asked for.
    hash: Option<Sha256>,
    /// Where every block goes too, when the archive's bytes are kept.
    copy: Option<Sender<Arc<Block>>>,
    /// The last [`RECENT`] bytes consumed, in a ring: the window the end record is
    /// looked for in, which may reach back into the last entries' data. A copy (a
    /// memcpy of each byte, about 5 ms per 50 MB): holding slices of the blocks
    /// instead would pin blocks of the pool until the stream ends.
    recent: Vec<u8>,
    /// Where the next byte goes in `recent`.
    recent_at: usize,
}

/// How many of the last bytes the input keeps: the end record and the longest comment
/// (22 + 65,535 bytes), the window every reader scans for the end record.
pub(crate) const RECENT: usize = 22 + 65_535;

/// The most bytes of one run of a stream's tail ([`Input::rest`]).
pub(crate) const REST_RUN: usize = 1 << 20;

impl<'p, R: Read> Input<'p, R> {
    /// A cursor over `reader`; every byte read goes to `copy` too, and is hashed with
    /// `hash`.
    pub(crate) fn new(
        reader: R,
        pool: &'p Pool,
        copy: Option<Sender<Arc<Block>>>,
        hash: bool,
    ) -> Self {
        Input {
            reader,
            pool,
            current: None,
            pos: 0,
            offset: 0,
            ended: false,
            failed: None,
            hash: hash.then(Sha256::new),
            copy,
            recent: Vec::new(),
            recent_at: 0,
        }
    }

    /// The offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The bytes read and not yet consumed, filling a new block if there are none;
    /// empty at the end of the stream.
    pub(crate) fn available(&mut self) -> Result<&[u8], InputError> {
        if self.unread().is_empty() && !self.ended {
            self.fill()?;
        }
        Ok(self.unread())
    }

    fn unread(&self) -> &[u8] {
        self.current
            .as_ref()
            .map_or(&[], |block| &block.bytes()[self.pos..])
    }

    /// Marks the first `n` available bytes consumed.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.unread().len());
        let Some(block) = self.current.clone() else {
            return;
        };
        self.remember(&block.bytes()[self.pos..self.pos + n]);
        self.pos += n;
        self.offset += n as u64;
    }

    /// Adds consumed bytes to the ring of the last [`RECENT`].
    fn remember(&mut self, mut bytes: &[u8]) {
        if bytes.len() >= RECENT {
            bytes = &bytes[bytes.len() - RECENT..];
        }
        if self.recent.len() < RECENT {
            let n = (RECENT - self.recent.len()).min(bytes.len());
            self.recent.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.recent_at = self.recent.len() % RECENT;
        }
        while !bytes.is_empty() {
            let n = (RECENT - self.recent_at).min(bytes.len());
            self.recent[self.recent_at..self.recent_at + n].copy_from_slice(&bytes[..n]);
            self.recent_at = (self.recent_at + n) % RECENT;
            bytes = &bytes[n..];
        }
    }

    /// The last bytes consumed (at most [`RECENT`]), in order, and the offset of the
    /// first of them.
    pub(crate) fn recent(&self) -> (u64, Vec<u8>) {
        let mut out = Vec::with_capacity(self.recent.len());
        if self.recent.len() < RECENT {
            out.extend_from_slice(&self.recent);
        } else {
            out.extend_from_slice(&self.recent[self.recent_at..]);
            out.extend_from_slice(&self.recent[..self.recent_at]);
        }
        (self.offset - out.len() as u64, out)
    }

    /// The next up to `max` bytes as a slice of their block (at most the rest of the
    /// current block), consumed; `None` at the end of the stream.
    pub(crate) fn take(&mut self, max: usize) -> Result<Option<Slice>, InputError> {
        let n = self.available()?.len().min(max);
        if n == 0 {
            return Ok(None);
        }
        let block = self.current.as_ref().expect("bytes are available");
        let slice = Slice::new(block, self.pos, self.pos + n);
        self.consume(n);
        Ok(Some(slice))
    }

    /// The next `n` bytes as a slice of their block, consumed, if they are all in the
    /// block at hand; `None` (nothing consumed, nothing read) otherwise.
    pub(crate) fn take_in_hand(&mut self, n: usize) -> Option<Slice> {
        if n == 0 || self.unread().len() < n {
            return None;
        }
        let block = self.current.as_ref()?;
        let slice = Slice::new(block, self.pos, self.pos + n);
        self.consume(n);
        Some(slice)
    }

    /// Fills `out` with the next bytes, across blocks.
    pub(crate) fn read_exact(&mut self, out: &mut [u8]) -> Result<(), InputError> {
        let mut done = 0;
        while done < out.len() {
            let available = self.available()?;
            if available.is_empty() {
                return Err(InputError::Ended {
                    offset: self.offset,
                });
            }
            let n = available.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&available[..n]);
            done += n;
            self.consume(n);
        }
        Ok(())
    }

    /// `prefix` (bytes the caller already read), then every byte to the end of the
    /// stream, at most `cap` of those (`Ok(None)` when there are more), in runs of at
    /// most [`REST_RUN`] bytes. Runs, not one buffer: a buffer grown as bytes come
    /// would hold its old and its new allocation at once each time it doubles, so a
    /// tail of `n` bytes would peak at up to `2n`; runs hold `n` and at most one
    /// run's spare room.
    pub(crate) fn rest(
        &mut self,
        prefix: &[u8],
        cap: usize,
    ) -> Result<Option<Vec<Vec<u8>>>, InputError> {
        let mut runs = vec![prefix.to_vec()];
        let mut len = 0usize;
        loop {
            let available = self.available()?;
            if available.is_empty() {
                runs.retain(|run| !run.is_empty());
                return Ok(Some(runs));
            }
            len += available.len();
            if len > cap {
                return Ok(None);
            }
            let mut bytes = available;
            while !bytes.is_empty() {
                if runs.last().is_none_or(|run| run.len() == REST_RUN) {
                    runs.push(Vec::new());
                }
                let Some(run) = runs.last_mut() else {
                    unreachable!("a run was just pushed if there was none")
                };
                let n = bytes.len().min(REST_RUN - run.len());
                if run.len() + n > run.capacity() {
                    // Doubling within a run, never past its size.
                    let target = (run.capacity() * 2).max(run.len() + n).min(REST_RUN);
                    run.reserve_exact(target - run.len());
                }
                run.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
            }
            let n = available.len();
            self.consume(n);
        }
    }

    /// The SHA-256 of every byte read from the stream (all of it, once it has ended),
    /// if it was asked for.
    pub(crate) fn sha256(&self) -> Option<[u8; 32]> {
        self.hash
            .as_ref()
            .map(|hash| hash.clone().finalize().into())
    }

    /// Reads a new block, to its end or the stream's.
    ///
    /// Whole blocks, however little each `read` returns (an HTTP body hands out a
    /// few KiB at a time): a block per read would hold the pool's memory bound while
    /// carrying a fraction of it, so the reading thread would run out of blocks with
    /// little of the stream in flight, and every entry would reach its writer in as
    /// many pieces as reads. The walk waits for a block at most as long as the
    /// stream takes to deliver one ([`BLOCK_LEN`](super::blocks::BLOCK_LEN)).
    fn fill(&mut self) -> Result<(), InputError> {
        // Drop our hold on the used-up block first, so it can go back to the pool.
        self.current = None;
        self.pos = 0;
        if let Some(source) = self.failed.take() {
            return Err(InputError::Read {
                offset: self.offset,
                source,
            });
        }
        let mut block = self.pool.take();
        let reader = &mut self.reader;
        while !block.is_full() {
            match block.fill(|room| reader.read(room)) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) if block.bytes().is_empty() => {
                    return Err(InputError::Read {
                        offset: self.offset,
                        source,
                    });
                }
                Err(source) => {
                    self.failed = Some(source);
                    break;
                }
            }
        }
        if block.bytes().is_empty() {
            return Ok(());
        }
        if let Some(hash) = &mut self.hash {
            hash.update(block.bytes());
        }
        let block = Arc::new(block);
        if let Some(copy) = &self.copy {
            // The copier gives up only when its own write failed (a full disk, say):
            // the archive is refused then, so reading on would download the rest for
            // nothing. The stream stops here; the copier's own error is the verdict
            // (`streaming.rs` puts it in place of this one).
            if copy.send(Arc::clone(&block)).is_err() {
                self.copy = None;
                return Err(InputError::Read {
                    offset: self.offset,
                    source: io::Error::other(CopyStopped),
                });
            }
        }
        self.current = Some(block);
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::unzip::stream::blocks::BLOCK_LEN;

    /// A reader that hands out its bytes a few at a time.
    pub(crate) struct Trickle<'a>(pub(crate) &'a [u8], pub(crate) usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_across_blocks_keep_offsets_and_hash_every_byte() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 7), &pool, None, true);
        let mut head = [0u8; 30];
        input.read_exact(&mut head).unwrap();
        assert_eq!(&head[..], &data[..30]);
        assert_eq!(input.offset(), 30);
        let slice = input.take(100).unwrap().unwrap();
        assert!(!slice.is_empty() && slice.len() <= 100);
        assert_eq!(&*slice, &data[30..30 + slice.len()]);
        let at = input.offset() as usize;
        let rest = input.rest(&[], 1 << 20).unwrap().unwrap();
        assert_eq!(rest.concat(), &data[at..]);
        assert!(matches!(
            input.read_exact(&mut head),
            Err(InputError::Ended { offset: 10_000 })
        ));
        assert_eq!(
            input.sha256(),
            Some(<[u8; 32]>::from(Sha256::digest(&data)))
        );
        let (at, recent) = input.recent();
        assert_eq!((at, &recent[..]), (0, &data[..]));
    }

    /// Bytes in hand are taken without reading; bytes that are not are left alone,
    /// with nothing read or consumed for them.
    #[test]
    fn only_bytes_in_the_block_at_hand_are_taken_in_hand() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3 * BLOCK_LEN).collect();
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 5_000), &pool, None, false);
        assert!(input.take_in_hand(1).is_none(), "nothing read yet");
        let mut head = [0u8; 30];
        input.read_exact(&mut head).unwrap();
        let in_hand = BLOCK_LEN - 30;
        assert!(input.take_in_hand(in_hand + 1).is_none(), "past the block");
        assert_eq!(input.offset(), 30, "and nothing consumed");
        let slice = input.take_in_hand(100).unwrap();
        assert_eq!(&*slice, &data[30..130]);
        assert_eq!(input.offset(), 130);
        let rest = input.take_in_hand(in_hand - 100).unwrap();
        assert_eq!(&*rest, &data[130..BLOCK_LEN]);
        assert!(input.take_in_hand(1).is_none(), "the block is used up");
        assert_eq!(input.offset(), BLOCK_LEN as u64);
        assert!(input.take_in_hand(0).is_none(), "nothing to take");
    }

    /// The tail of a stream can be most of the records' memory bound: it is held once,
    /// after the bytes already read, in runs that never hold more than their size.
    #[test]
    fn the_rest_follows_its_prefix_in_runs_that_hold_no_spare_room_but_the_last_s() {
        let data: Vec<u8> = (0..=255u8).cycle().take(REST_RUN * 5 / 2).collect();
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 4_099), &pool, None, false);
        let runs = input.rest(b"PK", data.len()).unwrap().unwrap();
        assert_eq!(runs.concat()[..2], *b"PK");
        assert_eq!(runs.concat()[2..], data[..]);
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|run| run.capacity() <= REST_RUN));
        assert_eq!(runs[0].len(), REST_RUN);
    }

    #[test]
    fn the_last_bytes_consumed_are_kept_in_order() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 3_001), &pool, None, false);
        input.rest(&[], 1 << 20).unwrap().unwrap();
        let (at, recent) = input.recent();
        assert_eq!(at as usize, data.len() - RECENT);
        assert_eq!(recent, &data[data.len() - RECENT..]);
    }

    #[test]
    fn the_rest_past_its_cap_is_refused() {
        let data = vec![1u8; 5000];
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 1000), &pool, None, false);
        assert!(input.rest(&[], 4999).unwrap().is_none());
    }

    /// Small reads still fill whole blocks: the pool's blocks carry its memory bound
    /// in bytes of the stream, and an entry reaches its writer in block-sized pieces.
    #[test]
    fn reads_of_a_few_bytes_fill_whole_blocks() {
        let data: Vec<u8> = (0..(5 * BLOCK_LEN / 2) as u32)
            .map(|i| (i % 253) as u8)
            .collect();
        let pool = Pool::new();
        let mut input = Input::new(Trickle(&data, 8 << 10), &pool, None, false);
        let first = input.take(usize::MAX).unwrap().unwrap();
        assert_eq!(first.len(), BLOCK_LEN);
        let second = input.take(usize::MAX).unwrap().unwrap();
        assert_eq!(second.len(), BLOCK_LEN);
        assert_eq!(&*second, &data[BLOCK_LEN..2 * BLOCK_LEN]);
        let last = input.take(usize::MAX).unwrap().unwrap();
        assert_eq!(last.len(), data.len() - 2 * BLOCK_LEN);
        assert!(input.take(1).unwrap().is_none());
    }

    /// A read that fails part-way through a block is reported once the bytes before
    /// it are consumed, at the offset where it failed: the walk sees every byte that
    /// arrived, as it would have with one read per block.
    #[test]
    fn a_read_failing_inside_a_block_is_reported_after_the_bytes_before_it() {
        struct FailsAt<'a>(&'a [u8], usize);
        impl Read for FailsAt<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.1 == 0 {
                    return Err(io::Error::other("the download broke"));
                }
                let n = buf.len().min(1000).min(self.1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                self.1 -= n;
                Ok(n)
            }
        }
        let data = vec![9u8; 10_000];
        let pool = Pool::new();
        let mut input = Input::new(FailsAt(&data, 4_500), &pool, None, false);
        let got = input.take(usize::MAX).unwrap().unwrap();
        assert_eq!(got.len(), 4_500);
        assert!(matches!(
            input.take(1),
            Err(InputError::Read { offset: 4_500, .. })
        ));
    }
}
