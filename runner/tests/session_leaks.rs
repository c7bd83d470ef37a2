//! Sessions leave nothing behind: after 1,000 sequential and 8 concurrent
//! sessions the process has the fds and threads it had before, and a
//! session starts no thread that outlives it (not even a process-wide one:
//! the counts are taken before the first session). One test in its own
//! binary, so no other test's threads or fds move the counts.

use std::time::Duration;

use runner::launch::CommandSpec;
use runner::pty::{self, SessionOptions, SignalPolicy};

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// Open descriptors and threads of this process. macOS has no /proc: its
/// /dev/fd lists the descriptors, and its thread count comes from ps.
fn counts() -> (usize, usize) {
    #[cfg(target_os = "linux")]
    return (count("/proc/self/fd"), count("/proc/self/task"));
    #[cfg(not(target_os = "linux"))]
    return (count("/dev/fd"), threads());
}

#[cfg(not(target_os = "linux"))]
fn threads() -> usize {
    let out = std::process::Command::new("ps")
        .args(["-M", "-p", &std::process::id().to_string()])
        .output()
        .expect("run ps -M");
    // One header line, then one line per thread.
    String::from_utf8_lossy(&out.stdout).lines().count() - 1
}

/// The counts once they equal `want`, or the last ones seen after 2 s: a
/// joined thread's kernel task can linger in /proc for a moment after
/// pthread_join returned.
fn settled_counts(want: (usize, usize)) -> (usize, usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let now = counts();
        if now == want || std::time::Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn opts(i: usize) -> SessionOptions {
    // Alternate with and without a signal registration so both paths churn.
    let signals = match i % 2 {
        0 => SignalPolicy::TerminateSession,
        _ => SignalPolicy::Untouched,
    };
    SessionOptions {
        signals,
        timeout: Some(Duration::from_secs(10)),
        ..SessionOptions::detached()
    }
}

#[test]
fn sequential_and_concurrent_sessions_leak_no_fds_or_threads() {
    let t = CommandSpec {
        program: "/bin/true".into(),
        args: vec![],
    };
    let start = counts();
    assert_eq!(pty::run(&t, &opts(0)).unwrap().code, 0);
    assert_eq!(
        settled_counts(start),
        start,
        "(fds, threads) after one session"
    );

    for i in 0..1000 {
        let out = pty::run(&t, &opts(i)).unwrap();
        assert_eq!(out.code, 0, "session {i}");
    }
    assert_eq!(
        settled_counts(start),
        start,
        "(fds, threads) after 1,000 sequential sessions"
    );

    let workers: Vec<_> = (0..8)
        .map(|w| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    let script = format!("printf 'worker-{w}-{i}'");
                    let cmd = CommandSpec {
                        program: "/bin/sh".into(),
                        args: vec!["-c".into(), script.clone().into()],
                    };
                    let out = pty::run(&cmd, &opts(i)).unwrap();
                    assert_eq!(out.code, 0);
                    // Concurrent sessions never see each other's output.
                    assert_eq!(
                        String::from_utf8_lossy(&out.output),
                        format!("worker-{w}-{i}")
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        settled_counts(start),
        start,
        "(fds, threads) after 8 concurrent sessions"
    );
}
