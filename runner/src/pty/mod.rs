//! The pty session: runs one command on a fresh pty and carries a terminal
//! through it.
//!
//! [`run`] guarantees, for every session:
//! - The child gets a new pty's slave as stdin, stdout, stderr and as its
//!   controlling terminal, in a new session and process group it leads. Our
//!   ends of the pty are close-on-exec, so no other child inherits them.
//! - The child starts with an empty signal mask and default dispositions for
//!   SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGPIPE (and QUIT, TSTP, TTIN, TTOU,
//!   CHLD), whatever the calling thread had.
//! - With [`RaiseNofile::SoftToHard`] the child's soft RLIMIT_NOFILE equals
//!   its hard limit, capped by fs.nr_open (Linux) / kern.maxfilesperproc
//!   (macOS).
//! - Every byte the child writes before the last slave fd closes is
//!   delivered (the master is read to EOF/EIO).
//! - On timeout (or, with [`SignalPolicy::TerminateSession`], on SIGINT,
//!   SIGTERM or SIGHUP to this process) the child's whole process group gets
//!   SIGTERM, then SIGKILL after `grace`.
//! - When the child exits, processes still holding the slave get `grace` to
//!   let go, then the group is sent SIGTERM and SIGKILL: no process of the
//!   group outlives the session. Processes that left the group (`setsid`)
//!   and keep the slave open stop being read 200 ms later; they cannot hang
//!   the session.
//! - The session runs on the calling thread: it starts no thread of its own
//!   (except, where pidfds are missing, one that watches the child's exit,
//!   joined before [`run`] returns), and every fd it opened is closed.
//!   Signals reach it through its own pipe (see `signals`): no process-wide
//!   thread either.
//! - In [`Input::Terminal`] mode with a terminal on stdin: raw mode for the
//!   session and the exact original termios afterwards (also after a panic,
//!   see `raw`), initial size from the outer terminal, and every SIGWINCH
//!   forwarded to the inner pty.

mod bridge;
mod fd;
mod inherited;
mod open;
mod raw;
mod reaper;
mod signals;
mod spawn;
mod supervise;
mod winsize;

pub(crate) use fd::{cloexec_pipe, set_nonblocking};
pub use reaper::adopt_orphans;
pub use winsize::Winsize;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::channel::{self, VERDICT_FD_ENV};
use crate::launch::{Backend, CommandSpec, Ctty, LaunchError};
use supervise::{ExitWatch, SignalWake, Supervisor, Until, Wake};

/// In [`Input::Terminal`] mode, how much of the output [`SessionOutcome::output`]
/// keeps (enough to classify a launcher's own error message).
pub const TERMINAL_OUTPUT_HEAD: usize = 8 * 1024;

/// How long processes outside the group may keep the slave open after the
/// group was killed before the session stops reading.
const DRAIN_AFTER_KILL: Duration = Duration::from_millis(200);

/// Where the session's input comes from and its output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Input {
    /// Bridge our stdin to the child and the child's output to our stdout;
    /// raw mode, size inheritance and SIGWINCH forwarding when stdin is a
    /// terminal (no-ops otherwise). When stdin ends, the child is sent the
    /// end-of-file character (^D).
    Terminal,
    /// Nothing is written to the child's terminal; its output is captured
    /// byte-exact (output post-processing is off on the slave, so `\n` stays
    /// `\n`). Our own terminal is never touched.
    #[default]
    Detached,
}

/// Whether the child's soft NOFILE limit is raised before exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RaiseNofile {
    /// The child inherits our limits.
    #[default]
    Keep,
    /// Soft raised to hard, capped by the kernel's per-process ceiling.
    SoftToHard,
}

/// What SIGINT, SIGTERM and SIGHUP to this process do during the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignalPolicy {
    /// Left alone: whatever disposition the process has applies.
    #[default]
    Untouched,
    /// Caught for the session's length: the child's group is terminated
    /// (SIGTERM, grace, SIGKILL), the session returns normally with
    /// [`SessionOutcome::interrupted`] set, and the terminal is restored. A
    /// CLI then exits with the child's status. Dispositions are put back
    /// when the last such session ends.
    TerminateSession,
}

/// How to run a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Ends the session (group SIGTERM, grace, SIGKILL) after this long.
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL, and how long leftovers may hold the
    /// slave after the child exited.
    pub grace: Duration,
    pub input: Input,
    /// The pty size when there is no outer terminal size to inherit
    /// (Detached mode, or stdin not a terminal / of zero size); 80x24 if
    /// `None`.
    pub winsize: Option<Winsize>,
    pub raise_nofile: RaiseNofile,
    /// Added to the inherited environment.
    pub env: Vec<(OsString, OsString)>,
    pub signals: SignalPolicy,
    /// Whether a channel (see [`crate::channel`]) reaches the child, and
    /// for what.
    pub channel: ChannelUse,
    /// Who takes the pty as controlling terminal.
    pub ctty: Ctty,
}

/// What the session's channel carries, if the session has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelUse {
    pub status: StatusChannel,
    pub verdict: VerdictChannel,
}

/// Whether an exec stage in the command reports its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusChannel {
    /// No stage: a failed exec is the spawn's error.
    #[default]
    Off,
    /// The stage writes its status; the descriptor is named in
    /// [`channel::STATUS_FD_ENV`].
    FromStage,
}

/// Whether the workload (a probe) gets the channel for its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerdictChannel {
    /// The workload never sees the channel.
    #[default]
    Off,
    /// Named in [`VERDICT_FD_ENV`] and kept open for the workload.
    ToWorkload,
}

impl ChannelUse {
    fn wanted(self) -> bool {
        self != ChannelUse::default()
    }
}

impl Default for SessionOptions {
    /// Detached, no timeout, 2 s grace, limits and signals untouched.
    fn default() -> Self {
        SessionOptions {
            timeout: None,
            grace: Duration::from_secs(2),
            input: Input::Detached,
            winsize: None,
            raise_nofile: RaiseNofile::Keep,
            env: Vec::new(),
            signals: SignalPolicy::Untouched,
            channel: ChannelUse::default(),
            ctty: Ctty::Spawned,
        }
    }
}

impl SessionOptions {
    /// Interactive: bridge the terminal, terminate the session on SIGINT,
    /// SIGTERM, SIGHUP.
    pub fn terminal() -> Self {
        SessionOptions {
            input: Input::Terminal,
            signals: SignalPolicy::TerminateSession,
            ..Self::default()
        }
    }

    /// Captured output, nothing on our terminal.
    pub fn detached() -> Self {
        Self::default()
    }
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Exited(i32),
    Signaled(i32),
}

/// The result of a finished session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    /// The exit code, or 128 + the signal that killed the child.
    pub code: i32,
    pub exit: ExitKind,
    /// The timeout fired (the child was terminated by us).
    pub timed_out: bool,
    /// A termination signal to this process ended the session
    /// ([`SignalPolicy::TerminateSession`]).
    pub interrupted: Option<i32>,
    /// Detached: everything the child wrote. Terminal: the first
    /// [`TERMINAL_OUTPUT_HEAD`] bytes (the rest went to stdout only).
    pub output: Vec<u8>,
    pub duration: Duration,
    /// The child's pid (also its process group and session id).
    pub pid: u32,
    /// What arrived on the session's channel (empty without one).
    pub channel: channel::Report,
}

/// Why a session could not run.
#[derive(Debug)]
pub enum RunError {
    /// Opening or configuring the pty failed.
    Pty(io::Error),
    /// Our stdin could not be put in raw mode.
    Terminal(io::Error),
    /// The command could not be started.
    Spawn { program: PathBuf, source: io::Error },
    /// The launcher could not prepare the sandboxed command.
    Launch {
        backend: Backend,
        error: LaunchError,
    },
    /// Threads, pipes or signal plumbing failed.
    Io(io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Pty(e) => write!(f, "cannot open a pty: {e}"),
            RunError::Terminal(e) => write!(f, "cannot put the terminal in raw mode: {e}"),
            RunError::Spawn { program, source } => {
                write!(f, "cannot start {}: {source}", program.display())
            }
            RunError::Launch { backend, error } => write!(f, "backend {backend}: {error}"),
            RunError::Io(e) => write!(f, "session plumbing failed: {e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Pty(e) | RunError::Terminal(e) | RunError::Io(e) => Some(e),
            RunError::Spawn { source, .. } => Some(source),
            RunError::Launch { error, .. } => Some(error),
        }
    }
}

/// Runs `cmd` on a fresh pty as described in the module docs and returns how
/// it ended. Blocks until the session is over.
pub fn run(cmd: &CommandSpec, opts: &SessionOptions) -> Result<SessionOutcome, RunError> {
    let start = Instant::now();
    let terminal = opts.input == Input::Terminal;
    let outer_tty = terminal && raw::stdin_is_tty();
    let inherited = if outer_tty {
        winsize::read_raw(fd::stdin())
    } else {
        None
    };
    let size = opts.winsize.unwrap_or(Winsize::DEFAULT);

    let pair = open::open(size).map_err(RunError::Pty)?;
    if let Some(ws) = inherited {
        winsize::write_raw(pair.master.as_fd(), &ws).map_err(RunError::Pty)?;
    }
    if !terminal {
        raw::disable_output_processing(std::os::fd::AsRawFd::as_raw_fd(&pair.slave))
            .map_err(RunError::Pty)?;
    }
    fd::set_nonblocking(pair.master.as_fd()).map_err(RunError::Pty)?;
    let nofile = match opts.raise_nofile {
        RaiseNofile::Keep => None,
        RaiseNofile::SoftToHard => spawn::raised_nofile().map_err(RunError::Io)?,
    };
    // Raw before the child starts, so it never sees a cooked outer terminal.
    let raw_guard = if terminal {
        raw::RawGuard::engage().map_err(RunError::Terminal)?
    } else {
        None
    };

    let (signals_read, signals_write) = fd::cloexec_pipe().map_err(RunError::Io)?;
    fd::set_nonblocking(signals_write.as_fd()).map_err(RunError::Io)?;
    let registration = signals::register(
        signals::Subscription {
            resize: outer_tty,
            termination: opts.signals == SignalPolicy::TerminateSession,
        },
        signals_write.as_fd(),
    )
    .map_err(RunError::Io)?;

    let pipe = if opts.channel.wanted() {
        Some(channel::Pipe::open().map_err(RunError::Io)?)
    } else {
        None
    };
    let mut env = opts.env.clone();
    if let Some(p) = &pipe {
        let fd = OsString::from(p.child_fd().to_string());
        if opts.channel.status == StatusChannel::FromStage {
            env.push((channel::STATUS_FD_ENV.into(), fd.clone()));
        }
        if opts.channel.verdict == VerdictChannel::ToWorkload {
            env.push((VERDICT_FD_ENV.into(), fd));
        }
    }
    let setup = spawn::ChildSetup {
        cmd,
        env: &env,
        slave: &pair.slave,
        nofile,
        channel: pipe.as_ref().map(channel::Pipe::child_fd),
        ctty: opts.ctty,
    };
    let (mut child, _registered) =
        reaper::Registered::spawn(|| spawn::spawn(&setup), std::process::Child::id).map_err(
            |source| RunError::Spawn {
                program: cmd.program.clone(),
                source,
            },
        )?;
    // Only the child may hold the slave and the channel's write end now, or
    // EIO (and the channel's end) never comes.
    drop(pair.slave);
    let channel_read = pipe.map(|p| p.read);
    let pid = child.id();
    let exit = match ExitWatch::start(pid as libc::pid_t) {
        Ok(w) => w,
        Err(e) => {
            // SAFETY: killpg on the child's group, pinned by the unreaped child.
            unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
            let _ = child.wait();
            return Err(RunError::Io(e));
        }
    };
    let mut sup = Supervisor {
        pgid: pid as libc::pid_t,
        master: pair.master.as_fd(),
        stdin: terminal.then(|| (fd::stdin(), bridge::Input::new())),
        output: bridge::Output::new(if terminal {
            bridge::Sink::Stdout {
                head: TERMINAL_OUTPUT_HEAD,
            }
        } else {
            bridge::Sink::Capture
        }),
        exit,
        signals: Some(signals_read),
        resize_from: outer_tty.then(fd::stdin),
        exited: false,
        output_closed: false,
        interrupted: None,
    };

    let mut timed_out = false;
    let deadline = opts.timeout.map(|t| start + t);
    match sup.wait_until(Until::ChildExited, deadline, SignalWake::Return) {
        Wake::Done => {
            // Leftovers that still hold the slave get `grace` to let go.
            sup.wait_until(
                Until::OutputClosed,
                Some(Instant::now() + opts.grace),
                SignalWake::Continue,
            );
        }
        Wake::Deadline => {
            timed_out = true;
            sup.terminate(opts.grace);
        }
        Wake::Signal => sup.terminate(opts.grace),
    }
    drop(registration);
    // The child is a zombie: its group id is pinned, so this reaches only
    // leftovers of this session.
    sup.signal_group(libc::SIGTERM);
    sup.signal_group(libc::SIGKILL);
    // Descendants that left the group (setsid) were adopted by us if we are
    // a subreaper: they end with the session too.
    reaper::kill_adopted();
    sup.wait_until(
        Until::OutputClosed,
        Some(Instant::now() + DRAIN_AFTER_KILL),
        SignalWake::Continue,
    );
    // Output still queued for a slow stdout gets `grace`, then is dropped.
    sup.finish_output(Instant::now() + opts.grace);
    drop(signals_write);
    let Supervisor {
        output,
        interrupted,
        ..
    } = sup;
    let output = output.into_kept();
    let status = child.wait().map_err(RunError::Io)?;
    drop(raw_guard);
    let channel = channel_read
        .as_ref()
        .map(channel::drain)
        .unwrap_or_default();

    let exit = match (status.code(), status.signal()) {
        (Some(c), _) => ExitKind::Exited(c),
        (None, Some(s)) => ExitKind::Signaled(s),
        (None, None) => ExitKind::Exited(-1),
    };
    let code = match exit {
        ExitKind::Exited(c) => c,
        ExitKind::Signaled(s) => 128 + s,
    };
    Ok(SessionOutcome {
        code,
        exit,
        timed_out,
        interrupted,
        output,
        duration: start.elapsed(),
        pid,
        channel,
    })
}
