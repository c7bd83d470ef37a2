//! What the child of a pty session sees, and how a session ends, driven in
//! process in Detached mode (no outer terminal needed).

#[cfg(target_os = "linux")]
use std::collections::HashMap;
use std::time::{Duration, Instant};

use runner::launch::CommandSpec;
use runner::pty::{self, ExitKind, RaiseNofile, SessionOptions, Winsize};

fn sh(script: &str) -> CommandSpec {
    CommandSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
    }
}

fn run(script: &str, opts: &SessionOptions) -> pty::SessionOutcome {
    pty::run(&sh(script), opts).expect("session runs")
}

fn text(out: &pty::SessionOutcome) -> String {
    String::from_utf8_lossy(&out.output).into_owned()
}

/// `Key:\tvalue` lines of /proc/PID/status.
#[cfg(target_os = "linux")]
fn status_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// `(pid, pgid, state)` of every process, from `ps`, whose `-A -o` form
/// reads the same on Linux (procps) and macOS (BSD ps), so these helpers
/// need no /proc. The state's first letter: `Z` zombie (`X` dead on Linux).
fn processes() -> Vec<(i32, i32, char)> {
    let out = std::process::Command::new("ps")
        .args(["-A", "-o", "pid=,pgid=,stat="])
        .output()
        .expect("run ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next()?.parse().ok()?;
            let pgid = f.next()?.parse().ok()?;
            let state = f.next()?.chars().next()?;
            Some((pid, pgid, state))
        })
        .collect()
}

fn is_live(state: char) -> bool {
    state != 'Z' && state != 'X'
}

fn alive(pid: i32) -> bool {
    processes()
        .iter()
        .any(|&(p, _, state)| p == pid && is_live(state))
}

/// SIGKILL is asynchronous: the runner has sent it when `run` returns, but
/// a killed process on a busy machine may need a moment to be scheduled and
/// finish exiting. Polls until `pid` is gone or a zombie, for at most 1 s
/// (far below the 30 s the workload would otherwise live).
fn dies_soon(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|&(_, g, state)| g == pgid && is_live(state))
        .map(|(pid, _, _)| pid)
        .collect()
}

#[test]
fn exit_code_and_signal_status() {
    let out = run("exit 7", &SessionOptions::detached());
    assert_eq!(
        (out.code, out.exit, out.timed_out),
        (7, ExitKind::Exited(7), false)
    );
    let out = run("kill -KILL $$", &SessionOptions::detached());
    assert_eq!((out.code, out.exit), (137, ExitKind::Signaled(9)));
}

#[test]
fn output_is_captured_byte_exact_and_complete() {
    let out = run(
        "seq 1 100000; printf 'tail-without-newline'",
        &SessionOptions::detached(),
    );
    let mut want: String = (1..=100000).map(|i| format!("{i}\n")).collect();
    want.push_str("tail-without-newline");
    assert_eq!(out.output.len(), want.len());
    assert!(
        out.output == want.as_bytes(),
        "output differs from the expected bytes"
    );
}

// Reads the child's /proc/self/status; the macOS matrix covers the same
// session set-up there (the tty probes run on the runner's pty).
#[cfg(target_os = "linux")]
#[test]
fn child_has_empty_mask_default_dispositions_and_owns_its_tty() {
    // Block signals in this thread, and ignore two in the whole process (a
    // harmless change for the other tests here): ignored dispositions
    // survive exec unless the runner resets them. (Current std already
    // empties the mask in its children; the runner does it regardless.)
    // SAFETY: manipulating this thread's own mask and two dispositions.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGWINCH, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGUSR1,
            libc::SIGWINCH,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
        ] {
            libc::sigaddset(&mut set, s);
        }
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()),
            0
        );
    }
    // The child itself reads its own /proc entries (no shell in between).
    let cat = CommandSpec {
        program: "/bin/cat".into(),
        args: vec!["/proc/self/status".into(), "/proc/self/stat".into()],
    };
    let out = pty::run(&cat, &SessionOptions::detached()).unwrap();
    let t = text(&out);
    let (status, stat) = t.trim_end().rsplit_once('\n').expect("both files printed");
    let fields = status_fields(status);
    assert_eq!(fields["SigBlk"], "0000000000000000", "child signal mask");
    // Rust ignores SIGPIPE in this process; none of these may stay ignored.
    let ignored = u64::from_str_radix(&fields["SigIgn"], 16).unwrap();
    for s in [
        libc::SIGPIPE,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGWINCH,
    ] {
        assert_eq!(
            ignored & (1 << (s - 1)),
            0,
            "signal {s} ignored in the child"
        );
    }
    let (_, rest) = stat.trim().rsplit_once(") ").unwrap();
    let f: Vec<i64> = rest
        .split(' ')
        .skip(1)
        .take(6)
        .map(|x| x.parse().unwrap())
        .collect();
    let (pid, pgrp, session, tty_nr, tpgid) = (out.pid as i64, f[1], f[2], f[3], f[4]);
    assert_eq!(
        (pgrp, session),
        (pid, pid),
        "child leads its own session and group"
    );
    assert_ne!(tty_nr, 0, "child has a controlling terminal");
    assert_eq!(
        tpgid, pgrp,
        "child's group is the terminal's foreground group"
    );
}

/// The kernel's per-process descriptor ceiling, which caps the raise.
fn kernel_nofile_ceiling() -> u64 {
    #[cfg(target_os = "linux")]
    let text = std::fs::read_to_string("/proc/sys/fs/nr_open").unwrap();
    #[cfg(not(target_os = "linux"))]
    let text = {
        let out = std::process::Command::new("sysctl")
            .args(["-n", "kern.maxfilesperproc"])
            .output()
            .expect("run sysctl");
        String::from_utf8(out.stdout).unwrap()
    };
    text.trim().parse().unwrap()
}

#[test]
fn nofile_soft_is_raised_to_hard_only_when_asked() {
    // SAFETY: an all-zero rlimit is valid storage.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit fills `lim`, which we own.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let hard = (lim.rlim_max as u64).min(kernel_nofile_ceiling());
    assert!(hard > 64, "hard NOFILE limit too low to test");
    // Lower our soft limit (this process only) so the raise is observable.
    let lowered = libc::rlimit {
        rlim_cur: 64,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads one rlimit; lowering our own soft limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
    let script = "echo $(ulimit -Sn) $(ulimit -Hn)";
    let kept = run(script, &SessionOptions::detached());
    let raised = run(
        script,
        &SessionOptions {
            raise_nofile: RaiseNofile::SoftToHard,
            ..SessionOptions::detached()
        },
    );
    // SAFETY: setrlimit reads one rlimit; putting back what getrlimit gave.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let hard_text = if lim.rlim_max == libc::RLIM_INFINITY {
        "unlimited".to_string()
    } else {
        hard.to_string()
    };
    assert_eq!(text(&kept).trim(), format!("64 {hard_text}"));
    assert_eq!(text(&raised).trim(), format!("{hard} {hard_text}"));
}

#[test]
fn detached_size_is_the_option_or_80x24() {
    let out = run("stty size", &SessionOptions::detached());
    assert_eq!(text(&out).trim(), "24 80");
    let opts = SessionOptions {
        winsize: Some(Winsize {
            rows: 51,
            cols: 132,
        }),
        ..SessionOptions::detached()
    };
    assert_eq!(text(&run("stty size", &opts)).trim(), "51 132");
}

#[test]
fn environment_is_added() {
    let opts = SessionOptions {
        env: vec![("BELTCHECK_T".into(), "v a l".into())],
        ..SessionOptions::detached()
    };
    assert_eq!(text(&run("printf %s \"$BELTCHECK_T\"", &opts)), "v a l");
}

#[test]
fn missing_program_is_a_spawn_error() {
    let cmd = CommandSpec {
        program: "/nonexistent/beltcheck-none".into(),
        args: vec![],
    };
    let err = pty::run(&cmd, &SessionOptions::detached()).unwrap_err();
    assert!(matches!(err, pty::RunError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/beltcheck-none"));
}

/// The exec itself fails in the child (the path is a directory): the error
/// comes back with its errno, nothing is left running, and the next session
/// works.
#[test]
fn an_exec_failure_in_the_child_is_a_spawn_error_with_its_errno() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = CommandSpec {
        program: dir.path().to_path_buf(),
        args: vec![],
    };
    let err = pty::run(&cmd, &SessionOptions::detached()).unwrap_err();
    match &err {
        pty::RunError::Spawn { source, .. } => {
            assert_eq!(source.raw_os_error(), Some(libc::EACCES), "{err:?}")
        }
        other => panic!("expected a spawn error, got {other:?}"),
    }
    assert_eq!(text(&run("printf ok", &SessionOptions::detached())), "ok");
}

/// A script without `#!` runs under /bin/sh, as execvp would run it.
#[test]
fn a_script_without_a_shebang_runs_under_sh() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("plain-script");
    std::fs::write(&script, "printf 'sh ran %s' \"$1\"\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cmd = CommandSpec {
        program: script,
        args: vec!["arg1".into()],
    };
    let out = pty::run(&cmd, &SessionOptions::detached()).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.output), "sh ran arg1");
}

/// A bare name is looked up on PATH, as a shell would.
#[test]
fn a_program_name_is_found_on_path() {
    let cmd = CommandSpec {
        program: "sh".into(),
        args: vec!["-c".into(), "printf found".into()],
    };
    let out = pty::run(&cmd, &SessionOptions::detached()).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.output), "found");
}

#[test]
fn timeout_terminates_the_whole_group() {
    let opts = SessionOptions {
        timeout: Some(Duration::from_millis(300)),
        grace: Duration::from_millis(300),
        ..SessionOptions::detached()
    };
    let started = Instant::now();
    // The grandchild ignores SIGTERM and SIGHUP: only SIGKILL ends it.
    let out = run(
        "(trap '' TERM HUP; exec sleep 30) & echo $!; exec sleep 30",
        &opts,
    );
    let took = started.elapsed();
    assert!(out.timed_out);
    assert_eq!(out.exit, ExitKind::Signaled(libc::SIGTERM));
    assert_eq!(out.code, 143);
    assert!(
        took < Duration::from_millis(300 + 300 + 200 + 700),
        "took {took:?}"
    );
    let grandchild: i32 = text(&out).trim().parse().unwrap();
    assert!(dies_soon(grandchild), "grandchild {grandchild} survived");
    assert!(
        group_members(out.pid as i32).is_empty(),
        "group {} not empty",
        out.pid
    );
}

#[test]
fn grandchild_holding_the_slave_does_not_hang_the_session() {
    let grace = Duration::from_millis(300);
    let opts = SessionOptions {
        timeout: Some(Duration::from_secs(5)),
        grace,
        ..SessionOptions::detached()
    };
    let started = Instant::now();
    let out = run("(trap '' TERM HUP; exec sleep 30) & echo $!; exit 3", &opts);
    let took = started.elapsed();
    assert_eq!((out.code, out.timed_out), (3, false));
    assert!(
        took < grace + Duration::from_millis(200 + 700),
        "took {took:?}"
    );
    let grandchild: i32 = text(&out).trim().parse().unwrap();
    assert!(dies_soon(grandchild), "grandchild {grandchild} survived");
    assert!(group_members(out.pid as i32).is_empty());
}

#[test]
fn escaped_daemon_holding_the_slave_is_let_go_after_grace() {
    let grace = Duration::from_millis(300);
    let opts = SessionOptions {
        timeout: Some(Duration::from_secs(5)),
        grace,
        ..SessionOptions::detached()
    };
    let started = Instant::now();
    // setsid: a new session, out of reach of the group kill, slave kept open.
    let out = run("setsid sleep 30 & echo $!; exit 0", &opts);
    let took = started.elapsed();
    let daemon: i32 = text(&out).trim().parse().unwrap();
    // SAFETY: cleaning up the process this test started.
    unsafe { libc::kill(daemon, libc::SIGKILL) };
    assert_eq!(out.code, 0);
    assert!(
        took < grace + Duration::from_millis(200 + 700),
        "took {took:?}"
    );
}
