//! Opening a pty pair whose both ends are close-on-exec from birth (Linux)
//! or right after (elsewhere, serialised against our own spawns), so a child
//! spawned concurrently by another session never inherits them: an inherited
//! slave would keep that session's master from ever seeing EIO.

use std::io;
use std::os::fd::OwnedFd;

use super::winsize::Winsize;

pub(crate) struct PtyPair {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Serialises "fd created without O_CLOEXEC" against our own forks on
/// platforms where the pty cannot be opened close-on-exec atomically.
#[cfg(not(target_os = "linux"))]
pub(crate) static FORK_LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());

#[cfg(target_os = "linux")]
pub(crate) fn open(size: Winsize) -> io::Result<PtyPair> {
    use std::ffi::CStr;
    use std::os::fd::{AsRawFd, FromRawFd};

    // SAFETY: plain syscalls on fds we own; ptsname_r writes a NUL-terminated
    // name into our buffer.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if m < 0 {
            return Err(io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as libc::c_char; 128];
        let rc = libc::ptsname_r(m, name.as_mut_ptr(), name.len());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        let path = CStr::from_ptr(name.as_ptr());
        let s = libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if s < 0 {
            return Err(io::Error::last_os_error());
        }
        let slave = OwnedFd::from_raw_fd(s);
        super::winsize::write_raw(
            std::os::fd::BorrowedFd::borrow_raw(master.as_raw_fd()),
            &size.to_raw(),
        )?;
        Ok(PtyPair { master, slave })
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn open(size: Winsize) -> io::Result<PtyPair> {
    use std::os::fd::FromRawFd;

    let _no_fork = FORK_LOCK.write().unwrap_or_else(|p| p.into_inner());
    let ws = size.to_raw();
    let (mut m, mut s) = (-1, -1);
    // SAFETY: openpty writes two fds; the name and termios pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &ws as *const libc::winsize as _,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created by openpty and are ours.
    let pair = unsafe {
        PtyPair {
            master: OwnedFd::from_raw_fd(m),
            slave: OwnedFd::from_raw_fd(s),
        }
    };
    super::fd::set_cloexec(m)?;
    super::fd::set_cloexec(s)?;
    Ok(pair)
}
