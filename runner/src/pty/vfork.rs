//! Starting a child that shares our memory until it execs (Linux).
//!
//! `clone(CLONE_VM | CLONE_VFORK)` suspends the calling thread until the
//! child has exec'd or exited, so the child may use memory the parent
//! prepared, and the parent learns of a failed exec through that memory
//! instead of a pipe. The rules for the child body are those of a vfork
//! child: raw async-signal-safe syscalls only, no allocation, no locks, no
//! panics, and never return without exec (a failure returns an errno, and
//! this module `_exit`s).

use std::ffi::c_void;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

/// The child's own stack. Its body is a handful of syscalls and `execve`.
const STACK: usize = 64 * 1024;

struct Payload<'a, F> {
    body: &'a mut F,
    failed: &'a AtomicI32,
}

extern "C" fn entry<F: FnMut() -> libc::c_int>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the Payload that `run` keeps alive until the child
    // has exec'd or exited (CLONE_VFORK).
    let payload = unsafe { &mut *arg.cast::<Payload<'_, F>>() };
    let errno = (payload.body)();
    payload.failed.store(errno.max(1), Ordering::Relaxed);
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(127) }
}

/// Starts a child running `body`, which must end in a successful exec or
/// return the errno of what failed. Returns the child's pid once it has
/// exec'd; an error (the child already reaped) if `body` failed.
///
/// # Safety contract for `body`
/// It runs in the child, on a separate stack, sharing this process's memory
/// while the calling thread is suspended: only async-signal-safe calls.
pub(crate) fn run<F: FnMut() -> libc::c_int>(mut body: F) -> io::Result<libc::pid_t> {
    // Never read before the child writes it, so not zeroed: zeroing 64 KiB
    // faulted in 16 pages per session, where the child uses one or two.
    let mut stack: Vec<u8> = Vec::with_capacity(STACK);
    let failed = AtomicI32::new(0);
    let mut payload = Payload {
        body: &mut body,
        failed: &failed,
    };
    // Stacks grow down on every Linux target we build for; keep 16-byte
    // alignment for the ABI.
    let top = (stack.as_mut_ptr() as usize + stack.capacity()) & !15;
    let blocked = BlockAll::engage();
    // SAFETY: the stack and payload outlive the child's use of them (the
    // call returns only after the child exec'd or exited); SIGCHLD makes it
    // an ordinary child for waitpid.
    let pid = unsafe {
        libc::clone(
            entry::<F>,
            top as *mut c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&mut payload as *mut Payload<'_, F>).cast(),
        )
    };
    let clone_error = io::Error::last_os_error();
    drop(blocked);
    if pid < 0 {
        return Err(clone_error);
    }
    match failed.load(Ordering::Relaxed) {
        0 => Ok(pid),
        errno => {
            let mut status = 0;
            // SAFETY: reaping our own child, which has already _exit'ed.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
            Err(io::Error::from_raw_os_error(errno))
        }
    }
}

/// Every signal blocked on this thread for as long as it lives: no handler
/// of ours may run in the child, which shares our memory, before the child
/// has reset dispositions and set its own mask.
struct BlockAll {
    saved: libc::sigset_t,
}

impl BlockAll {
    fn engage() -> BlockAll {
        // SAFETY: sigset_t is plain data; the calls fill and apply it.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut saved: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
            BlockAll { saved }
        }
    }
}

impl Drop for BlockAll {
    fn drop(&mut self) {
        // SAFETY: restoring the mask pthread_sigmask gave us.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.saved, std::ptr::null_mut()) };
    }
}
