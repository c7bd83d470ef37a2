//! Small helpers over raw libc calls: errno capture and C strings.

use std::ffi::{CString, OsStr};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use crate::classify::{self, RawCode};
use crate::outcome::Failure;
use crate::report::Verdict;

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A failure at `step` from the current errno.
pub fn last_failure(step: &'static str, context: &str) -> Failure {
    classify::failure(step, RawCode::Errno(errno()), context)
}

/// A failure at `step` from an `io::Error` (errno when it has one).
pub fn io_failure(step: &'static str, err: &std::io::Error, context: &str) -> Failure {
    match err.raw_os_error() {
        Some(e) => classify::failure(step, RawCode::Errno(e), context),
        None => Failure::plain(Verdict::Error, step, format!("{context}: {err}")),
    }
}

/// `ret` unless it is -1, in which case the errno as a failure at `step`.
pub fn check(step: &'static str, ret: libc::c_int) -> Result<libc::c_int, Failure> {
    if ret == -1 {
        Err(last_failure(step, ""))
    } else {
        Ok(ret)
    }
}

/// A C string from exact bytes; an interior NUL is a bad argument (EINVAL).
pub fn c_string(step: &'static str, value: &OsStr) -> Result<CString, Failure> {
    CString::new(value.as_bytes()).map_err(|_| {
        classify::failure(
            step,
            RawCode::Errno(libc::EINVAL),
            "argument contains a NUL byte",
        )
    })
}

/// `ret`, the result of a call that creates a descriptor, as an owned fd
/// (closed when dropped); -1 is the errno as a failure at `step`.
///
/// # Safety
/// `ret` must be the return value of a call that, on success, creates a new
/// descriptor owned by nobody else (open, socket, posix_openpt, shm_open,
/// fcntl F_DUPFD...).
pub unsafe fn owned_fd(step: &'static str, ret: libc::c_int) -> Result<OwnedFd, Failure> {
    let fd = check(step, ret)?;
    // SAFETY: a non-negative result is the new descriptor the caller
    // vouches nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Wait until `fd` is readable or `timeout` passes; true when readable.
pub fn wait_readable(
    step: &'static str,
    fd: libc::c_int,
    timeout: std::time::Duration,
) -> Result<bool, Failure> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    loop {
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n == -1 && errno() == libc::EINTR {
            continue;
        }
        return check(step, n).map(|n| n > 0);
    }
}

/// A `sockaddr_un` for `path`; a path that does not fit is ENAMETOOLONG.
pub fn sockaddr_un(
    step: &'static str,
    path: &OsStr,
) -> Result<(libc::sockaddr_un, libc::socklen_t), Failure> {
    let bytes = path.as_bytes();
    // SAFETY: sockaddr_un is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.is_empty() || bytes.contains(&0) || bytes.len() >= addr.sun_path.len() {
        return Err(classify::failure(
            step,
            RawCode::Errno(libc::ENAMETOOLONG),
            &format!(
                "socket path must be 1..{} bytes without NUL",
                addr.sun_path.len() - 1
            ),
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// A new AF_UNIX stream socket.
pub fn unix_socket(step: &'static str) -> Result<OwnedFd, Failure> {
    // SAFETY: socket(2) creates a new descriptor.
    unsafe { owned_fd(step, libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0)) }
}
