//! Running a real program as a probe (the `workload-*` probes).
//!
//! The synthetic probes make one system call each; a workload probe runs
//! the program people actually run (Python's multiprocessing, `script`,
//! `security`, a Python socket client) inside the same sandbox and reads
//! its result. What the program did becomes a verdict here, in one place:
//!
//! - the program is not installed (exec says `ENOENT`): `unsupported`;
//! - it ran and printed its success marker: `allowed`;
//! - it reported an `OSError` errno (our Python scripts print one
//!   [`REPORT_PREFIX`] line), or its stderr carries the text of a
//!   permission errno ("Permission denied", "Operation not permitted",
//!   "Read-only file system"): that errno, through [`classify::verdict`];
//! - anything else: `error`, with the program's stderr as the evidence.
//!   Never a guessed `allowed`.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use serde::Deserialize;

use crate::classify::{self, RawCode};
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;

/// The interpreter the Python workloads run. Named explicitly, not found on
/// `PATH`: a toolchain's own Python (pyenv under `/root`) may sit where the
/// sandboxed user cannot read it, and the profile grants `/usr` by name.
pub const PYTHON: &str = "/usr/bin/python3";

/// The line prefix our Python scripts report with (one JSON object after it).
pub const REPORT_PREFIX: &str = "beltcheck-workload ";

/// How much of a program's stderr a report keeps as evidence.
const EVIDENCE_BYTES: usize = 600;

/// Variables the probe's own channel uses; the program must not see them.
const CHANNEL_ENV: [&str; 2] = ["BELTCHECK_VERDICT_FD", "BELTCHECK_STATUS_FD"];

/// What the program gets as stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `/dev/null`.
    Null,
    /// The probe's own stdin (the session's terminal, for `script`).
    Inherit,
}

/// A finished program run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program ARGS` to completion at `step`, killing it if the probe is
/// abandoned at its deadline. Not installed: `unsupported`.
pub fn run(
    ctx: &Ctx,
    step: &'static str,
    program: &str,
    args: &[&OsStr],
    input: Input,
) -> Result<Finished, Failure> {
    ctx.step(step);
    close_channel_on_exec();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(match input {
            Input::Null => Stdio::null(),
            Input::Inherit => Stdio::inherit(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in CHANNEL_ENV {
        command.env_remove(var);
    }
    let mut child = command
        .spawn()
        .map_err(|e| spawn_failure(step, program, &e))?;
    let pid = child.id();
    let killer = ctx.cleanup(move || {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: signals our own child, still unreaped (the guard is
            // dismissed right after the wait reaps it).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    // stderr is drained on its own thread so neither pipe can fill and
    // stall the program while the other is read.
    let mut err_pipe = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = err_pipe.as_mut() {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let mut out = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_end(&mut out);
    }
    let status = child.wait();
    killer.dismiss();
    let status = status.map_err(|e| crate::sys::io_failure(step, &e, "wait"))?;
    let err = err_reader.join().unwrap_or_default();
    Ok(Finished {
        status,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    })
}

/// exec's own failure: `ENOENT` is a program that is not installed.
fn spawn_failure(step: &'static str, program: &str, e: &std::io::Error) -> Failure {
    if e.raw_os_error() == Some(libc::ENOENT) {
        return Failure {
            verdict: Verdict::Unsupported,
            code: Some(i64::from(libc::ENOENT)),
            step,
            detail: format!("{program} is not installed on this host"),
        };
    }
    crate::sys::io_failure(step, e, &format!("exec {program}"))
}

/// The verdict channel's descriptor must not leak into the program (a
/// lingering grandchild would hold the runner's channel open).
fn close_channel_on_exec() {
    for var in CHANNEL_ENV {
        let fd = std::env::var(var)
            .ok()
            .and_then(|v| v.trim().parse::<i32>().ok());
        if let Some(fd) = fd.filter(|fd| *fd > 2) {
            // SAFETY: sets FD_CLOEXEC on a descriptor number; EBADF if closed.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
}

/// What one of our Python scripts printed after [`REPORT_PREFIX`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScriptReport {
    pub ok: bool,
    pub step: String,
    #[serde(default)]
    pub errno: Option<i32>,
    #[serde(default)]
    pub message: String,
}

/// The last report line in `stdout`, if any parses.
pub fn script_report(stdout: &str) -> Option<ScriptReport> {
    stdout
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix(REPORT_PREFIX))
        .find_map(|json| serde_json::from_str(json).ok())
}

/// What every Python workload script starts with: the report function
/// that prints the [`REPORT_PREFIX`] line [`python_outcome`] reads, and the
/// first step. The body follows inside `try:`, then [`PYTHON_TAIL`].
const PYTHON_HEAD: &str = r#"
import json, sys
def report(ok, step, errno=None, message=""):
    print("beltcheck-workload " + json.dumps({"ok": ok, "step": step, "errno": errno, "message": message}), flush=True)
step = "import"
try:
"#;

/// An `OSError` reports its errno (the verdict comes from it, exit 2);
/// anything else reports none (an error, exit 3).
const PYTHON_TAIL: &str = r#"
except OSError as e:
    report(False, step, e.errno, "%s: %s" % (type(e).__name__, e))
    sys.exit(2)
except Exception as e:
    report(False, step, None, "%s: %s" % (type(e).__name__, e))
    sys.exit(3)
"#;

/// Runs the Python workload `body` (statements at indentation 0 that set
/// `step` and call `report`) with `args` as `sys.argv[1:]`, and judges it
/// with [`python_outcome`]. `-I`: no user site or environment variables.
pub fn python(ctx: &Ctx, body: &str, args: &[&OsStr], steps: &[&'static str]) -> Outcome {
    let script = python_script(body);
    let mut argv: Vec<&OsStr> = vec!["-I".as_ref(), "-c".as_ref(), script.as_ref()];
    argv.extend_from_slice(args);
    let finished = run(ctx, "python", PYTHON, &argv, Input::Null)?;
    python_outcome(&finished, steps, "python")
}

/// [`PYTHON_HEAD`], `body` indented into its `try:`, [`PYTHON_TAIL`].
fn python_script(body: &str) -> String {
    let mut script = PYTHON_HEAD.to_string();
    for line in body.trim_matches('\n').lines() {
        script.push_str("    ");
        script.push_str(line);
        script.push('\n');
    }
    script.push_str(PYTHON_TAIL.trim_start_matches('\n'));
    script
}

/// The outcome of a Python workload: its report line decides; without one
/// (the interpreter died first) the exit status and stderr do. `steps` are
/// the step names the script may report (others read as `fallback`).
fn python_outcome(finished: &Finished, steps: &[&'static str], fallback: &'static str) -> Outcome {
    let Some(report) = script_report(&finished.stdout) else {
        return Err(program_failure(fallback, finished));
    };
    let step = steps
        .iter()
        .find(|s| **s == report.step)
        .copied()
        .unwrap_or(fallback);
    match (report.ok, report.errno) {
        (true, _) if finished.status.success() => allowed(step, report.message),
        (true, _) => Err(program_failure(step, finished)),
        (false, Some(errno)) => Err(classify::failure(
            step,
            RawCode::Errno(errno),
            &format!("python OSError: {}", report.message),
        )),
        (false, None) => Err(Failure::plain(
            Verdict::Error,
            step,
            format!(
                "python: {}{}",
                report.message,
                evidence_suffix(&finished.stderr)
            ),
        )),
    }
}

/// A program that did not succeed: a permission errno's text in its output
/// is that errno (classified as usual); anything else is `error` with the
/// exit status and stderr as evidence.
pub fn program_failure(step: &'static str, finished: &Finished) -> Failure {
    let text = format!("{}\n{}", finished.stderr, finished.stdout);
    let status = describe_status(finished.status);
    match classify::errno_in_text(&text) {
        Some(errno) => classify::failure(
            step,
            RawCode::Errno(errno),
            &format!("{status}{}", evidence_suffix(&finished.stderr)),
        ),
        None => Failure::plain(
            Verdict::Error,
            step,
            format!("{status}{}", evidence_suffix(&finished.stderr)),
        ),
    }
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended without a status".into(),
    }
}

/// `; stderr: "..."` with the last [`EVIDENCE_BYTES`] of `stderr`, or "".
fn evidence_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let mut cut = trimmed.len().saturating_sub(EVIDENCE_BYTES);
    while !trimmed.is_char_boundary(cut) {
        cut += 1;
    }
    format!("; stderr: {:?}", &trimmed[cut..])
}

/// Whether `path` names a program this host has (for tests and callers that
/// must know before running; probes learn it from exec itself).
pub fn installed(path: &str) -> bool {
    Path::new(path).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn finished(code: i32, stdout: &str, stderr: &str) -> Finished {
        Finished {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    const STEPS: &[&str] = &["Lock", "submit"];

    #[test]
    fn a_missing_program_is_unsupported() {
        let ctx = Ctx::new(Duration::from_secs(5));
        let f = run(
            &ctx,
            "exec",
            "/nonexistent/beltcheck-nope",
            &[],
            Input::Null,
        )
        .unwrap_err();
        assert_eq!(f.verdict, Verdict::Unsupported, "{f:?}");
        assert!(f.detail.contains("not installed"), "{f:?}");
    }

    #[test]
    fn a_python_oserror_is_classified_by_its_errno() {
        let out = format!(
            "noise\n{REPORT_PREFIX}{{\"ok\": false, \"step\": \"Lock\", \"errno\": 13, \"message\": \"[Errno 13] Permission denied\"}}\n"
        );
        let f = python_outcome(&finished(2, &out, ""), STEPS, "python").unwrap_err();
        assert_eq!(
            (f.verdict, f.code, f.step),
            (Verdict::Denied, Some(13), "Lock")
        );
        let out = format!("{REPORT_PREFIX}{{\"ok\": false, \"step\": \"Lock\", \"errno\": 2, \"message\": \"gone\"}}");
        let f = python_outcome(&finished(2, &out, ""), STEPS, "python").unwrap_err();
        assert_eq!(f.verdict, Verdict::Error);
    }

    #[test]
    fn success_needs_the_report_and_a_zero_exit() {
        let out = format!(
            "{REPORT_PREFIX}{{\"ok\": true, \"step\": \"submit\", \"message\": \"6*7 = 42\"}}"
        );
        let ok = python_outcome(&finished(0, &out, ""), STEPS, "python").unwrap();
        assert_eq!((ok.step, ok.detail.as_str()), ("submit", "6*7 = 42"));
        let f = python_outcome(&finished(1, &out, "boom"), STEPS, "python").unwrap_err();
        assert_eq!(f.verdict, Verdict::Error);
        assert!(f.detail.contains("boom"), "{f:?}");
    }

    #[test]
    fn without_a_report_the_stderr_decides_and_is_the_evidence() {
        let f = python_outcome(
            &finished(1, "", "Traceback ...\nImportError: no module named x"),
            STEPS,
            "python",
        )
        .unwrap_err();
        assert_eq!((f.verdict, f.step), (Verdict::Error, "python"));
        assert!(f.detail.contains("ImportError"), "{f:?}");
        let f = program_failure(
            "script",
            &finished(1, "", "script: openpty: Operation not permitted\n"),
        );
        assert_eq!(
            (f.verdict, f.code),
            (Verdict::Denied, Some(i64::from(libc::EPERM)))
        );
        assert!(f.detail.contains("openpty"), "{f:?}");
        let f = program_failure(
            "script",
            &finished(
                1,
                "",
                "script: failed to create pseudo-terminal: Permission denied\n",
            ),
        );
        assert_eq!(f.verdict, Verdict::Denied);
    }

    #[test]
    fn a_non_python_report_line_or_garbage_is_no_report() {
        assert_eq!(script_report("beltcheck-workload {not json"), None);
        assert_eq!(script_report("ok\n"), None);
    }

    #[test]
    fn evidence_is_bounded_and_cut_on_a_char_boundary() {
        let long = "é".repeat(2000);
        let s = evidence_suffix(&long);
        assert!(s.len() < EVIDENCE_BYTES + 40, "{}", s.len());
        assert_eq!(evidence_suffix("  \n"), "");
    }
}
