//! Raw mode on our stdin for the length of a session, with the original
//! termios restored on every way out.
//!
//! Guarantees:
//! - The termios saved is the one in force before the first concurrent
//!   Terminal session engaged raw mode; the last session to finish restores
//!   it byte for byte (`TCSADRAIN`), so overlapping sessions never "restore"
//!   each other's raw state.
//! - A panic anywhere in the process while raw mode is engaged restores the
//!   terminal from the panic hook (installed once, chaining the previous
//!   hook), so even `panic = "abort"` leaves the terminal usable; unwinding
//!   through [`RawGuard`] restores it again (idempotent).
//! - Termination signals are handled by the session (see `signals`): it
//!   returns normally, and the guard restores on the way out.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::{Mutex, MutexGuard, Once};

use nix::sys::termios::{self, SetArg, Termios};

use super::fd::stdin;

/// The termios to restore (as the kernel gave it, so it goes back byte for
/// byte) and how many sessions currently hold raw mode.
struct Engaged {
    original: libc::termios,
    holders: usize,
}

static ENGAGED: Mutex<Option<Engaged>> = Mutex::new(None);
static PANIC_HOOK: Once = Once::new();

fn engaged() -> MutexGuard<'static, Option<Engaged>> {
    ENGAGED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Holds our stdin in raw mode while alive. Dropping it restores the original
/// termios once no other session holds raw mode.
#[derive(Debug)]
pub(crate) struct RawGuard {
    _private: (),
}

/// Whether our stdin is a terminal.
pub(crate) fn stdin_is_tty() -> bool {
    nix::unistd::isatty(libc::STDIN_FILENO).unwrap_or(false)
}

impl RawGuard {
    /// Puts stdin in raw mode. `Ok(None)` when stdin is not a terminal.
    pub(crate) fn engage() -> io::Result<Option<RawGuard>> {
        if !stdin_is_tty() {
            return Ok(None);
        }
        PANIC_HOOK.call_once(install_panic_hook);
        let mut state = engaged();
        match state.as_mut() {
            Some(e) => e.holders += 1,
            None => {
                let original = get(stdin())?;
                let mut raw = Termios::from(original);
                termios::cfmakeraw(&mut raw);
                set(stdin(), &libc::termios::from(raw))?;
                *state = Some(Engaged {
                    original,
                    holders: 1,
                });
            }
        }
        Ok(Some(RawGuard { _private: () }))
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        let mut state = engaged();
        if let Some(e) = state.as_mut() {
            e.holders -= 1;
            if e.holders == 0 {
                // Nothing to do on failure: the terminal may be gone (hangup).
                let _ = set(stdin(), &e.original);
                *state = None;
            }
        }
    }
}

/// Restores the saved termios if raw mode is engaged. Never blocks: a panic
/// while the lock is held elsewhere skips the restore rather than deadlock
/// (the guard's drop will still run on unwinding).
fn restore_from_hook() {
    let state = match ENGAGED.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    if let Some(e) = state.as_ref() {
        let _ = set(stdin(), &e.original);
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_from_hook();
        previous(info);
    }));
}

fn get(fd: BorrowedFd<'_>) -> io::Result<libc::termios> {
    Ok(termios::tcgetattr(fd)?.into())
}

fn set(fd: BorrowedFd<'_>, t: &libc::termios) -> io::Result<()> {
    let t = Termios::from(*t);
    loop {
        match termios::tcsetattr(fd, SetArg::TCSADRAIN, &t) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return Ok(r?),
        }
    }
}

/// Clears output post-processing on a pty slave so captured output is the
/// child's exact bytes (no `\n` -> `\r\n`).
pub(crate) fn disable_output_processing(fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut t = get(fd)?;
    t.c_oflag &= !libc::OPOST;
    set(fd, &t)
}
