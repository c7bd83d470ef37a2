//! Starting a workload inside a sandbox on a fresh pty.
//!
//! - [`pty`]: the pty session (raw mode, window size, SIGWINCH, bridge).
//! - [`launch`]: the launchers (`seatbelt`, `linux`, `none`) behind one trait.

pub mod channel;
pub mod launch;
pub mod pty;

use launch::{CommandSpec, LaunchVerdict, Launcher};
use profile::Policy;
use pty::{RunError, SessionOptions, SessionOutcome};

/// Runs `cmd` under `policy` (compiled by `launcher`) on a fresh pty: prepare, run (with
/// the launcher's extra environment appended to `opts.env`), classify.
///
/// The verdict is the launcher's preflight verdict when it has one (e.g.
/// already sandboxed), else [`Launcher::classify`] of the exec stage's
/// status (the exit code and the captured output, all of it when Detached,
/// the head when Terminal, only when the stage never ran). The
/// launcher's keep-alive objects (temp profile files) live until the child
/// has exited.
pub fn run_sandboxed(
    launcher: &dyn Launcher,
    policy: &Policy,
    cmd: &CommandSpec,
    opts: &SessionOptions,
) -> Result<(SessionOutcome, LaunchVerdict), RunError> {
    let prepared = launcher
        .prepare(policy, cmd)
        .map_err(|error| RunError::Launch {
            backend: launcher.backend(),
            error,
        })?;
    let mut session = opts.clone();
    session.env.extend(prepared.env.iter().cloned());
    session.channel.status = prepared.status;
    session.ctty = prepared.ctty;
    session.pass_fd = prepared.pass_fd.clone();
    let outcome = pty::run(&prepared.command, &session)?;
    drop(prepared);
    let verdict = launcher.preflight().unwrap_or_else(|| {
        launcher.classify(cmd, &outcome.channel.stage, outcome.code, &outcome.output)
    });
    Ok((outcome, verdict))
}
pub mod stage;
