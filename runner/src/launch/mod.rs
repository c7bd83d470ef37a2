//! Launchers: how a workload command is wrapped so a sandbox applies to it.

use crate::channel::{ExecFailure, StageStatus};
use crate::pty::StatusChannel;
use profile::{Config, Policy, Program};
use std::ffi::OsString;
use std::fmt;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

pub mod denials;
pub mod linux;
pub mod none;
pub mod seatbelt;

/// The launcher for `backend`, with its default settings.
pub fn launcher(backend: Backend) -> Box<dyn Launcher> {
    match backend {
        Backend::Seatbelt => Box::new(seatbelt::SeatbeltLauncher::new()),
        Backend::Linux => Box::new(linux::LinuxLauncher::new()),
        Backend::None => Box::new(none::NoneLauncher),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Seatbelt,
    Linux,
    None,
}

impl Backend {
    /// The host's real enforcing backend.
    pub fn host_default() -> Backend {
        if cfg!(target_os = "macos") {
            Backend::Seatbelt
        } else if cfg!(target_os = "linux") {
            Backend::Linux
        } else {
            Backend::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Seatbelt => "seatbelt",
            Backend::Linux => "linux",
            Backend::None => "none",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// Whether a backend can enforce on this host, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Enforcing { detail: String },
    Unavailable { reason: String },
}

/// Who makes the pty the session's controlling terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ctty {
    /// The spawned process (setsid + TIOCSCTTY before exec).
    #[default]
    Spawned,
    /// The exec stage, inside a PID namespace where the spawned process's
    /// session is invisible: the spawned process only calls setsid.
    Stage,
}

/// The command actually exec'd for a sandboxed workload, plus whatever must
/// live as long as the child (temp profile files, policy files).
pub struct Prepared {
    pub command: CommandSpec,
    /// Extra environment for the exec'd program.
    pub env: Vec<(OsString, OsString)>,
    /// Whether the command runs `beltcheck-stage`, which reports on the
    /// status channel.
    pub status: StatusChannel,
    pub ctty: Ctty,
    /// A descriptor the exec'd program inherits, on the session's allow-list
    /// next to stdio and the channel (the Linux exec stage's policy, named
    /// on its command line as `fd:N`).
    pub pass_fd: Option<Arc<OwnedFd>>,
    /// Dropped after the child exits (e.g. `tempfile::TempPath`).
    pub keep_alive: Vec<Box<dyn std::any::Any + Send>>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("command", &self.command)
            .field("env", &self.env)
            .field("status", &self.status)
            .field("ctty", &self.ctty)
            .field("pass_fd", &self.pass_fd)
            .finish_non_exhaustive()
    }
}

/// Why a launcher could not prepare a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    /// The backend cannot enforce here (missing tool, no user namespaces...).
    Unavailable {
        reason: String,
    },
    /// The config or profile cannot be expressed by this backend.
    Config {
        message: String,
    },
    Io {
        message: String,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Unavailable { reason } => write!(f, "backend unavailable: {reason}"),
            LaunchError::Config { message } => write!(f, "cannot express config: {message}"),
            LaunchError::Io { message } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for LaunchError {}

impl LaunchError {
    /// A policy compiled for another backend was handed to `backend`.
    pub fn wrong_policy(backend: Backend, policy: &Policy) -> LaunchError {
        let kind = match policy {
            Policy::Seatbelt(_) => "seatbelt",
            Policy::Linux(_) => "linux",
            Policy::Unsandboxed => "none",
        };
        LaunchError::Config {
            message: format!("backend {backend} was handed a policy compiled for backend {kind}"),
        }
    }
}

/// How the sandbox itself fared, read from the finished launch (exit code and
/// output), separately from what the workload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchVerdict {
    /// The sandbox applied and the workload ran under it.
    Enforced,
    /// The profile was refused (e.g. sandbox-exec exit 65 with the line).
    ProfileError { message: String },
    /// The sandbox tool could not build any sandbox on this host (e.g.
    /// bubblewrap without user namespaces); the workload never ran. Found
    /// after the launch failed, never by a check before it.
    Unavailable { reason: String },
    /// Already inside a sandbox: nothing new was enforced.
    Nested { message: String },
    /// No sandbox was applied (backend `none`).
    NotEnforced,
    /// The sandbox applied, but the workload could not be executed (the
    /// stage's status said so; it exited [`ExecFailure::exit_code`]).
    ExecFailed(ExecFailure),
}

/// One way of wrapping a workload in a sandbox.
pub trait Launcher: Send + Sync {
    fn backend(&self) -> Backend;
    /// Whether this backend can enforce on this host, and if not, why.
    fn availability(&self) -> Availability;
    /// Compiles a config into this backend's [`Policy`], on the host that
    /// will enforce it (the Linux launcher follows symlinks here). `program`
    /// is the workload's binary, which must read and map itself under a
    /// strict baseline (Seatbelt; Linux's root is readable anyway). Errors
    /// name the config key.
    fn compile(&self, config: &Config, program: Option<Program>) -> Result<Policy, LaunchError>;
    /// The command to exec so that `cmd` runs under `policy` (a policy for
    /// another backend is refused as [`LaunchError::Config`]).
    fn prepare(&self, policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError>;
    /// Tells a sandbox failure from the workload's own result, from the exec
    /// stage's status (see [`crate::channel`]). The exit status (`code`:
    /// exit code, or 128+signal) and captured output only give the message
    /// when the stage never ran (the sandbox tool failed first); `cmd` is the
    /// workload, for messages.
    fn classify(
        &self,
        cmd: &CommandSpec,
        stage: &StageStatus,
        code: i32,
        output: &[u8],
    ) -> LaunchVerdict;
    /// A verdict known before launching that overrides [`Launcher::classify`]
    /// (seatbelt: this process is already sandboxed, so nothing new can be
    /// enforced). `None` by default.
    fn preflight(&self) -> Option<LaunchVerdict> {
        None
    }
}

/// The verdict of a launch through `beltcheck-stage` once the stage ran:
/// started, failed exec, or failed to apply the sandbox. `None` when the
/// stage never ran (the launcher reads the sandbox tool's own failure).
pub fn stage_verdict(cmd: &CommandSpec, stage: &StageStatus) -> Option<LaunchVerdict> {
    match stage {
        StageStatus::NotReached => None,
        StageStatus::Started => Some(LaunchVerdict::Enforced),
        StageStatus::ExecFailed { errno } => Some(LaunchVerdict::ExecFailed(ExecFailure {
            program: cmd.program.clone(),
            errno: *errno,
        })),
        StageStatus::Failed { message } => Some(LaunchVerdict::ProfileError {
            message: format!("{} {message}", crate::stage::MESSAGE_PREFIX),
        }),
    }
}
