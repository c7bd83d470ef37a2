//! Backend `none`: the workload runs as is. For the pty itself and for the
//! matrix's control runs; it never claims enforcement.

use super::{Availability, Backend, CommandSpec, LaunchError, LaunchVerdict, Launcher, Prepared};
use profile::{Config, Policy};

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

    fn compile(&self, _config: &Config) -> Result<Policy, LaunchError> {
        Ok(Policy::Unsandboxed)
    }

    /// Runs `cmd` as is, whatever the policy: nothing is enforced.
    fn prepare(&self, _policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        Ok(Prepared {
            command: cmd.clone(),
            env: Vec::new(),
            keep_alive: Vec::new(),
        })
    }

    fn classify(&self, _code: i32, _output: &[u8]) -> LaunchVerdict {
        LaunchVerdict::NotEnforced
    }
}
