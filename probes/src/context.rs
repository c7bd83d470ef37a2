//! Shared state between a probe body (on its worker thread) and the
//! supervising thread that enforces the deadline: the current step, and the
//! cleanups to run if the body is abandoned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type CleanupFn = Box<dyn FnOnce() + Send>;

struct Inner {
    step: Mutex<&'static str>,
    cleanups: Mutex<Vec<(u64, CleanupFn)>>,
    next_id: AtomicU64,
    deadline: Instant,
}

/// Handle a probe body uses to report progress and register cleanups.
#[derive(Clone)]
pub struct Ctx {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking probe must not stop cleanups from running.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ctx {
    /// A context whose body must finish within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Ctx {
            inner: Arc::new(Inner {
                step: Mutex::new("start"),
                cleanups: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(0),
                deadline: Instant::now() + timeout,
            }),
        }
    }

    /// Record that the body is now at `step` (named in a timeout report).
    pub fn step(&self, step: &'static str) {
        *lock(&self.inner.step) = step;
    }

    /// The step last recorded.
    pub fn current_step(&self) -> &'static str {
        *lock(&self.inner.step)
    }

    /// Time left before the deadline (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.inner
            .deadline
            .saturating_duration_since(Instant::now())
    }

    /// Register `f` to undo something the body created. It runs exactly once:
    /// when the returned guard drops (unless dismissed), or from
    /// [`Ctx::run_abandoned_cleanups`] if the body is abandoned first.
    pub fn cleanup(&self, f: impl FnOnce() + Send + 'static) -> CleanupGuard {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.cleanups).push((id, Box::new(f)));
        CleanupGuard {
            ctx: self.clone(),
            id,
        }
    }

    fn take(&self, id: u64) -> Option<CleanupFn> {
        let mut list = lock(&self.inner.cleanups);
        let at = list.iter().position(|(i, _)| *i == id)?;
        Some(list.remove(at).1)
    }

    /// Run every cleanup still registered (newest first). Used when the body
    /// timed out or panicked.
    pub fn run_abandoned_cleanups(&self) {
        let pending: Vec<_> = std::mem::take(&mut *lock(&self.inner.cleanups));
        for (_, f) in pending.into_iter().rev() {
            f();
        }
    }
}

/// Runs its cleanup on drop unless [`CleanupGuard::dismiss`]ed.
pub struct CleanupGuard {
    ctx: Ctx,
    id: u64,
}

impl CleanupGuard {
    /// The body undid the thing itself; forget the cleanup.
    pub fn dismiss(self) {
        // Dropping the taken closure unrun; Drop then finds nothing to do.
        drop(self.ctx.take(self.id));
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if let Some(f) = self.ctx.take(self.id) {
            f();
        }
    }
}
