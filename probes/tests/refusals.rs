//! Failures are classified honestly: missing things are `error`, permission
//! refusals `denied`, absent capabilities `unsupported`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

use common::*;
use probes::Verdict;

#[test]
fn missing_socket_path_is_error_enoent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sock");
    let r = run(&["unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.errno, Some(i64::from(libc::ENOENT)));
    assert_eq!(r.step, "connect");
}

#[test]
fn socket_in_a_closed_dir_probed_without_rights_is_denied_eacces() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.path().join("private.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    // Control: the owner may connect.
    let control = run(&["unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&control, Verdict::Allowed);

    // Root probes as nobody; an ordinary user (whom 0700 lets through, and
    // whom no DAC override lets through 0000) closes the directory instead.
    if !is_root() {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let mut cmd = command(&["unix-connect", "--path", path.to_str().unwrap()]);
    let r = report_of(&unprivileged(&mut cmd).output().unwrap());
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_verdict(&r, Verdict::Denied);
    assert_eq!(r.errno, Some(i64::from(libc::EACCES)));
    assert_eq!(r.step, "connect");
}

#[test]
fn file_read_without_rights_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, b"x").unwrap();
    // 0600 keeps nobody out when root probes; 0000 keeps the owner out
    // when an ordinary user does (root would override it).
    let mode = if is_root() { 0o600 } else { 0o000 };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    let mut cmd = command(&["file-read", "--path", path.to_str().unwrap()]);
    let r = report_of(&unprivileged(&mut cmd).output().unwrap());
    assert_verdict(&r, Verdict::Denied);
    assert_eq!(r.errno, Some(i64::from(libc::EACCES)));
    assert_eq!(r.step, "open");
}

#[test]
#[cfg(target_os = "linux")]
fn hid_is_unsupported_without_input_devices() {
    let any_device = std::path::Path::new("/dev/uinput").exists()
        || std::path::Path::new("/dev/input").exists()
        || std::fs::read_dir("/dev")
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("hidraw"));
    let r = run(&["hid"]);
    if any_device {
        // This host has input devices: the probe must have tried them.
        assert_eq!(r.step, "open-device", "{r:?}");
    } else {
        assert_verdict(&r, Verdict::Unsupported);
        assert_eq!(r.step, "find-devices");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn mach_lookup_is_unsupported_on_linux() {
    let r = run(&["mach-lookup", "--name", "com.apple.SecurityServer"]);
    assert_verdict(&r, Verdict::Unsupported);
}

#[test]
#[cfg(target_os = "linux")]
fn missing_sysctl_is_error_enoent_and_a_traversal_is_einval() {
    let r = run(&["sysctl", "--name", "kernel.no_such_knob_beltcheck"]);
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.errno, Some(i64::from(libc::ENOENT)));
    let t = run(&["sysctl", "--name", "kernel...etc"]);
    assert_verdict(&t, Verdict::Error);
    assert_eq!(t.errno, Some(i64::from(libc::EINVAL)));
}

#[test]
fn a_hanging_call_comes_back_as_error_timeout() {
    // open(2) of a FIFO with no writer blocks forever: a real hang.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("no-writer");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = std::time::Instant::now();
    let r = run(&[
        "file-read",
        "--path",
        fifo.to_str().unwrap(),
        "--timeout-ms",
        "200",
    ]);
    let took = started.elapsed();
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.detail, "timeout");
    assert_eq!(r.step, "open");
    assert_eq!(r.errno, None);
    assert!(took < std::time::Duration::from_secs(3), "took {took:?}");
    assert!(r.duration_us >= 200_000, "{r:?}");
}
