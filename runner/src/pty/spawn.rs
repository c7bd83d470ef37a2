//! Starting the child on the pty slave: new session, the slave or a
//! session pipe as each of its stdio ([`ChildStdio`]), the slave as its
//! controlling terminal (unless an exec stage takes it later, see [`Ctty`]),
//! every other inherited descriptor closed at exec except the session's
//! channel, a clean signal state, optionally a raised NOFILE limit.
//!
//! One path on every platform: std's `Command` with a `pre_exec` hook, so
//! the code macOS runs is the code Linux tests. Everything in `pre_exec` is
//! a raw async-signal-safe syscall on memory prepared before the fork (the
//! child of a multi-threaded process may not allocate or lock).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use crate::launch::{CommandSpec, Ctty};

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

/// Environment variable naming the slave's descriptor number when the exec
/// stage must take it as controlling terminal and none of stdio is the pty
/// (every stream piped). Only then does the slave cross the exec.
pub const CTTY_FD_ENV: &str = "BELTCHECK_CTTY_FD";

pub(crate) struct ChildSetup<'a> {
    pub cmd: &'a CommandSpec,
    pub env: &'a [(OsString, OsString)],
    /// Always the controlling terminal, whatever `stdio` says.
    pub slave: &'a OwnedFd,
    /// The child's stdin, stdout, stderr.
    pub stdio: [ChildStdio<'a>; 3],
    /// The soft RLIMIT_NOFILE to set in the child, if any.
    pub nofile: Option<libc::rlimit>,
    /// The channel's write end: the one descriptor besides stdio that the
    /// child keeps across exec.
    pub channel: Option<RawFd>,
    /// A descriptor the launcher passes on (the stage's policy).
    pub passed: Option<RawFd>,
    pub ctty: Ctty,
}

/// Whether the slave must cross the exec on a descriptor of its own: the
/// stage takes it as controlling terminal, and no stdio carries it.
pub(crate) fn slave_crosses_exec(ctty: Ctty, stdio: &[ChildStdio<'_>; 3]) -> bool {
    ctty == Ctty::Stage && !stdio.iter().any(|s| matches!(s, ChildStdio::Pty))
}

/// Starts the child; it is reaped only through the returned `Child`.
pub(crate) fn spawn(setup: &ChildSetup<'_>) -> io::Result<Child> {
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
    let ctty = setup.ctty;
    // Still open in the forked child: close-on-exec acts only at the exec.
    let slave = setup.slave.as_raw_fd();
    let keep = [
        setup.channel,
        slave_crosses_exec(ctty, &setup.stdio).then_some(slave),
        setup.passed,
    ];
    let mut inherited = super::inherited::Inherited::prepare()?;
    // SAFETY: the closure makes only async-signal-safe syscalls on memory
    // allocated before the fork, and builds io::Error from errno (no
    // allocation).
    unsafe {
        command.pre_exec(move || {
            inherited.close_at_exec(keep)?;
            child_setup(slave, ctty, nofile)
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _no_cloexec_race = super::open::FORK_LOCK
        .read()
        .unwrap_or_else(|p| p.into_inner());
    command.spawn()
}

/// Runs in the child, after its stdio was placed on fds 0, 1, 2 (`slave` is
/// the slave's own descriptor, open until the exec): a new session (taking
/// the slave as controlling terminal unless the exec stage will, see
/// [`Ctty`]), default signal dispositions, an empty mask.
fn child_setup(slave: RawFd, ctty: Ctty, nofile: Option<libc::rlimit>) -> io::Result<()> {
    // SAFETY: setsid, ioctl, sigaction, sigprocmask, setrlimit are
    // async-signal-safe and operate on this (single-threaded) child only.
    unsafe {
        if libc::setsid() < 0 {
            return Err(io::Error::last_os_error());
        }
        if ctty == Ctty::Spawned && libc::ioctl(slave, libc::TIOCSCTTY as _, 0) < 0 {
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
/// stay ignored, as exec would keep them): no handler of ours (or of a
/// library we link) may run in the child between fork and exec, where it
/// would write to the session's signal pipe. Signals the C library reserves
/// are skipped.
///
/// # Safety
/// Only sigaction calls; async-signal-safe.
unsafe fn reset_caught_signals(dfl: &libc::sigaction) {
    #[cfg(target_os = "linux")]
    let last = libc::SIGRTMAX();
    #[cfg(not(target_os = "linux"))]
    let last = 31;
    for sig in 1..=last {
        // SAFETY: an all-zero sigaction is valid storage for the query.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a query (null new action) into `old`, which we own.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            continue;
        }
        if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            // SAFETY: `dfl` is a valid sigaction (the caller's contract);
            // sigaction is async-signal-safe.
            unsafe { libc::sigaction(sig, dfl, std::ptr::null_mut()) };
        }
    }
}

/// The NOFILE limit to give the child: soft raised to hard, capped by the
/// kernel's per-process ceiling (fs.nr_open / kern.maxfilesperproc). `None`
/// when the soft limit already is that high. Computed in the parent.
pub(crate) fn raised_nofile() -> io::Result<Option<libc::rlimit>> {
    // SAFETY: getrlimit fills the struct.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
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
