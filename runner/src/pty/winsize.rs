//! Terminal window sizes: reading the outer terminal's, setting the inner pty's.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
}

impl Winsize {
    /// What a session gets when neither the caller nor an outer terminal
    /// says otherwise: the classic 80x24.
    pub const DEFAULT: Winsize = Winsize { rows: 24, cols: 80 };

    pub(crate) fn to_raw(self) -> libc::winsize {
        libc::winsize {
            ws_row: self.rows,
            ws_col: self.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

/// The size of the terminal on `fd`, pixels included; `None` when `fd` is
/// not a terminal or reports a zero size (a pty nobody sized yet).
pub(crate) fn read_raw(fd: BorrowedFd<'_>) -> Option<libc::winsize> {
    // SAFETY: an all-zero winsize is valid; TIOCGWINSZ writes one winsize.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: `ws` is valid winsize storage; TIOCGWINSZ writes one winsize.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some(ws)
}

/// Sets the size of the pty behind `fd` (a master); the kernel then sends
/// SIGWINCH to the pty's foreground process group.
pub(crate) fn write_raw(fd: BorrowedFd<'_>, ws: &libc::winsize) -> io::Result<()> {
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws as *const libc::winsize) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
