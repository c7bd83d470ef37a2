//! Every Linux probe, run unsandboxed on this host with real calls, reports
//! `allowed` (tiocsti: what the kernel really allows).

mod common;

use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;

use common::*;
use probes::{ProbeReport, Verdict};

#[test]
fn pty_round_trips_winsize_and_a_byte() {
    let r = run(&["pty"]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.step, "read-byte");
    assert!(r.detail.contains("37x101"), "{}", r.detail);
}

#[test]
#[cfg(target_os = "linux")]
fn sem_and_shm_are_allowed() {
    for name in ["sem", "shm"] {
        let r = run(&[name]);
        assert_verdict(&r, Verdict::Allowed);
        assert!(r.detail.contains("/beltcheck.probe."), "{}", r.detail);
    }
}

#[test]
#[cfg(target_os = "linux")]
fn keychain_uses_the_kernel_keyring_on_linux() {
    let r = run(&["keychain"]);
    assert_verdict(&r, Verdict::Allowed);
    assert!(
        r.detail.contains("linux kernel keyring stand-in"),
        "{}",
        r.detail
    );
    // The key is unusable afterwards (gone, or revoked awaiting GC).
    let desc = r
        .detail
        .split_whitespace()
        .find(|w| w.starts_with("beltcheck.probe."))
        .unwrap();
    assert!(!key_usable(desc), "{desc} still usable in /proc/keys");
}

#[test]
fn unix_connect_exchanges_a_byte_with_a_greeting_peer() {
    let dir = tempfile::tempdir().unwrap();
    let (path, peer) = greeting_peer(dir.path());
    let r = run(&["unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.step, "write-reply");
    assert_eq!(peer.join().unwrap(), b'G');
}

#[test]
fn unix_connect_to_a_silent_peer_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    let r = run(&["unix-connect", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.step, "connect");
}

#[test]
fn unix_bind_binds_and_removes_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bound.sock");
    let r = run(&["unix-bind", "--path", path.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Allowed);
    assert!(!path.exists(), "socket file left behind");
}

#[test]
fn network_connects_to_a_loopback_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let r = run(&["network", "--host", "127.0.0.1", "--port", &port]);
    assert_verdict(&r, Verdict::Allowed);
}

#[test]
fn file_read_and_write_are_allowed_and_write_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let readable = dir.path().join("r.txt");
    std::fs::write(&readable, b"hello").unwrap();
    let r = run(&["file-read", "--path", readable.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.detail, "read 5 bytes");

    let target = dir.path().join("w.txt");
    let w = run(&["file-write", "--path", target.to_str().unwrap()]);
    assert_verdict(&w, Verdict::Allowed);
    assert!(!target.exists(), "written file left behind");
}

#[test]
fn file_write_refuses_to_touch_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("keep.txt");
    std::fs::write(&existing, b"precious").unwrap();
    let r = run(&["file-write", "--path", existing.to_str().unwrap()]);
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.errno, Some(i64::from(libc::EEXIST)));
    assert_eq!(std::fs::read(&existing).unwrap(), b"precious");
}

/// `nofile` run with the soft limit set to `soft` and an inherited
/// descriptor parked well above the low slots.
fn nofile_at(soft: u64) -> ProbeReport {
    let mut c = command(&["nofile"]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            lim.rlim_cur = soft;
            let high = (soft.min(4096) as libc::c_int) / 2 + 3;
            if libc::dup2(2, high) < 0 || libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    report_of(&c.output().expect("spawn beltcheck-probe"))
}

/// The kernel's boundary check handed out slot `soft - 1` (or found it
/// already in use: the parked descriptor sits there for tiny limits).
fn below_limit_usable(detail: &str, soft: u64) -> bool {
    let top = soft - 1;
    detail.contains(&format!("dupfd_below={top} "))
        || detail.contains(&format!("dupfd_below={top}(in use) "))
}

/// Up to 4,096 the whole table fills: EMFILE exactly at the limit, the top
/// slot in use, and the kernel's boundary check agreeing.
#[test]
fn nofile_hits_emfile_exactly_at_small_soft_limits() {
    for soft in [5u64, 7, 64, 253, 254, 300, 1000, 4096] {
        let r = nofile_at(soft);
        assert_verdict(&r, Verdict::Allowed);
        let d = &r.detail;
        assert!(d.contains(&format!("soft={soft} ")), "{d}");
        assert!(below_limit_usable(d, soft), "{d}");
        assert!(
            d.contains(&format!("dupfd_at=errno {} ", libc::EINVAL)),
            "{d}"
        );
        assert!(d.contains(&format!("highest_fd={} ", soft - 1)), "{d}");
        assert!(d.ends_with(&format!("emfile_at={soft}")), "{d}");
    }
}

/// Above 4,096 the fill stops at 4,096 slots, all in use, and the boundary
/// check places the limit.
#[test]
fn nofile_proves_large_limits_by_the_boundary_and_a_bounded_fill() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: writes one rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let soft = lim.rlim_max.min(20_000);
    assert!(
        soft > 4097,
        "hard limit {} leaves nothing to bound",
        lim.rlim_max
    );
    for soft in [4097, soft] {
        let r = nofile_at(soft);
        assert_verdict(&r, Verdict::Allowed);
        let d = &r.detail;
        assert!(below_limit_usable(d, soft), "{d}");
        assert!(
            d.contains(&format!("dupfd_at=errno {} ", libc::EINVAL)),
            "{d}"
        );
        assert!(d.contains("filled=4096 "), "{d}");
        assert!(d.ends_with(&format!("limit_at={soft}")), "{d}");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn sysctl_reads_proc_sys() {
    let r = run(&["sysctl", "--name", "kernel.ostype"]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.detail, "kernel.ostype = Linux");
}

#[test]
#[cfg(target_os = "linux")]
fn sysctl_reads_macos_kern_names_from_linux_kernel_subtree() {
    // The matrix asks for `kern.ostype`, the name the model decides on.
    let r = run(&["sysctl", "--name", "kern.ostype"]);
    assert_verdict(&r, Verdict::Allowed);
    assert_eq!(r.detail, "kern.ostype = Linux");
}
