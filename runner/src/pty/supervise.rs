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
//! thread); `benches/session.rs` measures what starting a session costs.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use super::bridge::{Drained, Head, Input, Output};
use super::fd::{self, Interest};
use super::winsize;
use super::OutputFailure;

/// One output source of the child and where its bytes go.
pub(crate) struct Flow<'a> {
    pub source: BorrowedFd<'a>,
    pub output: Output,
    pub closed: bool,
    /// Whether the session waits for this source to close: not for a pty
    /// whose slave the session holds itself (it never closes).
    pub awaited: bool,
}

impl<'a> Flow<'a> {
    pub(crate) fn new(source: BorrowedFd<'a>, output: Output, awaited: bool) -> Flow<'a> {
        Flow {
            source,
            output,
            closed: false,
            awaited,
        }
    }
}

/// The session's moving parts, borrowed by the loop.
pub(crate) struct Supervisor<'a> {
    pub pgid: libc::pid_t,
    /// The pty master (for the window size).
    pub master: BorrowedFd<'a>,
    /// The pty's output, then the child's stdout and stderr pipes if any.
    pub flows: Vec<Flow<'a>>,
    pub head: Head,
    /// Our stdin to the child, in Terminal mode.
    pub input: Option<Input<'a>>,
    pub exit: ExitWatch,
    /// Read end of the session's signal pipe (one byte per signal); `None`
    /// once its write end is gone.
    pub signals: Option<OwnedFd>,
    /// Where to read the outer size on SIGWINCH (our terminal).
    pub resize_from: Option<BorrowedFd<'a>>,
    pub exited: bool,
    pub interrupted: Option<libc::c_int>,
    /// The first of our output streams that failed.
    pub output_failed: Option<OutputFailure>,
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
    /// Writing one of our output streams failed first.
    OutputFailed,
}

/// What the supervisor is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    ChildExited,
    /// Every awaited output source is at its end.
    OutputClosed,
}

/// Whether a termination signal or a failed output ends a wait early (both
/// are always recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalWake {
    Return,
    Continue,
}

/// What one fd in a turn's poll list stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Sink(usize),
    Source(usize),
    InputTarget,
    InputStdin,
    Exit,
    Signals,
}

impl Supervisor<'_> {
    /// Serves the session until `until` holds or the deadline passes; a
    /// termination signal or a failed output ends the wait only when
    /// `on_signal` says so. An error of poll itself ends the wait as a
    /// deadline would: the caller then terminates the group, which is always
    /// safe.
    pub(crate) fn wait_until(
        &mut self,
        until: Until,
        deadline: Option<Instant>,
        on_signal: SignalWake,
    ) -> Wake {
        loop {
            let holds = match until {
                Until::ChildExited => self.exited,
                Until::OutputClosed => self.output_closed(),
            };
            if holds {
                return Wake::Done;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Wake::Deadline;
            }
            match self.turn(deadline) {
                Ok(Some(early)) if on_signal == SignalWake::Return => return early,
                Ok(_) => {}
                Err(_) => return Wake::Deadline,
            }
        }
    }

    fn output_closed(&self) -> bool {
        self.flows.iter().all(|f| f.closed || !f.awaited)
    }

    /// One poll and the work it found. Returns a termination signal or an
    /// output failure that arrived in this turn.
    fn turn(&mut self, deadline: Option<Instant>) -> io::Result<Option<Wake>> {
        let now = Instant::now();
        let mut fds: Vec<(BorrowedFd<'_>, Interest)> = Vec::with_capacity(10);
        let mut slots: Vec<Slot> = Vec::with_capacity(10);
        let mut add = |fd, interest, slot| {
            fds.push((fd, interest));
            slots.push(slot);
        };
        for (i, flow) in self.flows.iter().enumerate() {
            if let Some(sink) = flow.output.sink_to_poll() {
                add(sink, Interest::Write, Slot::Sink(i));
            }
            if !flow.closed && flow.output.wants_source() {
                add(flow.source, Interest::Read, Slot::Source(i));
            }
        }
        let mut wake_at = deadline;
        if let Some(input) = &self.input {
            if let Some(target) = input.target_to_poll() {
                add(target, Interest::Write, Slot::InputTarget);
            }
            if let Some(stdin) = input.stdin_to_poll(now) {
                add(stdin, Interest::Read, Slot::InputStdin);
            }
            // A held gate opens by itself: wake then to read stdin.
            if let Some(gate) = input.gate_deadline().filter(|g| *g > now) {
                wake_at = Some(wake_at.map_or(gate, |d| d.min(gate)));
            }
        }
        if !self.exited {
            add(self.exit.fd(), Interest::Read, Slot::Exit);
        }
        if let Some(signals) = &self.signals {
            add(signals.as_fd(), Interest::Read, Slot::Signals);
        }
        let ready = fd::wait_ready(&fds, wake_at)?;
        drop(fds);
        let ready: Vec<Slot> = slots
            .into_iter()
            .zip(ready)
            .filter_map(|(slot, r)| r.then_some(slot))
            .collect();

        let mut early = None;
        for slot in ready {
            match slot {
                Slot::Sink(i) => self.flows[i].output.on_sink_writable(),
                Slot::Source(i) => {
                    let flow = &mut self.flows[i];
                    if flow.output.drain(flow.source, &mut self.head) == Drained::Closed {
                        flow.closed = true;
                    }
                }
                Slot::InputTarget => {
                    if let Some(input) = &mut self.input {
                        input.on_target_writable();
                    }
                }
                Slot::InputStdin => {
                    if let Some(input) = &mut self.input {
                        input.on_stdin();
                    }
                }
                // A pidfd is readable only once the process exited; the
                // waiter's pipe hangs up only when the waiter returned.
                Slot::Exit => self.exited = true,
                Slot::Signals => {
                    if self.take_signals() {
                        early = Some(Wake::Signal);
                    }
                }
            }
        }
        if self.head.seen_any() {
            if let Some(input) = &mut self.input {
                input.open_gate();
            }
        }
        if self.output_failed.is_none() {
            self.output_failed = self.flows.iter().find_map(|f| f.output.failure());
            if self.output_failed.is_some() {
                early = early.or(Some(Wake::OutputFailed));
            }
        }
        Ok(early)
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

    /// Reads whatever the sources still hold (after the group is gone) and
    /// writes it out, waiting for a slow sink until `deadline` at most.
    pub(crate) fn finish_output(&mut self, deadline: Instant) {
        for flow in &mut self.flows {
            loop {
                if !flow.closed && flow.output.drain(flow.source, &mut self.head) == Drained::Closed
                {
                    flow.closed = true;
                }
                let more = !flow.closed && !flow.output.wants_source();
                if !flow.output.flush(deadline) || !more {
                    break;
                }
            }
        }
        if self.output_failed.is_none() {
            self.output_failed = self.flows.iter().find_map(|f| f.output.failure());
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
        // SAFETY: `info` is valid siginfo_t storage; waitid writes only it.
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
