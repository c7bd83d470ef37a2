//! Sandbox denial capture on macOS: `log stream` started before the child,
//! its lines filtered to the child's pids afterwards.
//!
//! Logging is lossy: what this returns is evidence of a denial, never proof
//! that nothing was denied. The predicate is the one documented in
//! /work/shared/docs/sbpl.md (kernel Sandbox messages and the
//! com.apple.sandbox.reporting subsystem).

use std::io;

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

/// A running `log stream` whose output is collected until [`finish`].
///
/// [`finish`]: DenialCapture::finish
pub struct DenialCapture {
    #[cfg(target_os = "macos")]
    inner: macos::Capture,
}

impl DenialCapture {
    /// Starts `/usr/bin/log stream` with the Sandbox predicate. Start it
    /// before the child so no early denial is missed. Unsupported off macOS.
    pub fn start() -> io::Result<DenialCapture> {
        #[cfg(target_os = "macos")]
        {
            Ok(DenialCapture {
                inner: macos::Capture::start()?,
            })
        }
        #[cfg(not(target_os = "macos"))]
        {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "denial capture needs macOS `log stream`",
            ))
        }
    }

    /// Stops the stream (after a short settle delay for late reports) and
    /// returns the messages about `pids`.
    pub fn finish(self, pids: &[u32]) -> Vec<String> {
        #[cfg(target_os = "macos")]
        {
            filter_denials(&self.inner.finish(), pids)
        }
        #[cfg(not(target_os = "macos"))]
        {
            let _ = pids;
            Vec::new()
        }
    }
}

#[cfg(target_os = "macos")]
mod macos {
    use std::io::{self, Read};
    use std::process::{Child, Command, Stdio};
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// Reports reach the log stream a little after the denial happened.
    const SETTLE: Duration = Duration::from_millis(300);

    pub(super) struct Capture {
        child: Child,
        reader: JoinHandle<String>,
    }

    impl Capture {
        pub(super) fn start() -> io::Result<Capture> {
            let mut child = Command::new(super::LOG_BIN)
                .args(super::log_stream_args())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let mut stdout = child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("log stream has no stdout"))?;
            let reader = std::thread::Builder::new()
                .name("beltcheck-denials".into())
                .spawn(move || {
                    let mut text = String::new();
                    let mut bytes = Vec::new();
                    let _ = stdout.read_to_end(&mut bytes);
                    text.push_str(&String::from_utf8_lossy(&bytes));
                    text
                })?;
            Ok(Capture { child, reader })
        }

        pub(super) fn finish(mut self) -> String {
            std::thread::sleep(SETTLE);
            let _ = self.child.kill();
            let _ = self.child.wait();
            // The pipe closed with the child: the reader returns.
            self.reader.join().unwrap_or_default()
        }
    }
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

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn start_is_unsupported_off_macos() {
        assert_eq!(
            DenialCapture::start().err().map(|e| e.kind()),
            Some(io::ErrorKind::Unsupported)
        );
    }
}
