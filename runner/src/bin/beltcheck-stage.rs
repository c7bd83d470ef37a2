//! `beltcheck-stage [POLICY] -- CMD [ARGS...]`: the last step inside the
//! sandbox. Applies the policy's Landlock and seccomp parts to itself (when
//! given one), takes the pty as controlling terminal if nobody has, reports
//! on the status channel and execs CMD. See `runner::stage` and
//! `runner::channel`.

use runner::channel::{self, Record, STATUS_FD_ENV, VERDICT_FD_ENV};
use runner::stage::{self, StageError, FAILURE_EXIT, STATUS_ENV};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Parses, applies the policy and builds the workload's command.
fn prepare() -> Result<(Command, std::ffi::OsString), StageError> {
    let parsed = stage::parse_args(std::env::args_os().skip(1).collect())?;
    stage::claim_terminal()?;
    let mut cmd = Command::new(&parsed.program);
    cmd.args(&parsed.args).env_remove(STATUS_FD_ENV);
    if let Some(source) = &parsed.policy {
        let policy = stage::load_policy(source)?;
        let applied = stage::apply(&policy)?;
        cmd.env(STATUS_ENV, applied.to_string());
        if std::env::var_os("BELTCHECK_STAGE_VERBOSE").is_some() {
            eprintln!("{} {applied}", stage::MESSAGE_PREFIX);
        }
    }
    Ok((cmd, parsed.program))
}

/// Reports `record` on the status channel, or on stderr without one.
fn report(status: Option<i32>, record: &Record, text: &dyn std::fmt::Display) {
    let sent = status.is_some_and(|fd| channel::write_record(fd, record).is_ok());
    if !sent {
        eprintln!("{text}");
    }
}

fn main() {
    let status = channel::fd_from_env(STATUS_FD_ENV);
    let (mut cmd, program) = match prepare() {
        Ok(c) => c,
        Err(e) => {
            let record = Record::StageFailed {
                message: e.message.clone(),
            };
            report(status, &record, &e);
            std::process::exit(FAILURE_EXIT);
        }
    };
    if let Some(fd) = status {
        // The workload keeps the channel only when it is also its verdict
        // channel (a probe in the matrix).
        if channel::fd_from_env(VERDICT_FD_ENV) != Some(fd) {
            // SAFETY: fcntl on the status descriptor number.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let _ = channel::write_record(fd, &Record::Started);
    }
    // exec only returns on failure.
    let e = cmd.exec();
    let errno = e.raw_os_error().unwrap_or(libc::EINVAL);
    let failure = channel::ExecFailure {
        program: program.into(),
        errno,
    };
    report(status, &Record::ExecFailed { errno }, &failure);
    std::process::exit(i32::from(failure.exit_code()));
}
