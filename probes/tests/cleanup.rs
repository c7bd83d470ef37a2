//! Probes leave nothing behind, and `--sweep` removes what crashed runs left.
// Linux behaviour (keyring, /dev/shm, legacy_tiocsti); macOS is settled by the matrix.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::net::UnixListener;

use common::*;
use probes::Verdict;

#[test]
fn sem_and_shm_leave_nothing_in_dev_shm() {
    for name in ["sem", "shm"] {
        let child = command(&[name])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        let r = report_of(&out);
        assert_verdict(&r, Verdict::Allowed);
        assert!(
            r.detail.contains(&format!("beltcheck.probe.{pid}.")),
            "{}",
            r.detail
        );
        assert_eq!(
            shm_leftovers(pid),
            Vec::<String>::new(),
            "{name} left objects"
        );
    }
}

/// A pid that is certainly not running: a reaped child's.
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn sweep_removes_stale_ipc_and_sockets_and_keeps_live_ones() {
    let dead = dead_pid();
    let stale_sem = format!("/dev/shm/sem.beltcheck.probe.{dead}.0");
    let stale_shm = format!("/dev/shm/beltcheck.probe.{dead}.1");
    let live_shm = format!("/dev/shm/beltcheck.probe.{}.7", std::process::id());
    for p in [&stale_sem, &stale_shm, &live_shm] {
        std::fs::write(p, b"").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let stale_sock = dir.path().join(format!("beltcheck.probe.{dead}.sock"));
    drop(UnixListener::bind(&stale_sock).unwrap());
    let live_sock = dir.path().join("beltcheck.probe.live.sock");
    let _live = UnixListener::bind(&live_sock).unwrap();

    let out = command(&["--sweep", "--path", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let removed = summary["removed"].to_string();
    let kept = summary["kept_live"].to_string();

    assert!(!std::path::Path::new(&stale_sem).exists());
    assert!(!std::path::Path::new(&stale_shm).exists());
    assert!(!stale_sock.exists());
    assert!(
        std::path::Path::new(&live_shm).exists(),
        "live object removed"
    );
    assert!(live_sock.exists(), "live socket removed");
    assert!(
        removed.contains(&format!("sem.beltcheck.probe.{dead}.0")),
        "{removed}"
    );
    assert!(kept.contains("beltcheck.probe.live.sock"), "{kept}");
    std::fs::remove_file(&live_shm).unwrap();
}

#[test]
fn sweep_invalidates_stale_keyring_keys() {
    let dead = dead_pid();
    let desc = std::ffi::CString::new(format!("beltcheck.probe.{dead}.123")).unwrap();
    // SAFETY: add_key with valid strings and payload.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            desc.as_ptr(),
            b"x".as_ptr(),
            1usize,
            -3 as libc::c_long,
        )
    };
    assert!(serial > 0, "add_key: {}", std::io::Error::last_os_error());
    assert!(key_usable(desc.to_str().unwrap()), "test key not visible");
    let out = command(&["--sweep"]).output().unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("key:beltcheck.probe.{dead}.123")),
        "{summary}"
    );
    assert!(
        !key_usable(desc.to_str().unwrap()),
        "stale key still usable"
    );
}
