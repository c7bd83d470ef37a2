//! The workload probes run their real programs on this host, unsandboxed:
//! allowed where the program exists, `unsupported` where it does not, and
//! a real refusal read from the program's own output as `denied`.
//! CI installs Debian's python3 (`.ci/run`); these tests need it.

mod common;

use std::os::unix::net::UnixListener;

use common::*;
use probes::Verdict;

fn python_present() {
    assert!(
        probes::workload::installed(probes::workload::PYTHON),
        "{} is needed by these tests (.ci/run installs Debian's python3)",
        probes::workload::PYTHON
    );
}

#[test]
fn python_multiprocessing_takes_a_lock_and_runs_a_pool_job() {
    python_present();
    let r = run(&["workload-sem"]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.step, "submit");
    assert!(r.detail.contains("6*7 = 42"), "{}", r.detail);
}

#[test]
fn python_client_exchanges_a_byte_with_a_greeting_peer() {
    python_present();
    let dir = tempfile::tempdir().unwrap();
    let (path, peer) = greeting_peer(dir.path());
    let r = run(&["workload-unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.step, "write-reply");
    assert_eq!(peer.join().unwrap(), b'G');
}

/// A socket the client may not connect to: the program's own `OSError`
/// errno is the verdict (EACCES: denied), not a guess from its exit code.
#[test]
fn python_client_refused_by_permissions_is_denied_with_the_errno() {
    python_present();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    // Write permission on the socket file is what connect(2) checks.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut c = command(&["workload-unix-connect", "--path", path.to_str().unwrap()]);
    let r = report_of(&unprivileged(&mut c).output().unwrap());
    assert_verdict(&r, Verdict::Denied);
    assert_eq!(
        (r.errno, r.step.as_str()),
        (Some(i64::from(libc::EACCES)), "connect")
    );
    assert!(r.detail.contains("PermissionError"), "{}", r.detail);
}

#[test]
fn python_client_to_a_missing_socket_is_an_error_not_a_denial() {
    python_present();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sock");
    let r = run(&["workload-unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.errno, Some(i64::from(libc::ENOENT)));
}

#[test]
fn script_sets_a_nested_pty_raw() {
    let r = run(&["workload-pty"]);
    assert_verdict(&r, Verdict::Allowed);
    assert!(r.detail.contains("raw mode"), "{}", r.detail);
}

#[test]
#[cfg(not(target_os = "macos"))]
fn security_is_unsupported_off_macos() {
    let r = run(&["workload-keychain"]);
    assert_verdict(&r, Verdict::Unsupported);
    assert!(
        r.detail.contains("/usr/bin/security is not installed"),
        "{}",
        r.detail
    );
}
