//! How `beltcheck run --backend linux` starts bubblewrap ("Speed kept",
//! issue 13): one launch per call, no availability check before it
//! (`bwrap --version` and a smoke-test sandbox cost about 5 ms each call);
//! when the launch fails, the message says why.
//!
//! bubblewrap is replaced by a script (`BELTCHECK_BWRAP`) that logs each
//! invocation and then runs the real one, or fails as bubblewrap does on a
//! host without user namespaces.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Writes an executable shell script `name` into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn real_bwrap() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .map(|d| d.join("bwrap"))
        .find(|p| p.is_file())
        .expect("bwrap on PATH")
}

fn run_linux(bwrap: &Path, cmd: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", "linux", "--timeout", "60", "--"])
        .args(cmd)
        .env("BELTCHECK_BWRAP", bwrap)
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck")
}

#[test]
fn a_run_starts_bubblewrap_once_and_checks_nothing_before() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    let wrapper = script(
        dir.path(),
        "bwrap",
        &format!(
            "echo \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_bwrap().display()
        ),
    );
    let out = run_linux(&wrapper, &["/bin/echo", "ran"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "ran",
        "{:?} stdout {stdout:?} stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    // The one launch (its first argument is the first sandbox flag); no
    // `--version`, no smoke test.
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["--die-with-parent"],
        "{calls}"
    );
}

#[test]
fn a_launch_bubblewrap_cannot_build_says_why_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    // What bubblewrap prints where unprivileged user namespaces are off.
    let failing = script(
        dir.path(),
        "bwrap",
        "echo 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n",
    );
    let out = run_linux(&failing, &["/bin/true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("backend linux is unavailable: bwrap: setting up uid map")
            && stderr.contains("user namespaces"),
        "{stderr}"
    );
    assert!(!stderr.contains("refused the profile"), "{stderr}");
}

#[test]
fn a_missing_bubblewrap_named_by_the_override_is_reported() {
    let out = run_linux(Path::new("/nonexistent/bwrap"), &["/bin/true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/bwrap does not exist"),
        "{stderr}"
    );
}
