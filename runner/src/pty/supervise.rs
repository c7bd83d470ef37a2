//! Supervision: one poll loop on the calling thread that moves the session's
//! bytes, notices the child's exit without reaping it, takes termination
//! signals from a pipe, and enforces deadlines; plus terminating the child's
//! process group (SIGTERM, grace, SIGKILL).
//!
//! The child leads its own session and process group (pgid == pid). It is
//! reaped only after every signal to the group has been sent: while it is a
//! zombie its pid, and with it the group id, cannot be reused, so a late
//! `killpg` never reaches an unrelated group.
//!
//! Everything runs on the caller's thread: a session costs no thread of its
//! own (only a platform without pidfds watches the exit from a helper
//! thread), which is most of what starting a session used to cost.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use super::bridge::{Drained, Input, Output};
use super::fd::{self, Interest};
use super::winsize;

/// The session's moving parts, borrowed by the loop.
pub(crate) struct Supervisor<'a> {
    pub pgid: libc::pid_t,
    pub master: BorrowedFd<'a>,
    /// Our stdin, forwarded in Terminal mode.
    pub stdin: Option<(BorrowedFd<'a>, Input)>,
    pub output: Output,
    pub exit: ExitWatch,
    /// Read end of the session's signal pipe (one byte per signal); `None`
    /// once its write end is gone.
    pub signals: Option<OwnedFd>,
    /// Where to read the outer size on SIGWINCH (our stdin, a terminal).
    pub resize_from: Option<BorrowedFd<'a>>,
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

/// Whether a termination signal ends a wait early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalWake {
    Return,
    Continue,
}

fn add<'f>(
    fd: BorrowedFd<'f>,
    interest: Interest,
    fds: &mut Vec<(BorrowedFd<'f>, Interest)>,
) -> usize {
    fds.push((fd, interest));
    fds.len() - 1
}

/// The fds one turn of the loop waits on, and where each sits in the list.
#[derive(Default)]
struct Watch {
    output: Option<usize>,
    stdout: Option<usize>,
    input_master: Option<usize>,
    input_stdin: Option<usize>,
    exit: Option<usize>,
    signals: Option<usize>,
}

impl Supervisor<'_> {
    /// Serves the session until `until` holds or the deadline passes; a
    /// termination signal ends the wait only when `on_signal` says so (it is
    /// always recorded). An error of poll itself ends the wait as a deadline
    /// would: the caller then terminates the group, which is always safe.
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
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Wake::Deadline;
            }
            match self.turn(deadline) {
                Ok(true) if on_signal == SignalWake::Return => return Wake::Signal,
                Ok(_) => {}
                Err(_) => return Wake::Deadline,
            }
        }
    }

    /// One poll and the work it found. Returns whether a termination signal
    /// arrived.
    fn turn(&mut self, deadline: Option<Instant>) -> io::Result<bool> {
        let mut fds: Vec<(BorrowedFd<'_>, Interest)> = Vec::with_capacity(6);
        let mut watch = Watch::default();
        let master = self.master;
        if !self.output_closed && self.output.wants_master() {
            watch.output = Some(add(master, Interest::Read, &mut fds));
        }
        if self.output.wants_stdout() {
            watch.stdout = Some(add(fd::stdout(), Interest::Write, &mut fds));
        }
        if let Some((stdin, input)) = &self.stdin {
            if input.wants_master() {
                watch.input_master = Some(add(master, Interest::Write, &mut fds));
            }
            if input.wants_stdin() {
                watch.input_stdin = Some(add(*stdin, Interest::Read, &mut fds));
            }
        }
        if !self.exited {
            watch.exit = Some(add(self.exit.fd(), Interest::Read, &mut fds));
        }
        if let Some(signals) = &self.signals {
            watch.signals = Some(add(signals.as_fd(), Interest::Read, &mut fds));
        }
        let ready = fd::wait_ready(&fds, deadline)?;
        drop(fds);
        let is = |slot: Option<usize>| slot.is_some_and(|i| ready[i]);

        if is(watch.stdout) {
            self.output.on_stdout_writable();
        }
        if is(watch.output) && self.output.drain(master) == Drained::Closed {
            self.output_closed = true;
        }
        if let Some((stdin, input)) = &mut self.stdin {
            if is(watch.input_master) {
                input.on_master_writable(master);
            }
            if is(watch.input_stdin) {
                input.on_stdin(*stdin, master);
            }
        }
        // A pidfd is readable only once the process exited; the waiter's
        // pipe hangs up only when the waiter returned.
        if is(watch.exit) {
            self.exited = true;
        }
        Ok(is(watch.signals) && self.take_signals())
    }

    /// Reads the signal pipe: a SIGWINCH copies the outer size to the inner
    /// pty; a termination signal is recorded (the first one wins). Returns
    /// whether a termination signal arrived.
    fn take_signals(&mut self) -> bool {
        let Some(signals) = &self.signals else {
            return false;
        };
        let mut buf = [0u8; 64];
        let n = match fd::read(signals.as_fd(), &mut buf) {
            Ok(0) => {
                // The write end is gone: a hung-up pipe would poll ready
                // forever.
                self.signals = None;
                return false;
            }
            Ok(n) => n,
            Err(_) => return false,
        };
        let mut terminated = false;
        for &byte in &buf[..n] {
            let sig = libc::c_int::from(byte);
            if sig == libc::SIGWINCH {
                self.forward_resize();
            } else {
                self.interrupted.get_or_insert(sig);
                terminated = true;
            }
        }
        terminated
    }

    fn forward_resize(&self) {
        if let Some(outer) = self.resize_from {
            if let Some(ws) = winsize::read_raw(outer) {
                let _ = winsize::write_raw(self.master, &ws);
            }
        }
    }

    /// Reads whatever the master still holds (after the group is gone) and
    /// writes it out, waiting for a slow stdout until `deadline` at most.
    pub(crate) fn finish_output(&mut self, deadline: Instant) {
        loop {
            if !self.output_closed && self.output.drain(self.master) == Drained::Closed {
                self.output_closed = true;
            }
            let more = !self.output_closed && !self.output.wants_master();
            if !self.output.flush(deadline) || !more {
                return;
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
        while !self.exited {
            // A poll failure must not leave a live child behind: fall back
            // to blocking on the exit itself.
            if self.wait_until(Until::ChildExited, None, SignalWake::Continue) != Wake::Done {
                self.exit.block_until_exit(self.pgid);
                self.exited = true;
            }
        }
    }

    pub(crate) fn signal_group(&self, sig: libc::c_int) {
        // SAFETY: killpg on the child's group, pinned by the unreaped child.
        unsafe { libc::killpg(self.pgid, sig) };
    }
}

/// Notices the child's exit without reaping it, as an fd the loop can poll.
pub(crate) enum ExitWatch {
    /// Linux: a pidfd, readable once the process has exited.
    #[cfg(target_os = "linux")]
    Pidfd(OwnedFd),
    /// Elsewhere (or without pidfd support): a helper thread blocks in
    /// `waitid(WNOWAIT)` and closes its end of a pipe when the child exits.
    Thread {
        read_end: OwnedFd,
        waiter: Option<std::thread::JoinHandle<()>>,
    },
}

impl ExitWatch {
    pub(crate) fn start(pid: libc::pid_t) -> io::Result<ExitWatch> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = pidfd_open(pid) {
            return Ok(ExitWatch::Pidfd(fd));
        }
        let (read_end, write_end) = fd::cloexec_pipe()?;
        let waiter = std::thread::Builder::new()
            .name("beltcheck-pty-wait".into())
            .spawn(move || {
                wait_exit_no_reap(pid);
                drop(write_end);
            })?;
        Ok(ExitWatch::Thread {
            read_end,
            waiter: Some(waiter),
        })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(fd) => fd.as_fd(),
            ExitWatch::Thread { read_end, .. } => read_end.as_fd(),
        }
    }

    /// Joins the waiter thread, if there is one; true if there was (it
    /// returns only once the child exited).
    fn join_waiter(&mut self) -> bool {
        match self {
            ExitWatch::Thread { waiter, .. } => waiter.take().map(|w| w.join()).is_some(),
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(_) => false,
        }
    }

    fn block_until_exit(&mut self, pid: libc::pid_t) {
        if !self.join_waiter() {
            wait_exit_no_reap(pid);
        }
    }
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        // The child is dead by the time a session drops its watch (the
        // supervisor waits for the exit on every path), so this join is
        // immediate.
        self.join_waiter();
    }
}

/// Blocks until `pid` exits, leaving the zombie for the reaper.
fn wait_exit_no_reap(pid: libc::pid_t) {
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
            return;
        }
    }
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // pidfds are close-on-exec from birth; the fd is ours alone.
    // SAFETY: a fresh fd returned by the kernel.
    Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}
