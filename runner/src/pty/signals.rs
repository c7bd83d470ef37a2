//! Process-wide signal plumbing shared by every session, with no thread.
//!
//! Each session that wants signals owns a pipe and registers its
//! non-blocking write end in a fixed table of slots. Our handler writes the
//! signal number into every registered pipe and returns; each session's own
//! loop reads its pipe and acts (a full pipe drops the byte, which loses
//! nothing: one byte wakes the loop, and a resize re-reads the current size).
//! - SIGWINCH: the handler is installed with the first session that asks
//!   and stays; each such session copies the outer size to its master.
//! - SIGINT, SIGTERM, SIGHUP: installed only while at least one session asks
//!   for them; the previous dispositions are put back (before the last
//!   slot is cleared, so a signal never finds neither a session nor the old
//!   disposition) when the last one leaves. A signal ignored when the first
//!   session asks stays ignored (`nohup` keeps meaning what it says).
//!
//! A slot's fd is never closed under a running handler: unregistering clears
//! the slot, then waits until no handler is between reading a slot and
//! writing to it.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The signals a session can ask to be told about.
pub(crate) const TERMINATION: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// How many sessions may be registered at once; more is an error, not a
/// silent loss of signals.
const SLOTS: usize = 256;

const WANTS_RESIZE: u8 = 1;
const WANTS_TERMINATION: u8 = 2;

static FDS: [AtomicI32; SLOTS] = [const { AtomicI32::new(-1) }; SLOTS];
static INTERESTS: [AtomicU8; SLOTS] = [const { AtomicU8::new(0) }; SLOTS];
/// Handlers currently between reading a slot and writing to its fd.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
static REGISTRY: Mutex<Registry> = Mutex::new(Registry::new());

struct Registry {
    termination_sessions: usize,
    winch_installed: bool,
    /// Dispositions in force before our termination handlers went in.
    saved: Vec<(libc::c_int, libc::sigaction)>,
}

impl Registry {
    const fn new() -> Registry {
        Registry {
            termination_sessions: 0,
            winch_installed: false,
            saved: Vec::new(),
        }
    }
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a session registers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// Outer terminal resizes (SIGWINCH).
    pub resize: bool,
    /// SIGINT, SIGTERM, SIGHUP.
    pub termination: bool,
}

/// A session's registration; dropping it unregisters. It must be dropped
/// before the pipe whose write end it registered is closed.
pub(crate) struct Registration {
    slot: Option<usize>,
    termination: bool,
}

/// Registers `pipe` (a non-blocking write end the session keeps open while
/// registered) to receive the signals of `sub`.
pub(crate) fn register(sub: Subscription, pipe: BorrowedFd<'_>) -> io::Result<Registration> {
    if !sub.resize && !sub.termination {
        return Ok(Registration {
            slot: None,
            termination: false,
        });
    }
    let mut reg = registry();
    let slot = (0..SLOTS)
        .find(|&i| FDS[i].load(Ordering::SeqCst) < 0)
        .ok_or_else(|| io::Error::other(format!("more than {SLOTS} sessions want signals")))?;
    let interest = if sub.resize { WANTS_RESIZE } else { 0 }
        | if sub.termination {
            WANTS_TERMINATION
        } else {
            0
        };
    INTERESTS[slot].store(interest, Ordering::SeqCst);
    FDS[slot].store(pipe.as_raw_fd(), Ordering::SeqCst);
    // Handlers go in after the slot is live, so the first signal they see
    // already has somewhere to go.
    if sub.resize && !reg.winch_installed {
        if let Err(e) = install(libc::SIGWINCH) {
            clear(slot);
            return Err(e);
        }
        reg.winch_installed = true;
    }
    if sub.termination {
        if reg.termination_sessions == 0 {
            let mut saved = Vec::new();
            for sig in TERMINATION.into_iter().filter(|&sig| !ignored(sig)) {
                match install(sig) {
                    Ok(old) => saved.push((sig, old)),
                    Err(e) => {
                        restore(&saved);
                        clear(slot);
                        return Err(e);
                    }
                }
            }
            reg.saved = saved;
        }
        reg.termination_sessions += 1;
    }
    Ok(Registration {
        slot: Some(slot),
        termination: sub.termination,
    })
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(slot) = self.slot else {
            return;
        };
        let mut reg = registry();
        if self.termination {
            reg.termination_sessions -= 1;
            if reg.termination_sessions == 0 {
                restore(&reg.saved);
            }
        }
        clear(slot);
    }
}

/// Empties `slot` and waits until no handler may still write to its fd.
fn clear(slot: usize) {
    FDS[slot].store(-1, Ordering::SeqCst);
    INTERESTS[slot].store(0, Ordering::SeqCst);
    while IN_HANDLER.load(Ordering::SeqCst) > 0 {
        std::hint::spin_loop();
    }
}

fn restore(saved: &[(libc::c_int, libc::sigaction)]) {
    for (sig, old) in saved {
        // SAFETY: putting back a disposition sigaction gave us.
        unsafe { libc::sigaction(*sig, old, std::ptr::null_mut()) };
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let saved_errno = nix::errno::Errno::last_raw();
    let wanted = if sig == libc::SIGWINCH {
        WANTS_RESIZE
    } else {
        WANTS_TERMINATION
    };
    IN_HANDLER.fetch_add(1, Ordering::SeqCst);
    for (fd, interest) in FDS.iter().zip(&INTERESTS) {
        let fd = fd.load(Ordering::SeqCst);
        if fd >= 0 && interest.load(Ordering::SeqCst) & wanted != 0 {
            let byte = sig as u8;
            // SAFETY: write(2) is async-signal-safe; the fd stays open until
            // IN_HANDLER drops (see `clear`).
            unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
        }
    }
    IN_HANDLER.fetch_sub(1, Ordering::SeqCst);
    nix::errno::Errno::set_raw(saved_errno);
}

/// Whether `sig` is ignored in this process.
fn ignored(sig: libc::c_int) -> bool {
    // SAFETY: querying a disposition into a zeroed struct.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Raises `sig` at its default disposition, unblocked: for a terminating
/// signal the process ends by it here, whatever handler was installed.
pub(crate) fn reraise(sig: libc::c_int) {
    // SAFETY: a zeroed sigaction with SIG_DFL and an empty mask is valid;
    // the mask change and raise apply to this thread.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut dfl.sa_mask);
        libc::sigaction(sig, &dfl, std::ptr::null_mut());
        let mut only: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut only);
        libc::sigaddset(&mut only, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
        libc::raise(sig);
    }
}

/// Installs our handler for `sig`, returning the previous disposition.
fn install(sig: libc::c_int) -> io::Result<libc::sigaction> {
    // SAFETY: zeroed sigaction is valid; we fill handler, mask and flags.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut act.sa_mask);
        act.sa_flags = libc::SA_RESTART;
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, &act, &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn handler_of(sig: libc::c_int) -> usize {
        // SAFETY: querying a disposition into a zeroed struct.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old);
            old.sa_sigaction
        }
    }

    /// One test for all of it: dispositions are process-wide state.
    #[test]
    fn a_registered_pipe_gets_its_signals_and_dispositions_come_back() {
        // Signals the caller ignored stay ignored (nohup); start from the
        // default so the test means the same under nohup and without.
        // SAFETY: setting a standard disposition; the old one is restored
        // below.
        let inherited = unsafe { libc::signal(libc::SIGHUP, libc::SIG_DFL) };
        let before = handler_of(libc::SIGHUP);
        let (read_end, write_end) = super::super::fd::cloexec_pipe().unwrap();
        super::super::fd::set_nonblocking(write_end.as_fd()).unwrap();
        let sub = Subscription {
            resize: false,
            termination: true,
        };
        let reg = register(sub, write_end.as_fd()).unwrap();
        assert_eq!(
            handler_of(libc::SIGHUP),
            on_signal as extern "C" fn(libc::c_int) as usize
        );
        // SAFETY: raising a signal our handler now catches.
        unsafe { libc::raise(libc::SIGHUP) };
        let mut buf = [0u8; 8];
        let n = super::super::fd::read(read_end.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], &[libc::SIGHUP as u8]);
        drop(reg);
        assert_eq!(handler_of(libc::SIGHUP), before);
        assert!(FDS
            .iter()
            .all(|fd| fd.load(Ordering::SeqCst) != write_end.as_raw_fd()));
        // SAFETY: putting back what the test process was started with.
        unsafe { libc::signal(libc::SIGHUP, inherited) };
    }
}
