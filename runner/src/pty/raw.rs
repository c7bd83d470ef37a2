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
use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard, Once};

const STDIN: RawFd = libc::STDIN_FILENO;

/// The termios to restore and how many sessions currently hold raw mode.
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
    // SAFETY: isatty has no preconditions.
    unsafe { libc::isatty(STDIN) == 1 }
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
                let original = get(STDIN)?;
                let mut raw = original;
                // SAFETY: cfmakeraw edits the struct we own.
                unsafe { libc::cfmakeraw(&mut raw) };
                set(STDIN, &raw)?;
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
                let _ = set(STDIN, &e.original);
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
        let _ = set(STDIN, &e.original);
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_from_hook();
        previous(info);
    }));
}

fn get(fd: RawFd) -> io::Result<libc::termios> {
    // SAFETY: an all-zero termios is valid storage; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is valid termios storage for tcgetattr to fill.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(t)
}

fn set(fd: RawFd, t: &libc::termios) -> io::Result<()> {
    loop {
        // SAFETY: tcsetattr reads one termios.
        if unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, t) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Clears output post-processing on a pty slave so captured output is the
/// child's exact bytes (no `\n` -> `\r\n`).
pub(crate) fn disable_output_processing(fd: RawFd) -> io::Result<()> {
    let mut t = get(fd)?;
    t.c_oflag &= !libc::OPOST;
    set(fd, &t)
}
