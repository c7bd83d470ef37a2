//! Sandbox denial capture on macOS: `log stream` started before the first
//! cell and waited for until it has attached, its lines filtered to the
//! cells' pids afterwards, its stderr kept for the run's diagnostics.
//!
//! The capture itself is plain process plumbing and runs on every host
//! (tests drive it with a stand-in program); only [`DenialCapture::start`]
//! is macOS-only, because only macOS has `log stream`.
//!
//! Logging is lossy: what this returns is evidence of a denial, never proof
//! that nothing was denied. The predicate (kernel Sandbox messages and the
//! com.apple.sandbox.reporting subsystem) is the one shown publicly in
//! https://github.com/anthropic-experimental/sandbox-runtime/issues/67
//! (a `log stream` command with [`LOG_PREDICATE`] word for word, showing
//! `Sandbox: sandbox-exec(27256) deny(1) forbidden-sandbox-reinit`).

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// `log stream` predicate selecting Sandbox denial reports.
pub const LOG_PREDICATE: &str = r#"(((processID == 0) AND (senderImagePath CONTAINS "/Sandbox")) OR (subsystem == "com.apple.sandbox.reporting"))"#;
/// Always this binary, never one found on PATH.
pub const LOG_BIN: &str = "/usr/bin/log";

/// The arguments (after the program) of the `log stream` command.
pub fn log_stream_args() -> Vec<&'static str> {
    vec!["stream", "--style", "ndjson", "--predicate", LOG_PREDICATE]
}

/// Keeps the lines of `log stream --style ndjson` output that concern one of
/// `pids`: the event's `processID` is one of them, or its `eventMessage`
/// names one as `NAME(PID) deny` / `NAME(PID) allow` (the kernel's Sandbox
/// reports carry processID 0 and the culprit in the text). Returns the
/// event messages. Lines that are not JSON objects are skipped.
pub fn filter_denials(ndjson: &str, pids: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    for line in ndjson.lines() {
        let Ok(serde_json::Value::Object(event)) = serde_json::from_str::<serde_json::Value>(line)
        else {
            continue;
        };
        let message = event
            .get("eventMessage")
            .and_then(|m| m.as_str())
            .unwrap_or("");
        let process = event.get("processID").and_then(|p| p.as_u64());
        let by_pid = process.is_some_and(|p| pids.iter().any(|&q| u64::from(q) == p));
        let by_text = pids.iter().any(|pid| {
            message.contains(&format!("({pid}) deny"))
                || message.contains(&format!("({pid}) allow"))
        });
        if by_pid || by_text {
            out.push(message.to_string());
        }
    }
    out
}

/// The line `log stream` prints once its filter is installed: a denial
/// logged before it appears is not streamed.
pub const ATTACHED_MARKER: &str = "Filtering the log data";
/// How long [`DenialCapture::start`] waits for [`ATTACHED_MARKER`].
pub const ATTACH_LIMIT: Duration = Duration::from_secs(10);
/// Reports reach the log stream a little after the denial happened.
const SETTLE: Duration = Duration::from_millis(300);

/// The first line among `messages` that records a Sandbox refusal
/// (`deny(1)`, the kernel's count of coalesced denials), if any.
pub fn refusal_line(messages: &[String]) -> Option<&str> {
    messages
        .iter()
        .map(String::as_str)
        .find(|m| m.contains(") deny("))
}

/// A running `log stream` whose stdout and stderr are collected until
/// [`finish`].
///
/// [`finish`]: DenialCapture::finish
pub struct DenialCapture {
    child: Child,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

/// What a finished capture read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The event messages about the requested pids.
    pub messages: Vec<String>,
    /// What `log stream` wrote on stderr (warnings, "must be admin", ...).
    pub stderr: String,
}

impl DenialCapture {
    /// Starts `/usr/bin/log stream` with the Sandbox predicate and returns
    /// once it has attached (bounded by [`ATTACH_LIMIT`]). Start it before
    /// the first cell so no early denial is missed. Unsupported off macOS.
    pub fn start() -> io::Result<DenialCapture> {
        if cfg!(target_os = "macos") {
            Self::start_program(Path::new(LOG_BIN), &log_stream_args(), ATTACH_LIMIT)
        } else {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "denial capture needs macOS `log stream`",
            ))
        }
    }

    /// Starts `program args` as the log stream and waits up to `limit` for
    /// [`ATTACHED_MARKER`] on its stdout or stderr. An error names what the
    /// program said on stderr.
    pub fn start_program(
        program: &Path,
        args: &[&str],
        limit: Duration,
    ) -> io::Result<DenialCapture> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (attached, seen) = mpsc::channel();
        let out = child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>);
        let err = child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>);
        let (Some(out), Some(err)) = (out, err) else {
            return Err(io::Error::other("log stream has no stdout/stderr pipe"));
        };
        let stdout = collect("beltcheck-denials", out, attached.clone())?;
        let stderr = collect("beltcheck-denials-err", err, attached)?;
        let capture = DenialCapture {
            child,
            stdout,
            stderr,
        };
        match seen.recv_timeout(limit) {
            Ok(()) => Ok(capture),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let said = capture.stop().stderr;
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} did not attach within {:.1}s (no {ATTACHED_MARKER:?} line){}",
                        program.display(),
                        limit.as_secs_f64(),
                        said_suffix(&said)
                    ),
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let said = capture.stop().stderr;
                Err(io::Error::other(format!(
                    "{} ended before attaching{}",
                    program.display(),
                    said_suffix(&said)
                )))
            }
        }
    }

    /// Stops the stream (after a short settle delay for late reports) and
    /// returns the messages about `pids`.
    pub fn finish(self, pids: &[u32]) -> Vec<String> {
        self.finish_all(pids).messages
    }

    /// [`finish`](Self::finish), with what the stream said on stderr.
    pub fn finish_all(self, pids: &[u32]) -> Captured {
        std::thread::sleep(SETTLE);
        let (stdout, stderr) = self.stop_raw();
        Captured {
            messages: filter_denials(&stdout, pids),
            stderr,
        }
    }

    fn stop(self) -> Captured {
        let (_, stderr) = self.stop_raw();
        Captured {
            messages: Vec::new(),
            stderr,
        }
    }

    fn stop_raw(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipes closed with the child: the readers return.
        let stdout = self.stdout.join().unwrap_or_default();
        let stderr = self.stderr.join().unwrap_or_default();
        (stdout, stderr)
    }
}

fn said_suffix(stderr: &str) -> String {
    let said = stderr.trim();
    if said.is_empty() {
        String::new()
    } else {
        format!("; it said: {said}")
    }
}

/// Reads `pipe` to its end on a thread, signalling `attached` at the first
/// line carrying [`ATTACHED_MARKER`]. Returns the whole text.
fn collect(
    name: &str,
    pipe: Box<dyn Read + Send>,
    attached: mpsc::Sender<()>,
) -> io::Result<JoinHandle<String>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut text = String::new();
            let mut line = Vec::new();
            let mut signal = Some(attached);
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let piece = String::from_utf8_lossy(&line);
                if piece.contains(ATTACHED_MARKER) {
                    if let Some(tx) = signal.take() {
                        let _ = tx.send(());
                    }
                }
                text.push_str(&piece);
            }
            text
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_kernel_reports_naming_the_pid_and_events_from_it() {
        let stream = concat!(
            "Filtering the log data using ...\n",
            r#"{"processID":0,"eventMessage":"Sandbox: probe(123) deny(1) mach-lookup com.apple.securityd"}"#,
            "\n",
            r#"{"processID":0,"eventMessage":"Sandbox: other(1234) deny(1) file-read-data /x"}"#,
            "\n",
            r#"{"processID":123,"eventMessage":"own report"}"#,
            "\n",
            r#"{"processID":0,"eventMessage":"Sandbox: other(12) deny(1) file-read-data /y"}"#,
            "\n",
            "not json\n",
        );
        assert_eq!(
            filter_denials(stream, &[123]),
            [
                "Sandbox: probe(123) deny(1) mach-lookup com.apple.securityd",
                "own report"
            ]
        );
        assert!(filter_denials(stream, &[999]).is_empty());
    }

    #[test]
    fn command_uses_ndjson_and_the_documented_predicate() {
        let args = log_stream_args();
        assert_eq!(&args[..3], ["stream", "--style", "ndjson"]);
        assert!(args[4].contains("com.apple.sandbox.reporting"));
        assert!(LOG_BIN.starts_with('/'));
    }

    /// A stand-in for `log stream`: a shell script run by /bin/sh.
    fn fake_log(script: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (dir, path)
    }

    #[test]
    fn start_waits_for_the_attached_line_and_finish_filters_by_pid() {
        // The marker comes late: a start that did not wait would let the
        // test's "first cell" race the filter.
        let (_dir, log) = fake_log(concat!(
            "echo 'log: warming up' >&2\n",
            "sleep 0.3\n",
            "echo 'Filtering the log data using \"x\"'\n",
            "read _ignored\n",
            r#"echo '{"processID":0,"eventMessage":"Sandbox: p(42) deny(1) mach-lookup com.apple.SecurityServer"}'"#,
            "\nexec sleep 30",
        ));
        let started = std::time::Instant::now();
        let capture = DenialCapture::start_program(&log, &[], Duration::from_secs(5)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(250));
        let got = capture.finish_all(&[42]);
        // stdin is /dev/null: `read` returns at once and the event follows.
        assert_eq!(
            got.messages,
            ["Sandbox: p(42) deny(1) mach-lookup com.apple.SecurityServer"]
        );
        assert!(got.stderr.contains("warming up"), "{:?}", got.stderr);
    }

    #[test]
    fn a_stream_that_never_attaches_is_an_error_within_the_bound() {
        let (_dir, log) = fake_log("echo 'log: Must be admin to run stream' >&2\nexec sleep 30");
        let started = std::time::Instant::now();
        let err = DenialCapture::start_program(&log, &[], Duration::from_millis(400))
            .err()
            .expect("no marker: not attached");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("Must be admin"), "{err}");
    }

    #[test]
    fn a_stream_that_exits_early_says_what_it_printed() {
        let (_dir, log) = fake_log("echo 'log: bad predicate' >&2\nexit 64");
        let err = DenialCapture::start_program(&log, &[], Duration::from_secs(5))
            .err()
            .expect("exited: not attached");
        assert!(err.to_string().contains("ended before attaching"), "{err}");
        assert!(err.to_string().contains("bad predicate"), "{err}");
    }

    #[test]
    fn refusal_line_picks_the_first_deny() {
        let lines = vec![
            "own report".to_string(),
            "Sandbox: p(7) deny(1) mach-lookup com.apple.securityd".to_string(),
        ];
        assert_eq!(
            refusal_line(&lines),
            Some("Sandbox: p(7) deny(1) mach-lookup com.apple.securityd")
        );
        assert_eq!(refusal_line(&lines[..1]), None);
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn start_is_unsupported_off_macos() {
        assert_eq!(
            DenialCapture::start().err().map(|e| e.kind()),
            Some(io::ErrorKind::Unsupported)
        );
    }
}
