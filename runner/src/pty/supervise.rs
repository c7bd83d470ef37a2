//! Supervision: waiting for the child without reaping it, terminating its
//! process group (SIGTERM, grace, SIGKILL), and reaping at the very end.
//!
//! The child leads its own session and process group (pgid == pid). It is
//! reaped only after every signal to the group has been sent: while it is a
//! zombie its pid, and with it the group id, cannot be reused, so a late
//! `killpg` never reaches an unrelated group.

use std::io;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

/// What the supervisor waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The child exited (not yet reaped).
    Exited,
    /// The master reported EOF/EIO: no slave fd is open any more.
    OutputClosed,
    /// A termination signal reached this process.
    Signal(libc::c_int),
}

/// Starts a thread that blocks until `pid` exits (WNOWAIT: the zombie stays
/// for the reaper) and then sends [`Event::Exited`]. It returns as soon as the
/// child is gone, so joining it after the child exited is immediate.
pub(crate) fn spawn_waiter(pid: libc::pid_t, events: Sender<Event>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("beltcheck-pty-wait".into())
        .spawn(move || {
            loop {
                // SAFETY: siginfo_t is plain data filled by waitid.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let rc = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid as libc::id_t,
                        &mut info,
                        libc::WEXITED | libc::WNOWAIT,
                    )
                };
                if rc == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            let _ = events.send(Event::Exited);
        })
}

/// The supervisor's view of the session.
pub(crate) struct Supervisor {
    pub pgid: libc::pid_t,
    pub events: Receiver<Event>,
    pub exited: bool,
    pub output_closed: bool,
    pub interrupted: Option<libc::c_int>,
}

/// Why [`Supervisor::wait_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The condition holds.
    Done,
    /// The deadline passed first.
    Deadline,
    /// A termination signal arrived first.
    Signal,
}

/// What the supervisor is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    ChildExited,
    OutputClosed,
}

impl Supervisor {
    /// Waits for `until` or the deadline; a termination signal ends the wait
    /// only when `on_signal` says so (it is always recorded).
    pub(crate) fn wait_until(
        &mut self,
        until: Until,
        deadline: Option<Instant>,
        on_signal: SignalWake,
    ) -> Wake {
        loop {
            let holds = match until {
                Until::ChildExited => self.exited,
                Until::OutputClosed => self.output_closed,
            };
            if holds {
                return Wake::Done;
            }
            let event = match deadline {
                None => self
                    .events
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => self
                    .events
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            match event {
                Ok(Event::Exited) => self.exited = true,
                Ok(Event::OutputClosed) => self.output_closed = true,
                Ok(Event::Signal(sig)) => {
                    self.interrupted.get_or_insert(sig);
                    if on_signal == SignalWake::Return {
                        return Wake::Signal;
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Wake::Deadline,
                // Every sender gone: nothing more will happen.
                Err(RecvTimeoutError::Disconnected) => return Wake::Deadline,
            }
        }
    }

    /// SIGTERM to the group, up to `grace` for the child to exit, then
    /// SIGKILL to the group and wait for the child.
    pub(crate) fn terminate(&mut self, grace: std::time::Duration) {
        self.signal_group(libc::SIGTERM);
        let deadline = Instant::now() + grace;
        self.wait_until(Until::ChildExited, Some(deadline), SignalWake::Continue);
        self.signal_group(libc::SIGKILL);
        self.wait_until(Until::ChildExited, None, SignalWake::Continue);
    }

    pub(crate) fn signal_group(&self, sig: libc::c_int) {
        // SAFETY: killpg on the child's group, pinned by the unreaped child.
        unsafe { libc::killpg(self.pgid, sig) };
    }
}

/// Whether a termination signal ends a wait early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalWake {
    Return,
    Continue,
}
