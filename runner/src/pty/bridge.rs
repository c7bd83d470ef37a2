//! The bytes a session moves: the child's output (master -> our stdout or a
//! capture buffer) and, in Terminal mode, our stdin -> master. No threads:
//! the supervisor's loop calls these when poll says an fd is ready, so a
//! slow reader or writer on one side never stalls the deadline.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use super::fd::{self, stdout, Interest};

const CHUNK: usize = 16 * 1024;
/// The end-of-file character written to the master when our stdin ends, so a
/// child reading its (canonical-mode) terminal sees EOF too.
const VEOF: u8 = 0x04;

/// Where the child's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Everything into the returned buffer.
    Capture,
    /// To our stdout, keeping a copy of the first `head` bytes.
    Stdout { head: usize },
}

/// What reading the master found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// Nothing more to read right now.
    Empty,
    /// EOF/EIO: every slave fd is closed and everything was read.
    Closed,
}

/// Bytes read from the master but not yet on our stdout, at most; past this
/// the master is not read, so a stalled stdout reader holds the child back
/// (it blocks on a full pty) instead of growing this buffer.
const PENDING_CAP: usize = 64 * 1024;
/// What one write to stdout may take after poll said it is writable: a pipe
/// then has at least PIPE_BUF free, so this write cannot block.
const STDOUT_STEP: usize = 4096;

/// The output side: reads the (non-blocking) master and emits to the sink.
/// Our stdout is never made non-blocking (its file description is shared
/// with the parent shell) and is written only after poll said so, a bounded
/// amount at a time: a paused pager must not stop the session's deadline or
/// signal handling.
pub(crate) struct Output {
    sink: Sink,
    kept: Vec<u8>,
    stdout_ok: bool,
    buf: Vec<u8>,
    pending: Vec<u8>,
}

impl Output {
    pub(crate) fn new(sink: Sink) -> Output {
        Output {
            sink,
            kept: Vec::new(),
            stdout_ok: true,
            buf: vec![0u8; CHUNK],
            pending: Vec::new(),
        }
    }

    /// Whether to read the master now (false while stdout is behind).
    pub(crate) fn wants_master(&self) -> bool {
        self.pending.len() < PENDING_CAP
    }

    /// Whether to poll our stdout for writing.
    pub(crate) fn wants_stdout(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Reads what the master holds now, as far as the pending cap allows.
    pub(crate) fn drain(&mut self, master: BorrowedFd<'_>) -> Drained {
        while self.wants_master() {
            match fd::read(master, &mut self.buf) {
                Ok(0) => return Drained::Closed,
                Ok(n) => {
                    let chunk = std::mem::take(&mut self.buf);
                    self.emit(&chunk[..n]);
                    self.buf = chunk;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Empty,
                // EIO: the last slave fd closed, everything is read.
                Err(_) => return Drained::Closed,
            }
        }
        Drained::Empty
    }

    /// Stdout polled writable: write one bounded step of the pending bytes.
    /// A broken stdout stops the copy, not the draining: the child must
    /// never block on a full pty because nobody reads our stdout.
    pub(crate) fn on_stdout_writable(&mut self) {
        let step = self.pending.len().min(STDOUT_STEP);
        match fd::write(stdout(), &self.pending[..step]) {
            Ok(n) => {
                self.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => {
                self.stdout_ok = false;
                self.pending.clear();
            }
        }
    }

    /// Writes what is pending, waiting for stdout until `deadline` at most;
    /// what is still pending then is dropped. Returns whether all went out.
    pub(crate) fn flush(&mut self, deadline: Instant) -> bool {
        while self.wants_stdout() {
            match fd::wait_ready(&[(stdout(), Interest::Write)], Some(deadline)) {
                Ok(ready) if ready[0] => self.on_stdout_writable(),
                _ => {
                    self.pending.clear();
                    return false;
                }
            }
        }
        true
    }

    /// The captured bytes (all of them, or the head in Stdout mode).
    pub(crate) fn into_kept(self) -> Vec<u8> {
        self.kept
    }

    fn emit(&mut self, bytes: &[u8]) {
        match self.sink {
            Sink::Capture => self.kept.extend_from_slice(bytes),
            Sink::Stdout { head } => {
                let room = head.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&bytes[..room.min(bytes.len())]);
                if self.stdout_ok {
                    self.pending.extend_from_slice(bytes);
                }
            }
        }
    }
}

/// The input side: our stdin -> master, one chunk at a time. Our stdin is
/// never made non-blocking (its file description is shared with the parent
/// shell); it is read only after poll said it is readable, and only when
/// the previous chunk is fully written, so a child that does not read its
/// terminal holds our stdin back instead of growing a buffer. Known limit:
/// if another process reads the same stdin between our poll and our read
/// (a second reader of this terminal), the read blocks the session until
/// input arrives.
pub(crate) struct Input {
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
    /// Nothing more will be written (stdin ended and VEOF went out, or the
    /// master refused a write).
    Done,
}

impl Input {
    pub(crate) fn new() -> Input {
        Input {
            pending: Vec::new(),
            written: 0,
            state: Feed::Open,
        }
    }

    /// Whether to poll stdin for reading.
    pub(crate) fn wants_stdin(&self) -> bool {
        self.state == Feed::Open && self.pending.is_empty()
    }

    /// Whether to poll the master for writing.
    pub(crate) fn wants_master(&self) -> bool {
        self.state != Feed::Done && !self.pending.is_empty()
    }

    /// Stdin polled readable: take one chunk (or its end) and try to pass it on.
    pub(crate) fn on_stdin(&mut self, stdin: BorrowedFd<'_>, master: BorrowedFd<'_>) {
        // `pending` is empty here (see `wants_stdin`); reuse its buffer.
        self.pending.resize(CHUNK, 0);
        let n = match fd::read(stdin, &mut self.pending) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.pending.clear();
                return;
            }
            Err(_) => 0,
        };
        self.pending.truncate(n);
        if n == 0 {
            self.pending.push(VEOF);
            self.state = Feed::Ending;
        }
        self.written = 0;
        self.on_master_writable(master);
    }

    /// Master polled writable (or a fresh chunk arrived): write what fits.
    pub(crate) fn on_master_writable(&mut self, master: BorrowedFd<'_>) {
        while self.written < self.pending.len() {
            match fd::write(master, &self.pending[self.written..]) {
                Ok(n) if n > 0 => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                _ => {
                    self.state = Feed::Done;
                    return;
                }
            }
        }
        self.pending.clear();
        self.written = 0;
        if self.state == Feed::Ending {
            self.state = Feed::Done;
        }
    }
}
