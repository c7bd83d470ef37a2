//! `beltcheck run [--config FILE] [--backend seatbelt|linux|none]
//! [--timeout SECS] -- CMD [ARGS...]`: runs CMD in a fresh pty under the
//! sandbox, carrying this terminal through it.
//!
//! Exit status: the child's exit code, or 128 + the signal that ended it
//! (a timeout or a SIGINT/SIGTERM/SIGHUP to beltcheck terminates the child's
//! group: SIGTERM, then SIGKILL after a 2 s grace, so usually 143).
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
use profile::Config;
use runner::launch::{self, Availability, Backend, CommandSpec, LaunchError, LaunchVerdict};
use runner::pty::{RaiseNofile, RunError, SessionOptions};

/// Between SIGTERM and SIGKILL for the child's group.
const GRACE: Duration = Duration::from_secs(2);

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
    let launcher = launch::launcher(backend);
    if backend != Backend::None {
        if let Availability::Unavailable { reason } = launcher.availability() {
            return Err(CliError::failed(format!(
                "run: backend {backend} is unavailable: {reason}"
            )));
        }
    }
    // Compiled once, for this backend only, on the host that enforces it.
    let policy = launcher
        .compile(&config)
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
    let (outcome, verdict) = runner::run_sandboxed(launcher.as_ref(), &policy, &cmd, &opts)
        .map_err(|e| match e {
            RunError::Launch { .. } => CliError::failed(format!("run: {e}")),
            other => CliError::failed(format!("run: backend {backend}: {other}")),
        })?;
    match verdict {
        LaunchVerdict::ProfileError { message } => {
            eprintln!("beltcheck: run: the sandbox refused the profile: {message}")
        }
        LaunchVerdict::Nested { message } => {
            eprintln!("beltcheck: run: already inside a sandbox, nothing new enforced: {message}")
        }
        LaunchVerdict::Enforced | LaunchVerdict::NotEnforced => {}
    }
    if outcome.timed_out {
        eprintln!(
            "beltcheck: run: timed out after {:.3} s; the command's process group was terminated",
            outcome.duration.as_secs_f64()
        );
    }
    Ok(ExitCode::from(outcome.code.clamp(0, 255) as u8))
}
