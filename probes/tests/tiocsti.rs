//! TIOCSTI on a test-created pty made the probe's controlling terminal
//! (setsid + TIOCSCTTY before exec). The expected verdict is computed from
//! what this kernel allows: `dev.tty.legacy_tiocsti` and CAP_SYS_ADMIN.
// Linux behaviour (keyring, /dev/shm, legacy_tiocsti); macOS is settled by the matrix.
#![cfg(target_os = "linux")]

mod common;

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use common::*;
use probes::Verdict;

/// Credentials for the probe process: the test's own (root in CI here, an
/// ordinary user elsewhere), or none (`nobody` when the test is root).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Caller,
    Unprivileged,
}

fn legacy_tiocsti() -> Option<bool> {
    let v = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").ok()?;
    Some(v.trim() == "1")
}

fn has_cap_sys_admin(who: Who) -> bool {
    if who == Who::Unprivileged {
        return false;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap()
        .trim();
    u64::from_str_radix(eff, 16).unwrap() & (1 << 21) != 0
}

/// The kernel rule (drivers/tty/tty_io.c, tiocsti): EIO when the legacy knob
/// is off and the caller lacks CAP_SYS_ADMIN; own controlling tty otherwise ok.
fn expected(who: Who) -> Verdict {
    match legacy_tiocsti() {
        Some(false) if !has_cap_sys_admin(who) => Verdict::Denied,
        _ => Verdict::Allowed,
    }
}

fn run_on_pty(who: Who) -> probes::ProbeReport {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = pty.slave.as_raw_fd();
    let mut cmd = Command::new(BIN);
    cmd.arg("tiocsti");
    // SAFETY: async-signal-safe calls only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    if who == Who::Unprivileged {
        unprivileged(&mut cmd);
    }
    let out = cmd.output().expect("spawn");
    report_of(&out)
}

#[test]
fn tiocsti_as_the_caller_matches_the_kernel() {
    let r = run_on_pty(Who::Caller);
    assert_verdict(&r, expected(Who::Caller));
}

#[test]
fn tiocsti_unprivileged_matches_the_kernel() {
    let r = run_on_pty(Who::Unprivileged);
    assert_verdict(&r, expected(Who::Unprivileged));
    if r.verdict == Verdict::Denied {
        assert_eq!(r.errno, Some(i64::from(libc::EIO)));
        assert!(r.detail.contains("legacy_tiocsti=0"), "{}", r.detail);
    }
}

#[test]
fn tiocsti_without_a_controlling_tty_is_an_error() {
    let mut cmd = Command::new(BIN);
    cmd.arg("tiocsti");
    // SAFETY: setsid only, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let r = report_of(&cmd.output().unwrap());
    assert_verdict(&r, Verdict::Error);
    assert_eq!(r.errno, Some(i64::from(libc::ENXIO)));
    assert_eq!(r.step, "open-controlling-tty");
}
