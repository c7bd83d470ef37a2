//! The pty session: runs one command on a fresh pty and carries a terminal
//! through it.
//!
//! [`run`] guarantees, for every session:
//! - The child gets a new pty's slave as its controlling terminal, in a new
//!   session and process group it leads. In Detached mode the slave is also
//!   its stdin, stdout and stderr. In Terminal mode each of those is the
//!   slave when ours is a terminal, and otherwise a pipe of the session's
//!   own, relayed byte-exact to or from ours (see `stdio`): the child never
//!   gets our descriptors. Our ends of the pty and the pipes are
//!   close-on-exec, so no other child inherits them.
//! - The child starts with an empty signal mask and default dispositions for
//!   SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGPIPE (and QUIT, TSTP, TTIN, TTOU,
//!   CHLD), whatever the calling thread had.
//! - With [`RaiseNofile::SoftToHard`] the child's soft RLIMIT_NOFILE equals
//!   its hard limit, capped by fs.nr_open (Linux) / kern.maxfilesperproc
//!   (macOS).
//! - Every byte the child writes before the last slave fd and pipe write end
//!   close is delivered (each source is read to EOF/EIO).
//! - On timeout (or, with [`SignalPolicy::TerminateSession`], on SIGINT,
//!   SIGTERM or SIGHUP to this process, or when writing our stdout or
//!   stderr fails) the child's whole process group gets SIGTERM, then
//!   SIGKILL after `grace`.
//! - When the child exits, processes still holding the slave or a pipe get
//!   `grace` to let go, then the group is sent SIGTERM and SIGKILL: no
//!   process of the group outlives the session. Processes that left the
//!   group (`setsid`) and keep them open stop being read 200 ms later; they
//!   cannot hang the session.
//! - The session runs on the calling thread: it starts no thread of its own
//!   (except, where pidfds are missing, one that watches the child's exit,
//!   joined before [`run`] returns), and every fd it opened is closed.
//!   Signals reach it through its own pipe (see `signals`): no process-wide
//!   thread either. Writing a pipe whose reader left never raises SIGPIPE
//!   in this process.
//! - In [`Input::Terminal`] mode: the end of our stdin reaches the child (a
//!   pipe is closed; a terminal's end is sent as ^D). With a terminal on
//!   stdin: raw mode for the session and the exact original termios
//!   afterwards (also after a panic, see `raw`), and typed input held until
//!   the child's first output byte, [`READY_GATE`] at most. With a terminal
//!   on any of stdin, stdout, stderr: its size as the initial size, and
//!   every SIGWINCH forwarded to the inner pty.

mod bridge;
mod fd;
mod inherited;
mod lookup;
mod open;
mod raw;
mod reaper;
mod signals;
mod spawn;
mod stdio;
mod supervise;
mod winsize;

pub use bridge::READY_GATE;
pub(crate) use fd::{cloexec_pipe, set_nonblocking};
pub use lookup::locate as locate_program;
pub use reaper::adopt_orphans;
pub use spawn::CTTY_FD_ENV;
pub use stdio::Stream;
pub use winsize::Winsize;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::channel::{self, VERDICT_FD_ENV};
use crate::launch::{Backend, CommandSpec, Ctty, LaunchError};
use bridge::{Gate, Head, Input as Feed, Output, Sink, Target};
use stdio::{Direction, Plan, Route, StreamPipe};
use supervise::{ExitWatch, Flow, SignalWake, Supervisor, Until, Wake};

/// In [`Input::Terminal`] mode, how much of the output [`SessionOutcome::output`]
/// keeps (enough to classify a launcher's own error message).
pub const TERMINAL_OUTPUT_HEAD: usize = 8 * 1024;

/// How long processes outside the group may keep the slave open after the
/// group was killed before the session stops reading.
const DRAIN_AFTER_KILL: Duration = Duration::from_millis(200);

/// Where the session's input comes from and its output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Input {
    /// Carry our stdin, stdout and stderr to the child: a terminal through
    /// the pty (raw mode while stdin is one, size inheritance, SIGWINCH
    /// forwarding), anything else through a pipe, byte-exact. The end of
    /// our stdin reaches the child.
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
    /// One more descriptor the child keeps across exec, at its own number
    /// (the exec stage's policy, see [`crate::launch::Prepared::pass_fd`]).
    pub pass_fd: Option<Arc<OwnedFd>>,
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
            pass_fd: None,
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
    /// Writing our stdout or stderr failed (Terminal mode), which ended the
    /// session.
    pub output_failed: Option<OutputFailure>,
    /// Detached: everything the child wrote. Terminal: the first
    /// [`TERMINAL_OUTPUT_HEAD`] bytes over all its streams in arrival order
    /// (the rest went to our stdout and stderr only).
    pub output: Vec<u8>,
    pub duration: Duration,
    /// The child's pid (also its process group and session id).
    pub pid: u32,
    /// What arrived on the session's channel (empty without one).
    pub channel: channel::Report,
}

/// A write to one of our output streams that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFailure {
    pub stream: Stream,
    /// The write's errno (EPIPE: the reader went away).
    pub errno: i32,
}

impl fmt::Display for OutputFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = io::Error::from_raw_os_error(self.errno);
        write!(f, "cannot write to {}: {error}", self.stream.name())
    }
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
    let plan = Plan::for_input(opts.input);
    let outer = terminal.then(outer_terminal).flatten();
    let inherited = outer.and_then(winsize::read_raw);
    let size = opts.winsize.unwrap_or(Winsize::DEFAULT);

    let pair = open::open(size).map_err(RunError::Pty)?;
    let master = stdio::above_stdio(pair.master).map_err(RunError::Pty)?;
    let slave = stdio::above_stdio(pair.slave).map_err(RunError::Pty)?;
    if let Some(ws) = inherited {
        winsize::write_raw(master.as_fd(), &ws).map_err(RunError::Pty)?;
    }
    if !(terminal && plan.feeds_a_raw_terminal()) {
        raw::disable_output_processing(slave.as_fd()).map_err(RunError::Pty)?;
    }
    fd::set_nonblocking(master.as_fd()).map_err(RunError::Pty)?;
    let pipes = Pipes::for_plan(&plan).map_err(RunError::Io)?;
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
            resize: outer.is_some(),
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
    let stdio = pipes.child_stdio();
    if spawn::slave_crosses_exec(opts.ctty, &stdio) {
        let fd = OsString::from(slave.as_raw_fd().to_string());
        env.push((spawn::CTTY_FD_ENV.into(), fd));
    }
    let setup = spawn::ChildSetup {
        cmd,
        env: &env,
        slave: &slave,
        stdio,
        nofile,
        channel: pipe.as_ref().map(channel::Pipe::child_fd),
        passed: opts.pass_fd.as_ref().map(|fd| fd.as_raw_fd()),
        ctty: opts.ctty,
    };
    let (mut child, _registered) =
        reaper::Registered::spawn(|| spawn::spawn(&setup), std::process::Child::id).map_err(
            |source| RunError::Spawn {
                program: cmd.program.clone(),
                source,
            },
        )?;
    // Only the child may hold the slave, the pipes' child ends and the
    // channel's write end now, or their ends never come; unless no stdio is
    // on the pty: the slave is then held here, so `/dev/tty` stays usable
    // and the master open.
    let held_slave = (!plan.child_holds_pty()).then_some(slave);
    let Pipes {
        stdin: stdin_pipe,
        stdout: stdout_pipe,
        stderr: stderr_pipe,
    } = pipes;
    let stdin_pipe = stdin_pipe.map(|p| p.ours);
    let (stdout_pipe, stderr_pipe) = (stdout_pipe.map(|p| p.ours), stderr_pipe.map(|p| p.ours));
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
    let (flows, head) = if terminal {
        let mut flows = vec![Flow::new(
            master.as_fd(),
            Output::new(Sink::Stream(plan.pty_sink())),
            held_slave.is_none(),
        )];
        for (pipe, stream) in [
            (&stdout_pipe, Stream::Stdout),
            (&stderr_pipe, Stream::Stderr),
        ] {
            if let Some(p) = pipe {
                flows.push(Flow::new(
                    p.as_fd(),
                    Output::new(Sink::Stream(stream)),
                    true,
                ));
            }
        }
        (flows, Head::new(TERMINAL_OUTPUT_HEAD))
    } else {
        let flow = Flow::new(master.as_fd(), Output::new(Sink::Capture), true);
        (vec![flow], Head::new(usize::MAX))
    };
    let input = terminal.then(|| match stdin_pipe {
        Some(pipe) => Feed::new(fd::stdin(), Target::Pipe(Some(pipe)), Gate::Open),
        None => Feed::new(
            fd::stdin(),
            Target::Pty(master.as_fd()),
            Gate::HeldUntil(Instant::now() + READY_GATE),
        ),
    });
    let mut sup = Supervisor {
        pgid: pid as libc::pid_t,
        master: master.as_fd(),
        flows,
        head,
        input,
        exit,
        signals: Some(signals_read),
        resize_from: outer,
        exited: false,
        interrupted: None,
        output_failed: None,
    };

    let mut timed_out = false;
    let deadline = opts.timeout.map(|t| start + t);
    match sup.wait_until(Until::ChildExited, deadline, SignalWake::Return) {
        Wake::Done => {
            // Leftovers that still hold the slave or a pipe get `grace` to
            // let go.
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
        Wake::Signal | Wake::OutputFailed => sup.terminate(opts.grace),
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
        head,
        interrupted,
        output_failed,
        ..
    } = sup;
    let output = head.into_bytes();
    drop(held_slave);
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
        output_failed,
        output,
        duration: start.elapsed(),
        pid,
        channel,
    })
}

/// The first of our stdin, stdout, stderr that is a terminal: where the
/// session reads the outer window size.
fn outer_terminal() -> Option<BorrowedFd<'static>> {
    [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        // SAFETY: isatty has no preconditions.
        .find(|&n| unsafe { libc::isatty(n) } == 1)
        // SAFETY: fds 0-2 stay open for the life of the process.
        .map(|n| unsafe { BorrowedFd::borrow_raw(n) })
}

/// The pipes of a session's [`Plan`]: one per stream routed to a pipe.
struct Pipes {
    stdin: Option<StreamPipe>,
    stdout: Option<StreamPipe>,
    stderr: Option<StreamPipe>,
}

impl Pipes {
    fn for_plan(plan: &Plan) -> io::Result<Pipes> {
        let make = |route, direction| match route {
            Route::Pty => Ok(None),
            Route::Pipe => stdio::pipe(direction).map(Some),
        };
        Ok(Pipes {
            stdin: make(plan.stdin, Direction::ToChild)?,
            stdout: make(plan.stdout, Direction::FromChild)?,
            stderr: make(plan.stderr, Direction::FromChild)?,
        })
    }

    /// What the child gets on fds 0, 1, 2.
    fn child_stdio(&self) -> [spawn::ChildStdio<'_>; 3] {
        [&self.stdin, &self.stdout, &self.stderr].map(|pipe| match pipe {
            Some(p) => spawn::ChildStdio::Pipe(p.child.as_fd()),
            None => spawn::ChildStdio::Pty,
        })
    }
}

/// Ends this process by `sig` as if it had never been caught (default
/// disposition restored, the signal unblocked and raised), so a shell sees
/// 128 + `sig` and reacts as to any program killed by it (a loop stops on
/// SIGINT). Exits with 128 + `sig` should the signal not end the process.
pub fn die_by_signal(sig: libc::c_int) -> ! {
    signals::reraise(sig);
    std::process::exit(128 + sig)
}
