//! Starting the child on the pty slave: new session, the slave as its
//! controlling terminal, the slave or a session pipe as each of its stdio
//! ([`ChildStdio`]), a clean signal state, optionally a raised NOFILE limit. Everything in `pre_exec` is a raw async-signal-safe syscall
//! (the child of a multi-threaded process may not allocate or lock).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
#[cfg(not(target_os = "linux"))]
use std::os::unix::process::CommandExt;
use std::process::ExitStatus;
#[cfg(not(target_os = "linux"))]
use std::process::{Child, Command, Stdio};

use crate::launch::CommandSpec;

/// Signals whose disposition the child gets back at default, whatever we
/// (or our parent, e.g. `nohup`) did with them.
const RESET_TO_DEFAULT: [libc::c_int; 10] = [
    libc::SIGWINCH,
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGPIPE,
    libc::SIGQUIT,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGCHLD,
];

/// What the child gets as one of its fds 0, 1, 2 (decided by the session,
/// see `stdio`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ChildStdio<'a> {
    /// The pty slave.
    Pty,
    /// The child's end of a pipe of the session's (above fd 2,
    /// close-on-exec: only its copy on 0-2 crosses the exec).
    Pipe(BorrowedFd<'a>),
}

pub(crate) struct ChildSetup<'a> {
    pub cmd: &'a CommandSpec,
    pub env: &'a [(OsString, OsString)],
    /// Always the controlling terminal, whatever `stdio` says.
    pub slave: &'a OwnedFd,
    /// The child's stdin, stdout, stderr.
    pub stdio: [ChildStdio<'a>; 3],
    /// The soft RLIMIT_NOFILE to set in the child, if any.
    pub nofile: Option<libc::rlimit>,
}

/// The started child; reaped only by [`Spawned::wait`].
pub(crate) struct Spawned {
    pid: libc::pid_t,
    #[cfg(not(target_os = "linux"))]
    child: Child,
}

impl Spawned {
    pub(crate) fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Reaps the child (blocking until it exits).
    pub(crate) fn wait(&mut self) -> io::Result<ExitStatus> {
        #[cfg(not(target_os = "linux"))]
        {
            self.child.wait()
        }
        #[cfg(target_os = "linux")]
        {
            reap(self.pid)
        }
    }
}

/// Linux: the child is started with `clone(CLONE_VM | CLONE_VFORK)`, the
/// way posix_spawn does it, instead of std's fork. A fork copies the
/// harness's page tables only for exec to throw them away, and every page
/// the parent then writes takes a copy-on-write fault; in a matrix that is
/// paid once per cell. posix_spawn itself cannot be used: it has no step for
/// TIOCSCTTY or setrlimit. The child runs on its own stack in our memory
/// until it execs, doing only raw syscalls ([`child_setup`]); everything it
/// needs (paths, argv, envp) is prepared here first.
#[cfg(target_os = "linux")]
pub(crate) fn spawn(setup: &ChildSetup<'_>) -> io::Result<Spawned> {
    let image = super::exec::Image::prepare(setup)?;
    let slave = setup.slave.as_raw_fd();
    let sources = setup.stdio.map(|s| match s {
        ChildStdio::Pty => slave,
        ChildStdio::Pipe(fd) => fd.as_raw_fd(),
    });
    let pid = super::vfork::run(|| {
        // SAFETY: dup2/fcntl onto 0, 1, 2 in the child; async-signal-safe.
        unsafe {
            for (target, source) in (0..3).zip(sources) {
                // A harness started with closed stdio may hold the slave on
                // 0-2 itself; dup2 onto itself keeps close-on-exec, so clear it.
                let rc = if source == target {
                    libc::fcntl(target, libc::F_SETFD, 0)
                } else {
                    libc::dup2(source, target)
                };
                if rc < 0 {
                    return super::exec::last_errno();
                }
            }
        }
        if let Err(e) = child_setup(slave, setup.nofile) {
            return e.raw_os_error().unwrap_or(libc::EINVAL);
        }
        image.exec()
    })?;
    Ok(Spawned { pid })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn spawn(setup: &ChildSetup<'_>) -> io::Result<Spawned> {
    let stdio = |s: ChildStdio<'_>| -> io::Result<Stdio> {
        Ok(Stdio::from(match s {
            ChildStdio::Pty => setup.slave.try_clone()?,
            ChildStdio::Pipe(fd) => fd.try_clone_to_owned()?,
        }))
    };
    let [stdin, stdout, stderr] = setup.stdio;
    let mut command = Command::new(&setup.cmd.program);
    command
        .args(&setup.cmd.args)
        .envs(setup.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdio(stdin)?)
        .stdout(stdio(stdout)?)
        .stderr(stdio(stderr)?);
    let nofile = setup.nofile;
    // Still open in the forked child: close-on-exec acts only at the exec.
    let slave = setup.slave.as_raw_fd();
    // SAFETY: the closure only makes async-signal-safe syscalls and builds
    // io::Error from errno (no allocation).
    unsafe {
        command.pre_exec(move || child_setup(slave, nofile));
    }
    let _no_cloexec_race = super::open::FORK_LOCK
        .read()
        .unwrap_or_else(|p| p.into_inner());
    let child = command.spawn()?;
    Ok(Spawned {
        pid: child.id() as libc::pid_t,
        child,
    })
}

#[cfg(target_os = "linux")]
fn reap(pid: libc::pid_t) -> io::Result<ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Runs in the child, after its stdio was placed on fds 0, 1, 2; `slave` is
/// the pty slave's fd in the child (open until the exec).
fn child_setup(slave: libc::c_int, nofile: Option<libc::rlimit>) -> io::Result<()> {
    // SAFETY: setsid, ioctl, sigaction, sigprocmask, setrlimit are
    // async-signal-safe and operate on this (single-threaded) child only.
    unsafe {
        if libc::setsid() < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::ioctl(slave, libc::TIOCSCTTY as _, 0) < 0 {
            return Err(io::Error::last_os_error());
        }
        // Dispositions first, mask second: a signal pending in the mask must
        // not reach a handler of ours in the child.
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut dfl.sa_mask);
        for sig in RESET_TO_DEFAULT {
            if libc::sigaction(sig, &dfl, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        reset_caught_signals(&dfl);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        if let Some(limit) = nofile {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Every other signal with a handler goes back to default too (ignored ones
/// stay ignored, as exec would keep them): on Linux the child runs in our
/// memory until exec, and no handler of ours (or of a library we link) may
/// run there. Signals the C library reserves are skipped.
///
/// # Safety
/// Only sigaction calls; async-signal-safe.
unsafe fn reset_caught_signals(dfl: &libc::sigaction) {
    #[cfg(target_os = "linux")]
    let last = libc::SIGRTMAX();
    #[cfg(not(target_os = "linux"))]
    let last = 31;
    for sig in 1..=last {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
            continue;
        }
        if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            libc::sigaction(sig, dfl, std::ptr::null_mut());
        }
    }
}

/// The NOFILE limit to give the child: soft raised to hard, capped by the
/// kernel's per-process ceiling (fs.nr_open / kern.maxfilesperproc). `None`
/// when the soft limit already is that high. Computed in the parent.
pub(crate) fn raised_nofile() -> io::Result<Option<libc::rlimit>> {
    // SAFETY: getrlimit fills the struct.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_max <= lim.rlim_cur {
        // Nothing to raise: no need to ask the kernel for its ceiling.
        return Ok(None);
    }
    let mut target = lim.rlim_max;
    // Read once per process: the ceiling is a boot-time sysctl, and a matrix
    // asks for it on every cell.
    static CAP: std::sync::OnceLock<Option<libc::rlim_t>> = std::sync::OnceLock::new();
    if let Some(cap) = *CAP.get_or_init(kernel_nofile_cap) {
        target = target.min(cap);
    }
    if target <= lim.rlim_cur {
        return Ok(None);
    }
    Ok(Some(libc::rlimit {
        rlim_cur: target,
        rlim_max: lim.rlim_max,
    }))
}

#[cfg(target_os = "linux")]
fn kernel_nofile_cap() -> Option<libc::rlim_t> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(target_os = "macos")]
fn kernel_nofile_cap() -> Option<libc::rlim_t> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>();
    // SAFETY: the name is NUL-terminated; value/len describe an int.
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.maxfilesperproc".as_ptr(),
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0 && value > 0).then_some(value as libc::rlim_t)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn kernel_nofile_cap() -> Option<libc::rlim_t> {
    None
}
