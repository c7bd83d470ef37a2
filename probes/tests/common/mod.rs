//! Helpers shared by the probe binary's integration tests: run the real
//! binary and parse its one JSON line.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::JoinHandle;

use probes::{ProbeReport, Verdict};

pub const BIN: &str = env!("CARGO_BIN_EXE_beltcheck-probe");

pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    c
}

/// Whether the tests run as root (CI here) or as an ordinary user (a
/// developer, GitHub's macOS runners, `ci/test-as-user.sh`).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `c` without privileges: as `nobody` (looked up, not assumed to be
/// 65534) when the tests run as root; unchanged when they already run as an
/// ordinary user, who has no privileges to drop.
pub fn unprivileged(c: &mut Command) -> &mut Command {
    if !is_root() {
        return c;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("look up nobody")
        .expect("this host has no user named nobody");
    let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Parse the single JSON object the binary prints; asserts exit 0 and
/// exactly one line.
pub fn report_of(out: &Output) -> ProbeReport {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit status; stdout={stdout} stderr={}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one line expected: {stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

pub fn run(args: &[&str]) -> ProbeReport {
    report_of(&command(args).output().expect("spawn beltcheck-probe"))
}

#[track_caller]
pub fn assert_verdict(r: &ProbeReport, v: Verdict) {
    assert_eq!(r.verdict, v, "report: {r:?}");
}

/// Whether /dev/shm holds anything named for `pid` with the probe prefix.
pub fn shm_leftovers(pid: u32) -> Vec<String> {
    let prefix = format!("beltcheck.probe.{pid}.");
    std::fs::read_dir("/dev/shm")
        .expect("/dev/shm")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.trim_start_matches("sem.").starts_with(&prefix))
        .collect()
}

/// Whether a usable (not revoked, dead or invalidated) key with description
/// `desc` is listed in /proc/keys. Revoked keys linger there until the
/// kernel's key GC runs, flagged R / D / i.
pub fn key_usable(desc: &str) -> bool {
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    keys.lines().any(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        fields
            .get(8)
            .is_some_and(|d| d.trim_end_matches(':') == desc)
            && fields.get(1).is_some_and(|f| !f.contains(['R', 'D', 'i']))
    })
}

/// A Unix socket in `dir` whose one peer sends a greeting byte `G` and
/// returns the byte it gets back (what the unix-connect probes exchange).
pub fn greeting_peer(dir: &Path) -> (PathBuf, JoinHandle<u8>) {
    let path = dir.join("greeter.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"G").unwrap();
        let mut reply = [0u8; 1];
        s.read_exact(&mut reply).unwrap();
        reply[0]
    });
    (path, peer)
}
