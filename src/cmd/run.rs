//! `beltcheck run [--config FILE] [--backend seatbelt|linux|none]
//! [--timeout SECS] -- CMD [ARGS...]`: runs CMD under the sandbox with a
//! fresh pty as its controlling terminal, carrying this terminal through it;
//! stdio that is not a terminal passes through pipes, byte-exact.
//!
//! Exit status, the first that applies:
//! - a SIGINT, SIGTERM or SIGHUP to beltcheck ends the session (the child's
//!   group gets SIGTERM, then SIGKILL after a 2 s grace), then beltcheck
//!   dies by that same signal (a shell sees 128 + signo);
//! - our stdout or stderr closed by its reader (EPIPE) ends the session the
//!   same way, then beltcheck dies by SIGPIPE, quietly, as a filter in a
//!   pipeline does; any other failure to write them exits 1 with a message;
//! - `--timeout` fired: 124, as timeout(1);
//! - else the child's exit code, or 128 + the signal that ended it.
//!
//! A command that cannot be executed exits 127 (not found) or 126 (found but
//! not executable), with a message, on every backend.
//! Failures of beltcheck itself exit 1 with a message on stderr that names
//! the backend and the reason (backend unavailable on this host, profile
//! not expressible, pty or spawn failure); bad usage or a bad config exits 2.
//! Launch problems the sandbox reports after starting (sandbox-exec refusing
//! the profile, or nesting) are noted on stderr; the exit status stays the
//! child's (sandbox-exec's 65 or 71).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::{CliError, CliResult};
use profile::{Config, Program};
use runner::channel::ExecFailure;
use runner::launch::{self, Backend, CommandSpec, LaunchError, LaunchVerdict};
use runner::pty::{self, RaiseNofile, RunError, SessionOptions, SessionOutcome};

/// Between SIGTERM and SIGKILL for the child's group.
const GRACE: Duration = Duration::from_secs(2);
/// The exit status when `--timeout` fired (timeout(1)'s).
const TIMED_OUT: u8 = 124;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Config file, TOML (.toml) or JSON (.json); defaults when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sandbox backend [default: the host's: seatbelt on macOS, linux on Linux].
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// Terminate the command after this many seconds (decimals allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    timeout: Option<Duration>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum BackendArg {
    Seatbelt,
    Linux,
    None,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Seatbelt => Backend::Seatbelt,
            BackendArg::Linux => Backend::Linux,
            BackendArg::None => Backend::None,
        }
    }
}

/// A command that could not be executed: 127 not found, 126 otherwise.
fn exec_failed(failure: ExecFailure) -> CliError {
    CliError {
        message: format!("run: {failure}"),
        code: failure.exit_code(),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("--timeout: {text:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!(
            "--timeout: {text:?} must be a positive number of seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn run(args: Args) -> CliResult {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(CliError::usage)?,
        None => Config::default(),
    };
    let backend = args
        .backend
        .map_or_else(Backend::host_default, Backend::from);
    // No availability check first: whether a sandbox can be built is known
    // when the launch fails, and the launcher says why then.
    let launcher = launch::launcher(backend);
    // The command reads and maps its own binary; a name that is not found
    // fails at exec, with its own message.
    let program = args
        .command
        .first()
        .and_then(|p| runner::pty::locate_program(std::path::Path::new(p)).ok())
        .and_then(|p| Program::at(&p));
    // Compiled once, for this backend only, on the host that enforces it.
    let policy = launcher
        .compile(&config, program)
        .map_err(|e| match (&e, &args.config) {
            (LaunchError::Config { .. }, Some(path)) => {
                CliError::usage(format!("{}: {e}", path.display()))
            }
            (LaunchError::Config { .. }, None) => CliError::usage(e),
            _ => CliError::failed(format!("run: backend {backend}: {e}")),
        })?;
    for note in policy.notes() {
        eprintln!("beltcheck: run: {note}");
    }
    let mut words = args.command.into_iter();
    let program = words
        .next()
        .ok_or_else(|| CliError::usage("run: missing CMD after --"))?;
    let cmd = CommandSpec {
        program: program.into(),
        args: words.collect(),
    };
    let opts = SessionOptions {
        timeout: args.timeout,
        grace: GRACE,
        raise_nofile: if config.limits.raise_nofile {
            RaiseNofile::SoftToHard
        } else {
            RaiseNofile::Keep
        },
        ..SessionOptions::terminal()
    };
    // Descendants that escape the session's group (setsid) are adopted and
    // killed when it ends; unsupported on macOS (see runner::pty::reaper).
    let _ = runner::pty::adopt_orphans();
    let (outcome, verdict) = runner::run_sandboxed(launcher.as_ref(), &policy, &cmd, &opts)
        .map_err(|e| match e {
            // The config cannot be expressed (e.g. too many bind mounts):
            // bad input, as a config error at compile time is.
            RunError::Launch {
                error: LaunchError::Config { .. },
                ..
            } => CliError::usage(format!("run: {e}")),
            RunError::Launch { .. } => CliError::failed(format!("run: {e}")),
            RunError::Spawn { program, source } => exec_failed(ExecFailure {
                program,
                errno: source.raw_os_error().unwrap_or(libc::EINVAL),
            }),
            other => CliError::failed(format!("run: backend {backend}: {other}")),
        })?;
    match verdict {
        LaunchVerdict::ExecFailed(failure) => return Err(exec_failed(failure)),
        LaunchVerdict::Unavailable { reason } => {
            return Err(CliError::failed(format!(
                "run: backend {backend} is unavailable: {reason}"
            )))
        }
        LaunchVerdict::ProfileError { message } => {
            eprintln!("beltcheck: run: the sandbox refused the profile: {message}")
        }
        LaunchVerdict::Nested { message } => {
            eprintln!("beltcheck: run: already inside a sandbox, nothing new enforced: {message}")
        }
        LaunchVerdict::Enforced | LaunchVerdict::NotEnforced => {}
    }
    exit_status(&outcome)
}

/// How `beltcheck run` ends, once the session is over and the terminal
/// restored (see the module docs for the order).
fn exit_status(outcome: &SessionOutcome) -> CliResult {
    if let Some(sig) = outcome.interrupted {
        pty::die_by_signal(sig);
    }
    if let Some(failure) = outcome.output_failed {
        if failure.errno == libc::EPIPE {
            pty::die_by_signal(libc::SIGPIPE);
        }
        return Err(CliError::failed(format!(
            "run: {failure}; the command's process group was terminated"
        )));
    }
    if outcome.timed_out {
        eprintln!(
            "beltcheck: run: timed out after {:.3} s; the command's process group was terminated",
            outcome.duration.as_secs_f64()
        );
        return Ok(ExitCode::from(TIMED_OUT));
    }
    Ok(ExitCode::from(outcome.code.clamp(0, 255) as u8))
}
