//! Which descriptors cross into the child: stdio, the session's channel,
//! (only when every stream is piped and the exec stage claims the terminal)
//! the pty slave, and the one descriptor a launcher passes on (the Linux
//! exec stage's policy), nothing else. Whatever the caller of the runner left open (a shell's
//! `exec 7>>file`, a socket, a socketpair end) and whatever another thread
//! opened without close-on-exec is marked close-on-exec in the child before
//! it execs, so it never reaches the workload, and never crosses a sandbox.
//!
//! Marked rather than closed: std reports a failed exec through a
//! close-on-exec pipe of its own in the child, which must stay open until
//! the exec.
//!
//! - Linux: `close_range(first, last, CLOSE_RANGE_CLOEXEC)` around the kept
//!   descriptors (5.11+); older kernels: `fcntl` over every number below
//!   the NOFILE limit.
//! - macOS: the open descriptors are listed with
//!   `proc_pidinfo(PROC_PIDLISTFDS)` into a buffer sized in the parent,
//!   then each is marked with `fcntl`.

use std::io;
use std::os::fd::RawFd;

/// The descriptors besides stdio that cross the exec (`None`: unused slot).
pub(crate) type Keep = [Option<RawFd>; 3];

/// State prepared in the parent for the child's marking (no allocation
/// after the fork).
pub(crate) struct Inherited {
    #[cfg(target_os = "macos")]
    fds: Vec<libc::proc_fdinfo>,
}

impl Inherited {
    /// Prepares the marking; on macOS sizes the descriptor list from the
    /// parent's table, with room for descriptors opened meanwhile.
    pub(crate) fn prepare() -> io::Result<Inherited> {
        #[cfg(target_os = "macos")]
        {
            // SAFETY: with a null buffer proc_pidinfo returns the size needed.
            let bytes = unsafe {
                libc::proc_pidinfo(
                    libc::getpid(),
                    libc::PROC_PIDLISTFDS,
                    0,
                    std::ptr::null_mut(),
                    0,
                )
            };
            if bytes < 0 {
                return Err(io::Error::last_os_error());
            }
            let entries = bytes as usize / std::mem::size_of::<libc::proc_fdinfo>() + 256;
            Ok(Inherited {
                fds: Vec::with_capacity(entries),
            })
        }
        #[cfg(not(target_os = "macos"))]
        {
            Ok(Inherited {})
        }
    }

    /// In the child: stdio (0-2) and `keep` stay open across exec, every
    /// other descriptor is closed by it. Async-signal-safe.
    pub(crate) fn close_at_exec(&mut self, keep: Keep) -> io::Result<()> {
        // stdio may be the slave itself (a caller with closed stdio): a dup2
        // onto the same number keeps close-on-exec, so clear it here.
        for fd in 0..3 {
            clear_cloexec(fd)?;
        }
        for fd in keep.into_iter().flatten() {
            clear_cloexec(fd)?;
        }
        self.mark_all_but(keep)
    }

    #[cfg(target_os = "linux")]
    fn mark_all_but(&mut self, keep: Keep) -> io::Result<()> {
        // The gaps between the kept numbers (above stdio), in order.
        let mut kept: [u32; 3] = keep.map(|k| k.filter(|&k| k > 2).map_or(u32::MAX, |k| k as u32));
        kept.sort_unstable();
        let mut first = 3u32;
        for k in kept.into_iter().chain([u32::MAX]) {
            if k > first {
                let last = if k == u32::MAX { u32::MAX } else { k - 1 };
                // SAFETY: close_range only changes flags in our fd table.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_close_range,
                        first,
                        last,
                        libc::CLOSE_RANGE_CLOEXEC,
                    )
                };
                if rc != 0 {
                    return mark_each_below_limit(keep);
                }
            }
            if k == u32::MAX {
                break;
            }
            first = first.max(k + 1);
        }
        Ok(())
    }

    #[cfg(target_os = "macos")]
    fn mark_all_but(&mut self, keep: Keep) -> io::Result<()> {
        let size = std::mem::size_of::<libc::proc_fdinfo>();
        let capacity = (self.fds.capacity() * size) as libc::c_int;
        // SAFETY: the buffer has `capacity` bytes of spare room; the kernel
        // writes whole entries into it and returns how many bytes it wrote.
        let bytes = unsafe {
            libc::proc_pidinfo(
                libc::getpid(),
                libc::PROC_PIDLISTFDS,
                0,
                self.fds.as_mut_ptr().cast(),
                capacity,
            )
        };
        if bytes < 0 || bytes >= capacity {
            // An error, or a table that grew past the buffer (the list may
            // be cut short): fall back to every number.
            return mark_each_below_limit(keep);
        }
        // SAFETY: the kernel initialised `bytes / size` entries.
        unsafe { self.fds.set_len(bytes as usize / size) };
        for info in &self.fds {
            if info.proc_fd > 2 && !keep.contains(&Some(info.proc_fd)) {
                set_cloexec(info.proc_fd);
            }
        }
        Ok(())
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    fn mark_all_but(&mut self, keep: Keep) -> io::Result<()> {
        mark_each_below_limit(keep)
    }
}

fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor number; EBADF is reported.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn set_cloexec(fd: RawFd) {
    // SAFETY: fcntl on a descriptor number; EBADF (not open) is fine.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// The slow fallback: every number from 3 below the soft NOFILE limit
/// (descriptors cannot be opened at or above it).
fn mark_each_below_limit(keep: Keep) -> io::Result<()> {
    // SAFETY: getrlimit fills a struct we own.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let last = lim.rlim_cur.min(1 << 20) as RawFd;
    for fd in 3..last {
        if !keep.contains(&Some(fd)) {
            set_cloexec(fd);
        }
    }
    Ok(())
}
