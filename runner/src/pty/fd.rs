//! Small fd helpers: close-on-exec pipes, non-blocking flags, readiness waits.
//!
//! Readiness uses poll(2) except on macOS, where poll does not support
//! character devices (ttys, ptys); there it uses select(2), which limits the
//! fds it can wait on to those below FD_SETSIZE.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
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
    let mut fds = [0 as RawFd; 2];
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        // SAFETY: pipe2 writes two fds into the array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        // SAFETY: pipe writes two fds into the array.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in fds {
            set_cloexec(fd)?;
        }
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets O_NONBLOCK on the open file description behind `fd` (shared by its
/// dups): never use it on fds shared with other processes, like our stdin.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl with F_GETFL/F_SETFL on a valid fd.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    // SAFETY: fcntl F_SETFL with an int argument on a valid fd.
    if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
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
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|(fd, interest)| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: match interest {
                Interest::Read => libc::POLLIN,
                Interest::Write => libc::POLLOUT,
            },
            revents: 0,
        })
        .collect();
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // Round a sub-millisecond remainder up so a deadline is never spun on.
    let ms = match timeout {
        Some(t) if ms == 0 && !t.is_zero() => 1,
        _ => ms,
    };
    // SAFETY: pfds is a valid array of pollfd of the given length.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pfds.iter().map(|p| p.revents != 0).collect())
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
        // SAFETY: buf is valid for writes of its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// One write(2), EINTR retried.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for reads of its length.
        let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
