//! `beltcheck-stage POLICY -- CMD [ARGS...]`: runs inside bubblewrap, applies
//! the policy's Landlock and seccomp parts to itself, then execs CMD.
//! See `runner::stage`.

use runner::stage::{self, StageError, FAILURE_EXIT, STATUS_ENV};
use std::os::unix::process::CommandExt;
use std::process::Command;

fn run() -> Result<std::convert::Infallible, StageError> {
    let parsed = stage::parse_args(std::env::args_os().skip(1).collect())?;
    let policy = stage::load_policy(&parsed.policy)?;
    let applied = stage::apply(&policy)?;
    let mut cmd = Command::new(&parsed.program);
    cmd.args(&parsed.args).env(STATUS_ENV, applied.to_string());
    if let stage::PolicySource::Env(name) = &parsed.policy {
        cmd.env_remove(name);
    }
    if std::env::var_os("BELTCHECK_STAGE_VERBOSE").is_some() {
        eprintln!("{} {applied}", stage::MESSAGE_PREFIX);
    }
    // exec only returns on failure.
    let e = cmd.exec();
    Err(StageError {
        message: format!("cannot exec {:?}: {e}", parsed.program),
    })
}

fn main() {
    match run() {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(FAILURE_EXIT);
        }
    }
}
