//! The status and verdict channel: one pipe from a session's process tree
//! back to the runner, apart from the pty, so nothing the workload prints
//! can be mistaken for what the exec stage or a probe reports.
//!
//! The runner creates the pipe and leaves its write end open in the child
//! (the only descriptor besides stdio that reaches a sandboxed process) and
//! names it in the environment:
//! - [`STATUS_FD_ENV`]: the exec stage writes its status there. The stage
//!   removes the variable and closes the descriptor when it execs, unless
//!   the same descriptor is also the verdict channel.
//! - [`VERDICT_FD_ENV`]: a probe writes its verdict there (set only when the
//!   session asks for a verdict: the matrix).
//!
//! The format is text, one record per line (`\n`-terminated):
//! - `started`: the stage applied the sandbox and is about to exec. If exec
//!   succeeds nothing else comes from the stage.
//! - `exec-failed ERRNO`: the exec failed with this errno (decimal); the
//!   stage exits [`ExecFailure::exit_code`] (127 not found, 126 otherwise).
//! - `stage-failed MESSAGE`: the stage could not apply the sandbox (exit 125).
//! - `verdict JSON`: the probe's report, one line of JSON.
//!
//! Unknown records are ignored; the runner reads at most [`READ_CAP`] bytes.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// Names the descriptor the exec stage writes its status to.
pub const STATUS_FD_ENV: &str = "BELTCHECK_STATUS_FD";
/// Names the descriptor a probe writes its verdict to.
pub const VERDICT_FD_ENV: &str = "BELTCHECK_VERDICT_FD";
/// The most the runner reads from the channel; the rest is dropped.
pub const READ_CAP: usize = 64 * 1024;

/// One line on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Started,
    ExecFailed { errno: i32 },
    StageFailed { message: String },
    Verdict { json: String },
}

impl Record {
    /// The record as written on the channel, with its newline. Newlines in
    /// a message become spaces, so a record is always one line.
    pub fn encode(&self) -> String {
        match self {
            Record::Started => "started\n".into(),
            Record::ExecFailed { errno } => format!("exec-failed {errno}\n"),
            Record::StageFailed { message } => {
                format!("stage-failed {}\n", message.replace(['\n', '\r'], " "))
            }
            Record::Verdict { json } => format!("verdict {}\n", json.replace(['\n', '\r'], " ")),
        }
    }

    fn decode(line: &str) -> Option<Record> {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "started" => Some(Record::Started),
            "exec-failed" => rest
                .trim()
                .parse()
                .ok()
                .map(|errno| Record::ExecFailed { errno }),
            "stage-failed" => Some(Record::StageFailed {
                message: rest.to_string(),
            }),
            "verdict" => Some(Record::Verdict {
                json: rest.to_string(),
            }),
            _ => None,
        }
    }
}

/// What the exec stage reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StageStatus {
    /// No stage record: the stage never ran (the sandbox tool failed or
    /// refused first), or the session had no stage.
    #[default]
    NotReached,
    /// The stage applied the sandbox and exec'd the workload.
    Started,
    ExecFailed {
        errno: i32,
    },
    Failed {
        message: String,
    },
}

/// Everything read from a session's channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub stage: StageStatus,
    /// The last `verdict` record's JSON.
    pub verdict: Option<String>,
}

impl Report {
    /// Reads the records in `bytes`; a stage record after `started` (an
    /// exec failure) replaces it.
    pub fn parse(bytes: &[u8]) -> Report {
        let mut report = Report::default();
        for line in String::from_utf8_lossy(bytes).lines() {
            match Record::decode(line) {
                Some(Record::Started) => report.stage = StageStatus::Started,
                Some(Record::ExecFailed { errno }) => {
                    report.stage = StageStatus::ExecFailed { errno }
                }
                Some(Record::StageFailed { message }) => {
                    report.stage = StageStatus::Failed { message }
                }
                Some(Record::Verdict { json }) => report.verdict = Some(json),
                None => {}
            }
        }
        report
    }
}

/// A command that could not be executed, and the shell-style exit code that
/// says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFailure {
    pub program: PathBuf,
    pub errno: i32,
}

impl ExecFailure {
    /// 127 when the command was not found, 126 when it was found but could
    /// not be executed (as POSIX shells do).
    pub fn exit_code(&self) -> u8 {
        exec_failure_exit(self.errno)
    }
}

/// The exit code for an exec that failed with `errno`: 127 not found, 126
/// anything else.
pub fn exec_failure_exit(errno: i32) -> u8 {
    if errno == libc::ENOENT || errno == libc::ENOTDIR {
        127
    } else {
        126
    }
}

impl fmt::Display for ExecFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = io::Error::from_raw_os_error(self.errno);
        let what = if self.exit_code() == 127 {
            "command not found"
        } else {
            "not executable"
        };
        write!(
            f,
            "cannot execute {}: {what} ({why})",
            self.program.display()
        )
    }
}

/// The runner's side of a channel: both ends, close-on-exec. The write end
/// is made inheritable only in the child (see `pty::spawn`).
#[derive(Debug)]
pub(crate) struct Pipe {
    pub(crate) read: OwnedFd,
    pub(crate) write: OwnedFd,
}

impl Pipe {
    pub(crate) fn open() -> io::Result<Pipe> {
        let (read, mut write) = crate::pty::cloexec_pipe()?;
        if write.as_raw_fd() <= 2 {
            // A caller with closed stdio: the child's stdio would land on
            // the channel's number.
            // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we own.
            let moved = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
            if moved < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `moved` is a fresh descriptor owned by nobody else.
            write = unsafe { std::os::fd::FromRawFd::from_raw_fd(moved) };
        }
        crate::pty::set_nonblocking(read.as_fd())?;
        Ok(Pipe { read, write })
    }

    /// The descriptor number the child sees (the same as ours).
    pub(crate) fn child_fd(&self) -> RawFd {
        self.write.as_raw_fd()
    }
}

/// Reads what is in the pipe now (never blocks: a leftover holding the
/// write end cannot stall the session), up to [`READ_CAP`].
pub(crate) fn drain(read: &OwnedFd) -> Report {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    while bytes.len() < READ_CAP {
        // SAFETY: reading into a buffer we own, from a fd we own.
        let n = unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            n if n > 0 => bytes.extend_from_slice(&buf[..n as usize]),
            0 => break,
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            _ => break,
        }
    }
    bytes.truncate(READ_CAP);
    Report::parse(&bytes)
}

/// Writes one record to the descriptor named by `var`, if the variable
/// names one. For the stage and probes; errors are the caller's to ignore
/// (a missing channel only loses the report).
pub fn write_to_env_fd(var: &str, record: &Record) -> io::Result<bool> {
    let Some(fd) = fd_from_env(var) else {
        return Ok(false);
    };
    write_record(fd, record)?;
    Ok(true)
}

/// The descriptor number in `var`, if it holds one.
pub fn fd_from_env(var: &str) -> Option<RawFd> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<RawFd>().ok())
        .filter(|&fd| fd >= 0)
}

/// Writes `record` in one `write` (records are far below PIPE_BUF, so they
/// are never interleaved with another writer's).
pub fn write_record(fd: RawFd, record: &Record) -> io::Result<()> {
    let line = record.encode();
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writing bytes we own to a descriptor number; a wrong
        // number fails with EBADF.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        rest = &rest[n as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        for r in [
            Record::Started,
            Record::ExecFailed { errno: 2 },
            Record::StageFailed {
                message: "landlock: x".into(),
            },
            Record::Verdict {
                json: r#"{"probe":"x"}"#.into(),
            },
        ] {
            let line = r.encode();
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert_eq!(Record::decode(line.trim_end_matches('\n')), Some(r));
        }
    }

    #[test]
    fn a_message_with_newlines_stays_one_record() {
        let line = Record::StageFailed {
            message: "a\nexec-failed 2".into(),
        }
        .encode();
        let report = Report::parse(line.as_bytes());
        assert_eq!(
            report.stage,
            StageStatus::Failed {
                message: "a exec-failed 2".into()
            }
        );
    }

    #[test]
    fn an_exec_failure_after_started_wins_and_unknown_lines_are_ignored() {
        let report = Report::parse(b"started\nnoise\nexec-failed 13\nverdict {}\n");
        assert_eq!(report.stage, StageStatus::ExecFailed { errno: 13 });
        assert_eq!(report.verdict.as_deref(), Some("{}"));
        assert_eq!(Report::parse(b"").stage, StageStatus::NotReached);
        assert_eq!(Report::parse(b"started\n").stage, StageStatus::Started);
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exec_failure_exit(libc::ENOENT), 127);
        assert_eq!(exec_failure_exit(libc::EACCES), 126);
        assert_eq!(exec_failure_exit(libc::ENOEXEC), 126);
        let f = ExecFailure {
            program: "nope".into(),
            errno: libc::ENOENT,
        };
        assert!(f.to_string().contains("nope: command not found"), "{f}");
    }
}
