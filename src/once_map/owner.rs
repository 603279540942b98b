//! Who runs a job: a per-thread token that outlives its thread.
//!
//! Each thread that starts a job gets one [`OwnerThread`], created on first use and
//! kept in a thread-local; every flight the thread owns holds an `Arc` to it. When the
//! thread exits, its thread-local is destroyed and marks the token `exited`, so
//! [`OnceMap::in_flight`](super::OnceMap::in_flight) can tell a job whose owner is
//! still running from one whose owner is gone without settling it (its guard was
//! leaked with `mem::forget`).
//!
//! Cost: starting a job reads the thread-local and increments the token's reference
//! count (uncontended: only this thread clones it); settling decrements it. Nothing
//! on the hit path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sync::thread::{self, Thread, ThreadId};
use crate::sync::thread_local;

/// The thread that owns a job, as the map remembers it.
#[derive(Debug)]
pub(super) struct OwnerThread {
    thread: Thread,
    /// Set when the thread's thread-locals are destroyed (it is exiting). Only a
    /// diagnostic: no decision of the map depends on it, so a plain flag (`Relaxed`)
    /// is enough. A std atomic even under loom, because loom destroys thread-locals
    /// outside its execution, where loom's atomics cannot be used.
    exited: AtomicBool,
}

impl OwnerThread {
    pub(super) fn id(&self) -> ThreadId {
        self.thread.id()
    }

    pub(super) fn name(&self) -> Option<&str> {
        self.thread.name()
    }

    /// Whether the thread is known to have exited.
    pub(super) fn exited(&self) -> bool {
        self.exited.load(Ordering::Relaxed)
    }
}

/// The thread-local's value: marks the token `exited` when the thread goes away.
struct Token(Arc<OwnerThread>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.exited.store(true, Ordering::Relaxed);
    }
}

thread_local! {
    static CURRENT: Token = Token(Arc::new(OwnerThread {
        thread: thread::current(),
        exited: AtomicBool::new(false),
    }));
}

/// The calling thread's id, read from its token (no reference count is touched).
pub(super) fn current_id() -> ThreadId {
    CURRENT
        .try_with(|token| token.0.id())
        .unwrap_or_else(|_| thread::current().id())
}

/// The calling thread's token. A thread that starts a job while its thread-locals are
/// being destroyed gets a fresh token that never reports `exited` (unknown).
pub(super) fn current() -> Arc<OwnerThread> {
    CURRENT
        .try_with(|token| Arc::clone(&token.0))
        .unwrap_or_else(|_| {
            Arc::new(OwnerThread {
                thread: thread::current(),
                exited: AtomicBool::new(false),
            })
        })
}
