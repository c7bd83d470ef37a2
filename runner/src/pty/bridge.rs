//! The bytes a session moves. No threads: the supervisor's loop calls these
//! when poll says an fd is ready, so a slow reader or writer on one side
//! never stalls the deadline.
//!
//! - [`Output`]: one source the child writes (the pty master, or our end of
//!   its stdout or stderr pipe) to one sink (our stdout or stderr, or only
//!   the [`Head`] when captured).
//! - [`Input`]: our stdin to the child (the pty master, or our end of its
//!   stdin pipe); towards the pty, held by the ready gate.
//! - [`Head`]: the first output bytes of the session, over all sources.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use super::fd::{self, Interest};
use super::stdio::Stream;
use super::OutputFailure;

const CHUNK: usize = 16 * 1024;
/// The end-of-file character written to the master when our stdin ends, so a
/// child reading its (canonical-mode) terminal sees EOF too.
const VEOF: u8 = 0x04;
/// Bytes read from a source but not yet on our stdout, at most; past this
/// the source is not read, so a stalled reader of our stdout holds the child
/// back (it blocks on a full pty or pipe) instead of growing this buffer.
const PENDING_CAP: usize = 64 * 1024;
/// What one write to our stdout may take after poll said it is writable: a
/// pipe then has at least PIPE_BUF free, so this write cannot block.
const SINK_STEP: usize = 4096;
/// How long input typed on a terminal waits for the child's first output
/// byte (the ready gate): a child that sets its terminal with `TCSAFLUSH`
/// when it starts would otherwise discard what was typed before.
pub const READY_GATE: Duration = Duration::from_secs(5);

/// The first `cap` output bytes of the session, in arrival order over every
/// source, and whether any byte arrived at all.
pub(crate) struct Head {
    cap: usize,
    bytes: Vec<u8>,
    seen_any: bool,
}

impl Head {
    pub(crate) fn new(cap: usize) -> Head {
        Head {
            cap,
            bytes: Vec::new(),
            seen_any: false,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.seen_any |= !bytes.is_empty();
        let room = self.cap.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    pub(crate) fn seen_any(&self) -> bool {
        self.seen_any
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Where an output source's bytes go besides the [`Head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Nowhere: the head (uncapped) is the capture.
    Capture,
    /// To one of our output streams.
    Stream(Stream),
}

/// What reading a source found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// Nothing more to read right now.
    Empty,
    /// EOF (or the master's EIO): every writer is gone and everything was read.
    Closed,
}

/// One source -> one sink. Our stdout and stderr are never made
/// non-blocking (their file descriptions are shared with the parent shell)
/// and are written only after poll said so, a bounded amount at a time: a
/// paused pager must not stop the session's deadline or signal handling.
pub(crate) struct Output {
    sink: Sink,
    buf: Vec<u8>,
    pending: Vec<u8>,
    failed: Option<OutputFailure>,
}

impl Output {
    pub(crate) fn new(sink: Sink) -> Output {
        Output {
            sink,
            buf: vec![0u8; CHUNK],
            pending: Vec::new(),
            failed: None,
        }
    }

    /// Whether to read the source now (false while the sink is behind).
    pub(crate) fn wants_source(&self) -> bool {
        self.pending.len() < PENDING_CAP
    }

    /// The sink to poll for writing, when bytes wait for it.
    pub(crate) fn sink_to_poll(&self) -> Option<BorrowedFd<'static>> {
        match self.sink {
            Sink::Stream(stream) if !self.pending.is_empty() => Some(stream_fd(stream)),
            _ => None,
        }
    }

    /// Why writing the sink failed, if it did.
    pub(crate) fn failure(&self) -> Option<OutputFailure> {
        self.failed
    }

    /// Reads what the (non-blocking) source holds now, as far as the pending
    /// cap allows.
    pub(crate) fn drain(&mut self, source: BorrowedFd<'_>, head: &mut Head) -> Drained {
        while self.wants_source() {
            match fd::read(source, &mut self.buf) {
                Ok(0) => return Drained::Closed,
                Ok(n) => {
                    let chunk = std::mem::take(&mut self.buf);
                    self.emit(&chunk[..n], head);
                    self.buf = chunk;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Empty,
                // EIO from a master: the last slave fd closed, all is read.
                Err(_) => return Drained::Closed,
            }
        }
        Drained::Empty
    }

    /// The sink polled writable: write one bounded step of the pending
    /// bytes. A failed write is recorded (it ends the session) and from
    /// then on the source is drained into nothing, so the child never
    /// blocks on a full pty or pipe while the session ends.
    pub(crate) fn on_sink_writable(&mut self) {
        let Sink::Stream(stream) = self.sink else {
            return;
        };
        let step = self.pending.len().min(SINK_STEP);
        match write_no_sigpipe(stream_fd(stream), &self.pending[..step]) {
            Ok(n) => {
                self.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                self.failed = Some(OutputFailure {
                    stream,
                    errno: e.raw_os_error().unwrap_or(libc::EIO),
                });
                self.pending = Vec::new();
            }
        }
    }

    /// Writes what is pending, waiting for the sink until `deadline` at
    /// most; what is still pending then is dropped. Returns whether all
    /// went out.
    pub(crate) fn flush(&mut self, deadline: Instant) -> bool {
        while let Some(sink) = self.sink_to_poll() {
            match fd::wait_ready(&[(sink, Interest::Write)], Some(deadline)) {
                Ok(ready) if ready[0] => self.on_sink_writable(),
                _ => {
                    self.pending.clear();
                    return false;
                }
            }
        }
        true
    }

    fn emit(&mut self, bytes: &[u8], head: &mut Head) {
        head.keep(bytes);
        if matches!(self.sink, Sink::Stream(_)) && self.failed.is_none() {
            self.pending.extend_from_slice(bytes);
        }
    }
}

fn stream_fd(stream: Stream) -> BorrowedFd<'static> {
    match stream {
        Stream::Stdout => fd::stdout(),
        Stream::Stderr => fd::stderr(),
    }
}

/// One write(2) that never raises SIGPIPE in this process, whatever its
/// disposition: a library must not be killed because a reader went away
/// (the error, EPIPE, is what the caller acts on). SIGPIPE is blocked on
/// this thread for the write, and the one the write raised is consumed.
fn write_no_sigpipe(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: sigset_t is plain data; the calls fill and apply it to this
    // thread only; sigwait returns at once for a pending signal.
    unsafe {
        let mut pipe_only: libc::sigset_t = std::mem::zeroed();
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe_only);
        libc::sigaddset(&mut pipe_only, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe_only, &mut before);
        let result = fd::write(fd, buf);
        let raised = matches!(&result, Err(e) if e.raw_os_error() == Some(libc::EPIPE));
        if raised && libc::sigismember(&before, libc::SIGPIPE) == 0 {
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigpending(&mut pending);
            if libc::sigismember(&pending, libc::SIGPIPE) == 1 {
                let mut sig = 0;
                libc::sigwait(&pipe_only, &mut sig);
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        result
    }
}

/// Where our stdin goes.
pub(crate) enum Target<'a> {
    /// The pty master: what the child reads from its terminal. End of input
    /// is sent as the end-of-file character.
    Pty(BorrowedFd<'a>),
    /// Our (non-blocking) end of the child's stdin pipe, closed at the end
    /// of input so the child reads EOF.
    Pipe(Option<OwnedFd>),
}

/// Whether input waits for the child to be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    Open,
    /// Held until the child's first output byte, or this instant.
    HeldUntil(Instant),
}

/// The input side: our stdin -> the child, one chunk at a time. Our stdin is
/// never made non-blocking (its file description is shared with the parent
/// shell); it is read only after poll said it is readable, and only when
/// the previous chunk is fully written, so a child that does not read holds
/// our stdin back instead of growing a buffer. Known limit: if another
/// process reads the same stdin between our poll and our read (a second
/// reader of this terminal), the read blocks the session until input
/// arrives.
pub(crate) struct Input<'a> {
    stdin: BorrowedFd<'a>,
    target: Target<'a>,
    gate: Gate,
    pending: Vec<u8>,
    written: usize,
    state: Feed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Reading stdin.
    Open,
    /// Stdin ended; the pending VEOF is the last thing to write.
    Ending,
    /// Nothing more will be written (stdin ended and was passed on, or the
    /// target refused a write).
    Done,
}

impl<'a> Input<'a> {
    pub(crate) fn new(stdin: BorrowedFd<'a>, target: Target<'a>, gate: Gate) -> Input<'a> {
        Input {
            stdin,
            target,
            gate,
            pending: Vec::new(),
            written: 0,
            state: Feed::Open,
        }
    }

    /// Our stdin, when it is to be polled for reading at `now`.
    pub(crate) fn stdin_to_poll(&self, now: Instant) -> Option<BorrowedFd<'a>> {
        let gate_open = match self.gate {
            Gate::Open => true,
            Gate::HeldUntil(until) => now >= until,
        };
        (gate_open && self.state == Feed::Open && self.pending.is_empty()).then_some(self.stdin)
    }

    /// The target, when bytes wait to be written to it.
    pub(crate) fn target_to_poll(&self) -> Option<BorrowedFd<'_>> {
        if self.state == Feed::Done || self.pending.is_empty() {
            return None;
        }
        self.target_fd()
    }

    /// When the held gate opens by itself, if it is held.
    pub(crate) fn gate_deadline(&self) -> Option<Instant> {
        match self.gate {
            Gate::Open => None,
            Gate::HeldUntil(until) => Some(until),
        }
    }

    /// The child has written: input may flow.
    pub(crate) fn open_gate(&mut self) {
        self.gate = Gate::Open;
    }

    fn target_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.target {
            Target::Pty(master) => Some(*master),
            Target::Pipe(pipe) => pipe.as_ref().map(|p| p.as_fd()),
        }
    }

    /// Stdin polled readable: take one chunk (or its end) and pass it on.
    pub(crate) fn on_stdin(&mut self) {
        // `pending` is empty here (see `stdin_to_poll`); reuse its buffer.
        self.pending.resize(CHUNK, 0);
        let n = match fd::read(self.stdin, &mut self.pending) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.pending.clear();
                return;
            }
            // A stdin that cannot be read (closed, hung up) has ended.
            Err(_) => 0,
        };
        self.pending.truncate(n);
        self.written = 0;
        if n == 0 {
            match self.target {
                Target::Pty(_) => {
                    self.pending.push(VEOF);
                    self.state = Feed::Ending;
                }
                Target::Pipe(_) => {
                    self.finish();
                    return;
                }
            }
        }
        self.on_target_writable();
    }

    /// Target polled writable (or a fresh chunk arrived): write what fits.
    pub(crate) fn on_target_writable(&mut self) {
        while self.written < self.pending.len() {
            let Some(target) = self.target_fd() else {
                return self.finish();
            };
            match write_no_sigpipe(target, &self.pending[self.written..]) {
                Ok(n) if n > 0 => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // The child stopped reading (EPIPE) or the pty is gone.
                _ => return self.finish(),
            }
        }
        self.pending.clear();
        self.written = 0;
        if self.state == Feed::Ending {
            self.finish();
        }
    }

    /// Nothing more goes to the child; a pipe is closed so it reads EOF.
    fn finish(&mut self) {
        self.state = Feed::Done;
        self.pending = Vec::new();
        if let Target::Pipe(pipe) = &mut self.target {
            pipe.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SIGPIPE's disposition is process-wide: the test sets it to default
    /// (a SIGPIPE raised by the write would kill the test binary, which is
    /// the failure this test catches) and puts the old one back.
    #[test]
    fn writing_a_pipe_without_reader_is_epipe_not_death() {
        let (read_end, write_end) = fd::cloexec_pipe().unwrap();
        drop(read_end);
        // SAFETY: swapping SIGPIPE's disposition, restored below.
        let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let result = write_no_sigpipe(write_end.as_fd(), b"x");
        // SAFETY: reading this thread's pending set into a zeroed sigset_t.
        let still_pending = unsafe {
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigpending(&mut pending);
            libc::sigismember(&pending, libc::SIGPIPE) == 1
        };
        // SAFETY: restoring the disposition taken above.
        unsafe { libc::signal(libc::SIGPIPE, old) };
        assert_eq!(result.unwrap_err().raw_os_error(), Some(libc::EPIPE));
        assert!(
            !still_pending,
            "the SIGPIPE the write raised was left pending"
        );
    }
}
