//! Process-wide signal plumbing shared by every session.
//!
//! One self-pipe per process, created on first use: the handlers only write
//! the signal number into its non-blocking write end (a full pipe drops the
//! byte, it never blocks the handler; a dropped byte loses nothing because
//! the dispatcher re-reads the current state). One dispatcher thread, also
//! started once, reads the pipe and serves the sessions registered at that
//! moment:
//! - SIGWINCH: every registered resize target gets the outer terminal's
//!   current size on its own master fd (a dup the registration owns, so no
//!   other thread can close it under the dispatcher).
//! - SIGINT, SIGTERM, SIGHUP: every registered session that asked for them
//!   is notified. These handlers are installed only while at least one such
//!   session exists, and the previous dispositions are put back after the
//!   last one leaves; a signal that arrives when nobody is registered is
//!   re-raised under the previous disposition.
//!
//! Sessions come and go freely: registering costs no fd and no thread beyond
//! the one-time pipe and dispatcher.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::fd;
use super::winsize;

/// The signals a session can ask to be told about.
pub(crate) const TERMINATION: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

static WRITE_END: AtomicI32 = AtomicI32::new(-1);
static REGISTRY: Mutex<Registry> = Mutex::new(Registry::new());
static STARTED: OnceLock<io::Result<()>> = OnceLock::new();

pub(crate) type OnSignal = Box<dyn Fn(libc::c_int) + Send>;

struct ResizeTarget {
    /// Where the outer size is read (our stdin).
    outer: libc::c_int,
    /// The session's own dup of its master.
    master: OwnedFd,
}

struct Registry {
    next_id: u64,
    resize: BTreeMap<u64, ResizeTarget>,
    termination: BTreeMap<u64, OnSignal>,
    winch_installed: bool,
    /// Dispositions in force before our termination handlers went in.
    saved: Vec<(libc::c_int, libc::sigaction)>,
}

impl Registry {
    const fn new() -> Registry {
        Registry {
            next_id: 0,
            resize: BTreeMap::new(),
            termination: BTreeMap::new(),
            winch_installed: false,
            saved: Vec::new(),
        }
    }
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session's registration; dropping it unregisters (and closes the
/// resize fd it owns).
pub(crate) struct Registration {
    id: u64,
}

/// What a session registers for.
pub(crate) struct Subscription {
    /// A dup of the session's master, to receive the outer size on SIGWINCH.
    pub resize: Option<OwnedFd>,
    /// Called (on the dispatcher thread) for SIGINT/SIGTERM/SIGHUP.
    pub termination: Option<OnSignal>,
}

pub(crate) fn register(sub: Subscription) -> io::Result<Registration> {
    if sub.resize.is_none() && sub.termination.is_none() {
        return Ok(Registration { id: u64::MAX });
    }
    start()?;
    let mut reg = registry();
    let id = reg.next_id;
    reg.next_id += 1;
    if let Some(master) = sub.resize {
        if !reg.winch_installed {
            install(libc::SIGWINCH)?;
            reg.winch_installed = true;
        }
        reg.resize.insert(
            id,
            ResizeTarget {
                outer: libc::STDIN_FILENO,
                master,
            },
        );
    }
    if let Some(cb) = sub.termination {
        if reg.termination.is_empty() {
            let mut saved = Vec::new();
            for sig in TERMINATION {
                saved.push((sig, install(sig)?));
            }
            reg.saved = saved;
        }
        reg.termination.insert(id, cb);
    }
    Ok(Registration { id })
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.id == u64::MAX {
            return;
        }
        let mut reg = registry();
        reg.resize.remove(&self.id);
        if reg.termination.remove(&self.id).is_some() && reg.termination.is_empty() {
            restore_saved(&mut reg);
        }
    }
}

fn restore_saved(reg: &mut Registry) {
    // `saved` is kept: a signal caught just before this point is still in
    // the pipe, and the dispatcher re-raises it under these dispositions.
    for (sig, old) in &reg.saved {
        // SAFETY: putting back a disposition sigaction gave us.
        unsafe { libc::sigaction(*sig, old, std::ptr::null_mut()) };
    }
}

/// Creates the self-pipe and the dispatcher thread, once per process.
fn start() -> io::Result<()> {
    let result = STARTED.get_or_init(|| {
        let (read_end, write_end) = fd::cloexec_pipe()?;
        fd::set_nonblocking(write_end.as_fd())?;
        std::thread::Builder::new()
            .name("beltcheck-signals".into())
            .spawn(move || dispatch(read_end))?;
        // The write end lives for the rest of the process: a handler may run
        // at any time.
        WRITE_END.store(
            std::os::fd::IntoRawFd::into_raw_fd(write_end),
            Ordering::SeqCst,
        );
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), format!("signal self-pipe: {e}"))),
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let saved = nix::errno::Errno::last_raw();
    let fd = WRITE_END.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the byte outlives the call.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    nix::errno::Errno::set_raw(saved);
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

fn dispatch(read_end: OwnedFd) {
    let mut buf = [0u8; 256];
    loop {
        let n = match fd::read(read_end.as_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(_) => return,
        };
        let got = &buf[..n];
        let mut reg = registry();
        if got.contains(&(libc::SIGWINCH as u8)) {
            forward_resize(&reg);
        }
        for sig in TERMINATION {
            if got.contains(&(sig as u8)) {
                deliver_termination(&mut reg, sig);
            }
        }
    }
}

fn forward_resize(reg: &Registry) {
    for target in reg.resize.values() {
        // SAFETY: `outer` is our stdin, which the process keeps open.
        let outer = unsafe { std::os::fd::BorrowedFd::borrow_raw(target.outer) };
        if let Some(ws) = winsize::read_raw(outer) {
            let _ = winsize::write_raw(target.master.as_fd(), &ws);
        }
    }
}

fn deliver_termination(reg: &mut Registry, sig: libc::c_int) {
    if reg.termination.is_empty() {
        // Arrived between the last session leaving and the handlers going:
        // deliver it as if we had never been here.
        let old = reg.saved.iter().find(|(s, _)| *s == sig).map(|(_, a)| *a);
        if let Some(old) = old {
            // SAFETY: reinstating the saved disposition, then raising.
            unsafe {
                libc::sigaction(sig, &old, std::ptr::null_mut());
                libc::raise(sig);
            }
        }
        return;
    }
    for cb in reg.termination.values() {
        cb(sig);
    }
}

/// Whether the process-wide dispatcher is running (for tests of leaks: it is
/// the one thread sessions may leave behind, once).
pub fn dispatcher_started() -> bool {
    STARTED.get().is_some_and(|r| r.is_ok())
}
