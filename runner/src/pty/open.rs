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
    use nix::fcntl::OFlag;
    use std::os::fd::{FromRawFd, IntoRawFd};
    use std::os::unix::fs::OpenOptionsExt;

    let pty = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    nix::pty::grantpt(&pty)?;
    nix::pty::unlockpt(&pty)?;
    let name = nix::pty::ptsname_r(&pty)?;
    // SAFETY: into_raw_fd gives up the PtyMaster's ownership of the fd,
    // which the OwnedFd takes over; nothing else holds it.
    let master = unsafe { OwnedFd::from_raw_fd(pty.into_raw_fd()) };
    // std opens close-on-exec.
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)?;
    super::winsize::write_raw(std::os::fd::AsFd::as_fd(&master), &size.to_raw())?;
    Ok(PtyPair {
        master,
        slave: slave.into(),
    })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn open(size: Winsize) -> io::Result<PtyPair> {
    use std::os::fd::AsRawFd;

    let _no_fork = FORK_LOCK.write().unwrap_or_else(|p| p.into_inner());
    let pair = nix::pty::openpty(Some(&size.to_raw()), None)?;
    super::fd::set_cloexec(pair.master.as_raw_fd())?;
    super::fd::set_cloexec(pair.slave.as_raw_fd())?;
    Ok(PtyPair {
        master: pair.master,
        slave: pair.slave,
    })
}
