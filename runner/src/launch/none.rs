//! Backend `none`: the workload runs as is, with no exec stage: a failed
//! exec is the spawn's own error. For the pty itself and for the matrix's
//! control runs; it never claims enforcement. Like every backend it gets
//! only the session's stdio (and the verdict channel in the matrix): other
//! descriptors of the caller are closed at exec.

use super::{
    Availability, Backend, CommandSpec, Ctty, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use crate::channel::StageStatus;
use crate::pty::StatusChannel;
use profile::{Config, Policy, Program};

/// Runs the command unchanged. [`Launcher::classify`] always answers
/// [`LaunchVerdict::NotEnforced`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoneLauncher;

impl Launcher for NoneLauncher {
    fn backend(&self) -> Backend {
        Backend::None
    }

    /// Never enforcing (it applies no sandbox), yet always able to run:
    /// [`Launcher::prepare`] never fails.
    fn availability(&self) -> Availability {
        Availability::Unavailable {
            reason: "backend none applies no sandbox".into(),
        }
    }

    fn compile(&self, _config: &Config, _program: Option<Program>) -> Result<Policy, LaunchError> {
        Ok(Policy::Unsandboxed)
    }

    /// Runs `cmd` as is, whatever the policy: nothing is enforced.
    fn prepare(&self, _policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        Ok(Prepared {
            command: cmd.clone(),
            env: Vec::new(),
            status: StatusChannel::Off,
            ctty: Ctty::Spawned,
            pass_fd: None,
            keep_alive: Vec::new(),
        })
    }

    fn classify(
        &self,
        _cmd: &CommandSpec,
        _stage: &StageStatus,
        _code: i32,
        _output: &[u8],
    ) -> LaunchVerdict {
        LaunchVerdict::NotEnforced
    }
}
