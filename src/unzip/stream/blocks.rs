//! The blocks a download stream is read into, and the bound on how many exist.
//!
//! The reading thread fills a [`Block`] from the stream and hands slices of it to the
//! threads that write entries; a block goes back to its [`Pool`] when the last slice
//! of it is dropped. The pool holds [`BLOCKS`] blocks of [`BLOCK_LEN`] bytes, created
//! when first needed: that is all the memory the bytes in flight ever take, whatever
//! the archive declares or however slow the writers are. When every block is in use,
//! the reading thread waits for one ([`Pool::take`]); see `stream/mod.rs` for why a
//! block always comes back.

use std::cell::Cell;
use std::ops::Deref;
use std::sync::Arc;

use crate::sync::stream::{Receiver, Sender, bounded};

/// Bytes per block: the reading thread fills a block whole before the walk sees its
/// bytes (`input.rs`), so this is also how far behind the stream the walk may be,
/// and a writer's chunk is at most this long. 64 KiB: 2.6 ms at 25 MB/s.
#[cfg(not(shuttle))]
pub(crate) const BLOCK_LEN: usize = 64 << 10;
/// Blocks per extraction: 16 MiB in flight at most.
#[cfg(not(shuttle))]
pub(crate) const BLOCKS: usize = 256;
/// In the shuttle model (`shuttle-tests/tests/stream.rs`): blocks so small and so few
/// that an archive of a few KiB crosses many of them and the reading thread waits
/// for the writers to free one.
#[cfg(shuttle)]
pub(crate) const BLOCK_LEN: usize = 256;
/// In the shuttle model: 1 KiB in flight at most.
#[cfg(shuttle)]
pub(crate) const BLOCKS: usize = 4;

/// Where blocks come from and go back to.
pub(crate) struct Pool {
    /// Buffers given back, taken again before a new one is made.
    free: Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    /// Buffers made so far, at most [`BLOCKS`]. Only the reading thread takes blocks
    /// (the pool is not `Sync`), so a `Cell` counts them.
    made: Cell<usize>,
    /// Told `true` before [`take`](Self::take) waits for a block, and `false` once it
    /// has one: the writers stop leaving cores to large entries meanwhile
    /// (`writers.rs`), so the stream is not held up for them.
    waits: Box<dyn Fn(bool)>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("free", &self.free.len())
            .field("made", &self.made.get())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of [`BLOCKS`] blocks, none allocated yet.
    pub(crate) fn new() -> Pool {
        let (home, free) = bounded(BLOCKS);
        Pool {
            free,
            home,
            made: Cell::new(0),
            waits: Box::new(|_| {}),
        }
    }

    /// A pool that tells `waits` when [`take`](Self::take) starts and stops waiting.
    pub(crate) fn telling(waits: impl Fn(bool) + 'static) -> Pool {
        Pool {
            waits: Box::new(waits),
            ..Pool::new()
        }
    }

    /// An empty block: one given back if there is one, else a new one while fewer
    /// than [`BLOCKS`] exist, else the next one given back, waiting for it.
    ///
    /// Given back first, so a stream whose writers keep up runs on the few blocks in
    /// flight instead of making all [`BLOCKS`] (16 MiB) one by one: each new buffer is
    /// memory the kernel faults in and zeroes on first touch. Measured on `large` of
    /// `benches/stream.rs` at 400 MB/s: 990 page faults per extraction before, 593
    /// after.
    pub(crate) fn take(&self) -> Block {
        // The pool holds a sender itself, so the channel never disconnects.
        let data = match self.free.try_recv() {
            Ok(buffer) => buffer,
            Err(_) if self.made.get() < BLOCKS => {
                self.made.set(self.made.get() + 1);
                // Zeroed once, when the buffer is made: a `read` needs initialized
                // bytes, and zeroing the block before each one would cost a stream
                // read a few bytes at a time a block's worth of writes per read.
                vec![0; BLOCK_LEN]
            }
            Err(_) => {
                crate::sync::stream::reached("the reading thread waits for a block");
                (self.waits)(true);
                let buffer = self.free.recv();
                (self.waits)(false);
                // Cannot fail: the pool holds a sender.
                buffer.unwrap_or_else(|_| vec![0; BLOCK_LEN])
            }
        };
        Block {
            data,
            len: 0,
            home: self.home.clone(),
        }
    }
}

/// A buffer of the pool; it goes back to the pool when dropped.
#[derive(Debug)]
pub(crate) struct Block {
    /// [`BLOCK_LEN`] bytes, initialized; the first `len` are the block's.
    data: Vec<u8>,
    len: usize,
    home: Sender<Vec<u8>>,
}

impl Block {
    /// Fills the block with one call of `read`, given all of its room; its result
    /// is how many bytes it wrote (clamped to the room).
    pub(crate) fn fill<E>(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        let got = read(&mut self.data[self.len..])?.min(BLOCK_LEN - self.len);
        self.len += got;
        Ok(got)
    }

    /// Appends as much of `bytes` as there is room for; returns how many.
    pub(crate) fn extend(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(BLOCK_LEN - self.len);
        self.data[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    /// Whether there is no room left.
    pub(crate) fn is_full(&self) -> bool {
        self.len == BLOCK_LEN
    }

    /// The bytes in it.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // The pool's own sender keeps the channel open, and it never holds more than
        // the blocks it made, so this cannot fail; if the pool is gone, the buffer
        // is simply freed.
        let _ = self.home.try_send(std::mem::take(&mut self.data));
    }
}

/// A range of a shared block: what a writer gets.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    block: Arc<Block>,
    start: usize,
    end: usize,
}

impl Slice {
    /// `block[start..end]`.
    pub(crate) fn new(block: &Arc<Block>, start: usize, end: usize) -> Slice {
        debug_assert!(start <= end && end <= block.bytes().len());
        Slice {
            block: Arc::clone(block),
            start,
            end,
        }
    }
}

impl Deref for Slice {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.block.bytes()[self.start..self.end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool says when it waits for a block, and only then: a block free at once
    /// tells nobody, and a wait is announced before it starts and ended after.
    #[test]
    fn a_pool_tells_when_it_waits_for_a_block_and_when_it_has_one() {
        let told = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let pool = Pool::telling({
            let told = Arc::clone(&told);
            move |waits| told.lock().push(waits)
        });
        let mut held: Vec<Block> = (0..BLOCKS).map(|_| pool.take()).collect();
        assert!(told.lock().is_empty(), "no wait while blocks are free");
        let (out, back) = bounded::<()>(0);
        let last = held.pop().unwrap();
        let giver = std::thread::spawn(move || {
            // Gives the block back once the pool has said it waits.
            let _ = back.recv();
            drop(last);
        });
        let watcher = {
            let told = Arc::clone(&told);
            std::thread::spawn(move || {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while told.lock().is_empty() {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the pool never said it waits"
                    );
                    std::thread::yield_now();
                }
                out.send(()).unwrap();
            })
        };
        let block = pool.take();
        giver.join().unwrap();
        watcher.join().unwrap();
        assert_eq!(*told.lock(), [true, false]);
        drop((block, held));
    }

    #[test]
    fn a_block_given_back_is_taken_again_before_a_new_one_is_made() {
        let pool = Pool::new();
        let first = pool.take();
        let buffer = first.data.as_ptr();
        drop(first);
        let again = pool.take();
        assert_eq!(again.data.as_ptr(), buffer, "the same buffer");
        assert_eq!(pool.made.get(), 1, "and no new one");
        let second = pool.take();
        assert_eq!(pool.made.get(), 2, "a new one while the first is out");
        drop((again, second));
        let held: Vec<Block> = (0..BLOCKS).map(|_| pool.take()).collect();
        assert_eq!(pool.made.get(), BLOCKS, "never more than BLOCKS");
        drop(held);
    }

    #[test]
    fn a_block_goes_back_to_the_pool_when_its_last_slice_is_dropped() {
        let pool = Pool::new();
        let mut held: Vec<Block> = (0..BLOCKS).map(|_| pool.take()).collect();
        assert!(pool.free.is_empty(), "every block is out");
        let mut block = held.pop().unwrap();
        assert_eq!(block.extend(b"hello"), 5);
        let shared = Arc::new(block);
        let slice = Slice::new(&shared, 1, 4);
        drop(shared);
        assert_eq!(&*slice, b"ell");
        assert!(pool.free.is_empty(), "a slice still holds the block");
        drop(slice);
        let again = pool.take();
        assert!(again.bytes().is_empty(), "a block comes back empty");
        assert_eq!(
            again.data.len(),
            BLOCK_LEN,
            "with its buffer, still initialized"
        );
    }
}
