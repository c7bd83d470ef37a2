//! Small fd helpers: close-on-exec pipes, non-blocking flags, readiness waits.
//!
//! Readiness uses poll(2) except on macOS, where poll does not support
//! character devices (ttys, ptys); there it uses select(2), which limits the
//! fds it can wait on to those below FD_SETSIZE.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// Our stdin (fd 0, open for the life of the process).
pub(crate) fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 is kept open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(libc::STDIN_FILENO) }
}

/// Our stdout (fd 1, open for the life of the process).
pub(crate) fn stdout() -> BorrowedFd<'static> {
    // SAFETY: fd 1 is kept open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(libc::STDOUT_FILENO) }
}

/// Our stderr (fd 2, open for the life of the process).
pub(crate) fn stderr() -> BorrowedFd<'static> {
    // SAFETY: fd 2 is kept open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(libc::STDERR_FILENO) }
}

/// A pipe whose both ends are close-on-exec.
pub(crate) fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    let pair = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let pair = {
        let pair = nix::unistd::pipe()?;
        set_cloexec(pair.0.as_raw_fd())?;
        set_cloexec(pair.1.as_raw_fd())?;
        pair
    };
    Ok(pair)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) fn set_cloexec(fd: std::os::fd::RawFd) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    Ok(())
}

/// Sets O_NONBLOCK on the open file description behind `fd` (shared by its
/// dups): never use it on fds shared with other processes, like our stdin.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_retain(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// What to wait for on one fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

/// Waits until at least one fd is ready (readable, writable, or hung up /
/// in error, which also counts as ready so the caller's read sees it) or the
/// deadline passes. Returns one flag per fd. EINTR is retried.
pub(crate) fn wait_ready(
    fds: &[(BorrowedFd<'_>, Interest)],
    deadline: Option<Instant>,
) -> io::Result<Vec<bool>> {
    loop {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match wait_once(fds, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(not(target_os = "macos"))]
fn wait_once(
    fds: &[(BorrowedFd<'_>, Interest)],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut pfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|(fd, interest)| {
            let events = match interest {
                Interest::Read => PollFlags::POLLIN,
                Interest::Write => PollFlags::POLLOUT,
            };
            PollFd::new(*fd, events)
        })
        .collect();
    // Round a sub-millisecond remainder up so a deadline is never spun on.
    let timeout = match timeout {
        None => PollTimeout::NONE,
        Some(t) => {
            let ms = t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    };
    poll(&mut pfds, timeout)?;
    Ok(pfds
        .iter()
        .map(|p| p.revents().is_some_and(|r| !r.is_empty()))
        .collect())
}

#[cfg(target_os = "macos")]
fn wait_once(
    fds: &[(BorrowedFd<'_>, Interest)],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    // SAFETY: fd_set is plain data; FD_* only touch the sets we own, and
    // every fd is checked against FD_SETSIZE first.
    unsafe {
        let mut read: libc::fd_set = std::mem::zeroed();
        let mut write: libc::fd_set = std::mem::zeroed();
        let mut error: libc::fd_set = std::mem::zeroed();
        libc::FD_ZERO(&mut read);
        libc::FD_ZERO(&mut write);
        libc::FD_ZERO(&mut error);
        let mut max = -1;
        for (fd, interest) in fds {
            let raw = fd.as_raw_fd();
            if raw as usize >= libc::FD_SETSIZE as usize {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("fd {raw} is above FD_SETSIZE; select(2) cannot wait on it"),
                ));
            }
            match interest {
                Interest::Read => libc::FD_SET(raw, &mut read),
                Interest::Write => libc::FD_SET(raw, &mut write),
            }
            libc::FD_SET(raw, &mut error);
            max = max.max(raw);
        }
        let mut tv = timeout.map(|t| libc::timeval {
            tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        });
        let tvp = tv
            .as_mut()
            .map_or(std::ptr::null_mut(), |t| t as *mut libc::timeval);
        let rc = libc::select(max + 1, &mut read, &mut write, &mut error, tvp);
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fds
            .iter()
            .map(|(fd, _)| {
                let raw = fd.as_raw_fd();
                libc::FD_ISSET(raw, &read)
                    || libc::FD_ISSET(raw, &write)
                    || libc::FD_ISSET(raw, &error)
            })
            .collect())
    }
}

/// One read(2), EINTR retried.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::read(fd.as_raw_fd(), buf) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return Ok(r?),
        }
    }
}

/// One write(2), EINTR retried.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match nix::unistd::write(fd, buf) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return Ok(r?),
        }
    }
}
