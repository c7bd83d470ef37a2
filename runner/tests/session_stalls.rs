//! A session is one poll loop, so nothing may block it: a stdout nobody
//! reads must not stop the timeout. Runs the Terminal-mode driver binary
//! with its stdout on a pipe this test controls.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

/// Runs the driver, returns its exit code and wall time.
fn run_driver(args: &[&str], stdout: Stdio) -> (Option<i32>, Duration) {
    let started = Instant::now();
    let mut cmd = Command::new(support::pty_session_driver());
    cmd.args(args).stdin(Stdio::null()).stdout(stdout);
    cmd.process_group(0);
    let status = cmd.status().expect("run driver");
    (status.code(), started.elapsed())
}

#[test]
fn a_stdout_nobody_reads_does_not_stop_the_timeout() {
    // Our end of the pipe stays open and unread for the whole run.
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    let (code, wall) = run_driver(
        &["--timeout-ms", "500", "--grace-ms", "300", "--", "yes"],
        Stdio::from(writer),
    );
    drop(reader);
    // Timeout 0.5 s + grace 0.3 s for the group + 0.3 s for queued output.
    assert!(wall < Duration::from_secs(4), "took {wall:?}");
    assert_eq!(code, Some(128 + libc::SIGTERM), "yes ends by our SIGTERM");
}
