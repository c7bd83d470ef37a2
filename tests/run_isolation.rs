//! `beltcheck run` as a black box: what reaches the workload besides its
//! stdio, what outlives the session, and the exit statuses of a workload
//! that cannot start.
//!
//! Descriptors: the caller of `beltcheck` holds a file, a loopback TCP
//! socket or one end of a socketpair on fd 7 (not close-on-exec, as a shell's
//! `exec 7>>file` leaves it); the workload tries to write to fd 7. Nothing
//! may arrive, on every backend.
//!
//! The Linux backend needs bwrap, user namespaces and Landlock on the host;
//! without them these tests fail with the backend's own reason.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The fd number the caller leaks into `beltcheck`.
const LEAKED_FD: RawFd = 7;

#[derive(Clone, Copy, Debug)]
enum Backend {
    #[cfg(target_os = "linux")]
    Linux,
    None,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Backend::Linux => "linux",
            Backend::None => "none",
        }
    }
}

fn backends() -> Vec<Backend> {
    vec![
        #[cfg(target_os = "linux")]
        Backend::Linux,
        Backend::None,
    ]
}

/// `beltcheck run --backend B -- ARGV`, stdin null, with `fd` placed on
/// [`LEAKED_FD`] in beltcheck (not close-on-exec), as a shell would leave it.
fn run_with_fd(backend: Backend, fd: Option<RawFd>, argv: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beltcheck"));
    cmd.args(["run", "--backend", backend.name(), "--timeout", "30", "--"])
        .args(argv)
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null());
    if let Some(fd) = fd {
        // SAFETY: dup2 is async-signal-safe; `fd` stays open in the parent
        // until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, LEAKED_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.output().expect("spawn beltcheck")
}

/// A workload that writes to fd 7 and says whether that worked.
const WRITE_TO_FD7: &str = "if echo LEAK >&7; then echo WROTE; else echo CLOSED; fi 2>/dev/null";

fn assert_closed(backend: Backend, out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CLOSED") && !stdout.contains("WROTE"),
        "{what} on fd 7 reached the workload under backend {}: status {}, stdout {stdout:?}, stderr {:?}",
        backend.name(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_inherited_file_does_not_reach_the_workload() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&outside)
            .unwrap();
        let out = run_with_fd(backend, Some(file.as_raw_fd()), &["sh", "-c", WRITE_TO_FD7]);
        assert_closed(backend, &out, "a file");
        assert_eq!(std::fs::read(&outside).unwrap(), b"", "{backend:?}");
    }
}

#[test]
fn an_inherited_tcp_socket_does_not_reach_the_workload() {
    for backend in backends() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let out = run_with_fd(
            backend,
            Some(client.as_raw_fd()),
            &["sh", "-c", WRITE_TO_FD7],
        );
        assert_closed(backend, &out, "a TCP socket");
        server.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match server.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{backend:?}: data or EOF arrived on the socket: {other:?}"),
        }
    }
}

#[test]
fn an_inherited_socketpair_end_does_not_reach_the_workload() {
    for backend in backends() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let out = run_with_fd(backend, Some(ours.as_raw_fd()), &["sh", "-c", WRITE_TO_FD7]);
        assert_closed(backend, &out, "a socketpair end");
        theirs.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match theirs.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{backend:?}: data or EOF arrived on the socketpair: {other:?}"),
        }
    }
}

/// Only stdio (and nothing else: `beltcheck run` passes no channel to the
/// workload) is open in the workload. `ls` adds its own directory fd, so the
/// shell lists its fds with a glob instead.
#[cfg(target_os = "linux")]
#[test]
fn only_stdio_is_open_in_the_workload() {
    for backend in backends() {
        let out = run_with_fd(
            backend,
            None,
            &["sh", "-c", "cd /proc/self/fd && echo FDS *"],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("FDS"))
            .unwrap_or_else(|| panic!("{backend:?}: no FDS line in {stdout:?}"));
        // The glob runs in the shell itself; its fds are 0, 1, 2 and the
        // one open on the directory being read (which may be 3).
        let fds: Vec<u32> = line
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap())
            .collect();
        assert!(
            fds.iter().filter(|&&f| f > 2).count() <= 1 && fds.starts_with(&[0, 1, 2]),
            "{backend:?}: open fds {fds:?}"
        );
    }
}

/// A directory the sandbox must show the workload.
enum Grant<'a> {
    ReadOnly(&'a Path),
    ReadWrite(&'a Path),
}

/// `beltcheck run --backend B --config (granting DIR) -- ARGV`, stdin null.
fn run_in(backend: Backend, grant: Grant<'_>, argv: &[&str]) -> Output {
    let (key, dir) = match grant {
        Grant::ReadOnly(d) => ("read_only", d),
        Grant::ReadWrite(d) => ("read_write", d),
    };
    let config = tempfile::NamedTempFile::with_suffix(".json").unwrap();
    let json = serde_json::json!({ "filesystem": { key: [dir] } });
    std::fs::write(config.path(), json.to_string()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args([
            "run",
            "--backend",
            backend.name(),
            "--timeout",
            "30",
            "--config",
        ])
        .arg(config.path())
        .arg("--")
        .args(argv)
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck")
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_command_exits_127_with_a_clear_message() {
    for backend in backends() {
        let out = run_with_fd(backend, None, &["beltcheck-no-such-command"]);
        assert_eq!(
            out.status.code(),
            Some(127),
            "{backend:?}: {}",
            stderr_of(&out)
        );
        let err = stderr_of(&out);
        assert!(
            err.contains("beltcheck-no-such-command") && err.contains("not found"),
            "{backend:?}: {err:?}"
        );
        assert!(!err.contains("refused the profile"), "{backend:?}: {err:?}");
    }
}

#[test]
fn a_non_executable_command_exits_126_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, b"data").unwrap();
    for backend in backends() {
        // The file must be visible inside the sandbox.
        let out = run_in(
            backend,
            Grant::ReadOnly(dir.path()),
            &[plain.to_str().unwrap()],
        );
        check_126(backend, &out);
    }
}

fn check_126(backend: Backend, out: &Output) {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(126), "{backend:?}: {err}");
    assert!(
        err.contains("plain-file") && err.contains("not executable"),
        "{backend:?}: {err:?}"
    );
}

#[test]
fn a_workload_printing_like_bwrap_is_a_workload_exit() {
    for backend in backends() {
        let out = run_with_fd(
            backend,
            None,
            &[
                "sh",
                "-c",
                "echo 'bwrap: x'; echo 'beltcheck-stage: y'; exit 1",
            ],
        );
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{backend:?}: {err}");
        assert!(!err.contains("refused"), "{backend:?}: {err:?}");
    }
}

/// A workload that double-forks a `setsid` grandchild which keeps writing
/// the time into `marker` (inside a pid namespace pids differ, so survival
/// is checked through the file).
fn leave_a_daemon(backend: Backend, marker: &Path) {
    let script = format!(
        "( setsid sh -c 'while :; do date +%s%N > {m}; sleep 0.05; done' </dev/null >/dev/null 2>&1 & ) ; sleep 0.3; exit 0",
        m = marker.display()
    );
    let out = run_in(
        backend,
        Grant::ReadWrite(marker.parent().unwrap()),
        &["sh", "-c", &script],
    );
    assert!(out.status.success(), "{backend:?}: {}", stderr_of(&out));
}

/// The marker stops changing within a short while after beltcheck returned.
fn assert_stops_changing(backend: Backend, marker: &Path) {
    assert!(marker.exists(), "{backend:?}: the daemon never ran");
    std::thread::sleep(Duration::from_millis(300));
    let before = std::fs::read(marker).unwrap();
    let deadline = Instant::now() + Duration::from_millis(600);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            std::fs::read(marker).unwrap(),
            before,
            "{backend:?}: a setsid grandchild outlived its session"
        );
    }
}

#[test]
fn a_double_forked_setsid_grandchild_dies_with_the_session() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("alive");
        leave_a_daemon(backend, &marker);
        assert_stops_changing(backend, &marker);
    }
}

/// A probe that leaves a `setsid` daemon behind, in its control run (no
/// sandbox) and in its cell (the host's backend): nothing survives the
/// matrix. The daemon keeps writing the time to a marker file.
#[test]
fn a_probe_that_double_forks_leaves_nothing_behind_the_matrix() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let marker = dir.path().join("alive");
    let probe = dir.path().join("daemonising-probe");
    std::fs::write(
        &probe,
        format!(
            "#!/bin/bash\n( setsid sh -c 'while :; do date +%s%N > {m}; sleep 0.05; done' </dev/null >/dev/null 2>&1 & )\nsleep 0.3\necho 'verdict {{\"probe\":\"'\"$1\"'\",\"verdict\":\"allowed\",\"errno\":null,\"step\":\"fake\",\"detail\":\"fake\",\"duration_us\":1}}' >&\"$BELTCHECK_VERDICT_FD\"\n",
            m = marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&probe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for backend in backends() {
        let _ = std::fs::remove_file(&marker);
        let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
            .args(["matrix", "--quiet", "--jobs", "1", "--probes", "sem"])
            .args(["--backend", backend.name(), "--configs"])
            .arg("nested_pty && keychain_access && gui_access && ui.injection && posix_ipc.semaphores && unix_socket && network.outbound")
            .arg("--probe-bin")
            .arg(&probe)
            .arg("--out")
            .arg(dir.path().join("report"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{backend:?}: {}",
            stderr_of(&out)
        );
        assert_stops_changing(backend, &marker);
    }
}
