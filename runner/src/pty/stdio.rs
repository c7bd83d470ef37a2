//! Which of the child's standard streams is the pty and which is a pipe of
//! ours, decided once per session.
//!
//! In Terminal mode a stream of ours that is a terminal is carried by the
//! pty (raw mode, size, ^C, job control); anything else (a pipe, a file,
//! `/dev/null`, a socket, a closed fd) is relayed through a pipe this module
//! creates. The child never gets our descriptors, and no line discipline
//! touches those bytes: a pty would cut lines at 4,096 bytes, turn 0x03 into
//! SIGINT and swallow 0x04, echo input into the output and write `\n` as
//! `\r\n`, and it cannot both pass a raw 0x04 and deliver end-of-file. In
//! Detached mode all three are the pty. Whatever the routes, the pty stays
//! the child's controlling terminal (`/dev/tty`).

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use super::fd;
use super::Input;

/// Where one of the child's standard streams goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The pty slave.
    Pty,
    /// A pipe relayed to or from our own fd of the same number.
    Pipe,
}

/// One of our output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The routes of a session's stdin, stdout and stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub stdin: Route,
    pub stdout: Route,
    pub stderr: Route,
}

fn route_of(our_fd: libc::c_int) -> Route {
    // SAFETY: isatty has no preconditions; a closed fd is simply not a tty.
    if unsafe { libc::isatty(our_fd) } == 1 {
        Route::Pty
    } else {
        Route::Pipe
    }
}

impl Plan {
    pub(crate) fn for_input(input: Input) -> Plan {
        match input {
            Input::Detached => Plan {
                stdin: Route::Pty,
                stdout: Route::Pty,
                stderr: Route::Pty,
            },
            Input::Terminal => Plan {
                stdin: route_of(libc::STDIN_FILENO),
                stdout: route_of(libc::STDOUT_FILENO),
                stderr: route_of(libc::STDERR_FILENO),
            },
        }
    }

    /// Whether any of the child's stdio is the pty slave (if none is, the
    /// session holds a slave fd itself, so the pty stays open for
    /// `/dev/tty` and its master never reads as hung up).
    pub(crate) fn child_holds_pty(&self) -> bool {
        [self.stdin, self.stdout, self.stderr].contains(&Route::Pty)
    }

    /// Where the pty's own output (what the child writes to the pty, its
    /// echo) goes in Terminal mode: our stdout when that is a terminal, else
    /// our stderr.
    pub(crate) fn pty_sink(&self) -> Stream {
        if self.stdout == Route::Pty {
            Stream::Stdout
        } else {
            Stream::Stderr
        }
    }

    /// Whether the pty's output processing (`\n` -> `\r\n`) is needed: only
    /// when it feeds a terminal that the session put in raw mode (our stdin
    /// is a terminal, and so is the sink). Everywhere else the bytes are
    /// passed as written.
    pub(crate) fn feeds_a_raw_terminal(&self) -> bool {
        self.stdin == Route::Pty && (self.stdout == Route::Pty || self.stderr == Route::Pty)
    }
}

/// A pipe carrying one stream: `child` becomes the child's fd, `ours`
/// stays with the session (non-blocking). Both are close-on-exec and above
/// fd 2, so placing `child` on 0-2 in the child never overwrites another.
pub(crate) struct StreamPipe {
    pub child: OwnedFd,
    pub ours: OwnedFd,
}

/// The direction of a [`StreamPipe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The child reads (its stdin).
    ToChild,
    /// The child writes (its stdout or stderr).
    FromChild,
}

pub(crate) fn pipe(direction: Direction) -> io::Result<StreamPipe> {
    let (read_end, write_end) = fd::cloexec_pipe()?;
    let (read_end, write_end) = (above_stdio(read_end)?, above_stdio(write_end)?);
    let (child, ours) = match direction {
        Direction::ToChild => (read_end, write_end),
        Direction::FromChild => (write_end, read_end),
    };
    fd::set_nonblocking(ours.as_fd())?;
    Ok(StreamPipe { child, ours })
}

/// `fd` itself if it is above 2, else a close-on-exec duplicate that is (a
/// process started with closed stdio gets its first new fds on 0-2, where
/// they would be taken for our stdio and overwritten in the child).
pub(crate) fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > libc::STDERR_FILENO {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on an fd we own returns a new fd or -1.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd, ours alone; `fd` is closed on return.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}
