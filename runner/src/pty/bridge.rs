//! The bytes a session moves: the child's output (master -> our stdout or a
//! capture buffer) and, in Terminal mode, our stdin -> master. No threads:
//! the supervisor's loop calls these when poll says an fd is ready, so a
//! slow reader or writer on one side never stalls the deadline.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use super::fd::{self, Interest};

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

/// The output side: reads the (non-blocking) master and emits to the sink.
pub(crate) struct Output {
    sink: Sink,
    kept: Vec<u8>,
    stdout_ok: bool,
    buf: Vec<u8>,
}

impl Output {
    pub(crate) fn new(sink: Sink) -> Output {
        Output {
            sink,
            kept: Vec::new(),
            stdout_ok: true,
            buf: vec![0u8; CHUNK],
        }
    }

    /// Reads everything the master holds now.
    pub(crate) fn drain(&mut self, master: BorrowedFd<'_>) -> Drained {
        loop {
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
                // A broken stdout stops the copy, not the draining: the child
                // must never block on a full pty.
                if self.stdout_ok {
                    self.stdout_ok = write_stdout(bytes).is_ok();
                }
            }
        }
    }
}

fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let _lock = stdout.lock();
    let fd = stdout.as_fd();
    while !bytes.is_empty() {
        match fd::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                fd::wait_ready(&[(fd, Interest::Write)], None)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The input side: our stdin -> master, one chunk at a time. Our stdin is
/// never made non-blocking (its file description is shared with the parent
/// shell); it is read only after poll said it is readable, and only when
/// the previous chunk is fully written, so a child that does not read its
/// terminal holds our stdin back instead of growing a buffer.
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
        let mut buf = vec![0u8; CHUNK];
        let n = match fd::read(stdin, &mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => 0,
        };
        if n == 0 {
            self.pending = vec![VEOF];
            self.state = Feed::Ending;
        } else {
            buf.truncate(n);
            self.pending = buf;
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
