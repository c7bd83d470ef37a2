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
//! - Every thread the session starts is joined before [`run`] returns and
//!   every fd it opened is closed; only the process-wide signal dispatcher
//!   (one thread, one pipe, created on first use) stays.
//! - In [`Input::Terminal`] mode with a terminal on stdin: raw mode for the
//!   session and the exact original termios afterwards (also after a panic,
//!   see `raw`), initial size from the outer terminal, and every SIGWINCH
//!   forwarded to the inner pty.

mod bridge;
mod fd;
mod open;
mod raw;
mod signals;
mod spawn;
mod supervise;
mod winsize;

pub use signals::dispatcher_started;
pub use winsize::Winsize;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::launch::{Backend, CommandSpec, LaunchError};
use supervise::{Event, SignalWake, Supervisor, Until, Wake};

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

fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 is kept open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(libc::STDIN_FILENO) }
}

/// Runs `cmd` on a fresh pty as described in the module docs and returns how
/// it ended. Blocks until the session is over.
pub fn run(cmd: &CommandSpec, opts: &SessionOptions) -> Result<SessionOutcome, RunError> {
    let start = Instant::now();
    let terminal = opts.input == Input::Terminal;
    let outer_tty = terminal && raw::stdin_is_tty();
    let inherited = if outer_tty {
        winsize::read_raw(stdin())
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

    let (events_tx, events) = mpsc::channel();
    let signal_tx = events_tx.clone();
    let registration = signals::register(signals::Subscription {
        resize: if outer_tty {
            Some(pair.master.try_clone().map_err(RunError::Io)?)
        } else {
            None
        },
        termination: match opts.signals {
            SignalPolicy::Untouched => None,
            SignalPolicy::TerminateSession => Some(Box::new(move |sig| {
                let _ = signal_tx.send(Event::Signal(sig));
            })),
        },
    })
    .map_err(RunError::Io)?;

    let setup = spawn::ChildSetup {
        cmd,
        env: &opts.env,
        slave: &pair.slave,
        nofile,
    };
    let mut child = spawn::spawn(&setup).map_err(|source| RunError::Spawn {
        program: cmd.program.clone(),
        source,
    })?;
    // Only the child may hold the slave now, or EIO never comes.
    drop(pair.slave);
    let pid = child.id();
    let mut sup = Supervisor {
        pgid: pid as libc::pid_t,
        events,
        exited: false,
        output_closed: false,
        interrupted: None,
    };

    let threads = Threads::start(&pair.master, terminal, pid, events_tx);
    let threads = match threads {
        Ok(t) => t,
        Err(e) => {
            sup.signal_group(libc::SIGKILL);
            let _ = child.wait();
            return Err(RunError::Io(e));
        }
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
    sup.wait_until(
        Until::OutputClosed,
        Some(Instant::now() + DRAIN_AFTER_KILL),
        SignalWake::Continue,
    );
    let output = threads.finish();
    let status = child.wait().map_err(RunError::Io)?;
    drop(raw_guard);

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
        interrupted: sup.interrupted,
        output,
        duration: start.elapsed(),
        pid,
    })
}

/// The per-session threads and the stop pipe that ends them.
struct Threads {
    stop: bridge::Stop,
    waiter: std::thread::JoinHandle<()>,
    output: std::thread::JoinHandle<Vec<u8>>,
    input: Option<std::thread::JoinHandle<()>>,
}

impl Threads {
    fn start(
        master: &std::os::fd::OwnedFd,
        terminal: bool,
        pid: u32,
        events: mpsc::Sender<Event>,
    ) -> io::Result<Threads> {
        let stop = bridge::Stop::new()?;
        let sink = if terminal {
            bridge::Sink::Stdout {
                head: TERMINAL_OUTPUT_HEAD,
            }
        } else {
            bridge::Sink::Capture
        };
        let closed_tx = events.clone();
        let output = bridge::spawn_output(
            master.try_clone()?,
            sink,
            stop.waiter()?,
            Box::new(move || {
                let _ = closed_tx.send(Event::OutputClosed);
            }),
        )?;
        let input = if terminal {
            Some(bridge::spawn_input(master.try_clone()?, stop.waiter()?))
        } else {
            None
        };
        let waiter = supervise::spawn_waiter(pid as libc::pid_t, events);
        let (input, waiter) = match (input.transpose(), waiter) {
            (Ok(i), Ok(w)) => (i, w),
            (i, w) => {
                stop.stop();
                let _ = output.join();
                if let Ok(Some(i)) = i {
                    let _ = i.join();
                }
                return Err(w
                    .err()
                    .unwrap_or_else(|| io::Error::other("cannot start the input thread")));
            }
        };
        Ok(Threads {
            stop,
            waiter,
            output,
            input,
        })
    }

    /// Stops and joins every thread (each returns promptly once stopped; the
    /// waiter already returned because the child exited). Returns the output.
    fn finish(self) -> Vec<u8> {
        self.stop.stop();
        let output = self.output.join().unwrap_or_default();
        if let Some(input) = self.input {
            let _ = input.join();
        }
        let _ = self.waiter.join();
        output
    }
}
