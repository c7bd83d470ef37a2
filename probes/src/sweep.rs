//! `--sweep`: remove what crashed probe runs left behind.
//!
//! Only objects named with [`crate::names::PREFIX`] whose creating process is
//! gone (or, for sockets, that nobody listens on) are touched; objects of
//! probes still running are kept.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::names::{owner_pid, pid_alive, PREFIX};

/// What a sweep did; printed as JSON by `beltcheck-probe --sweep`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    /// Objects removed, as `kind:name`.
    pub removed: Vec<String>,
    /// Objects left alone because their owner is alive.
    pub kept_live: Vec<String>,
    /// Objects that could not be removed.
    pub failed: Vec<SweepFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepFailure {
    pub what: String,
    pub errno: Option<i64>,
    pub detail: String,
}

impl SweepSummary {
    fn result(&mut self, what: String, r: std::io::Result<()>) {
        match r {
            Ok(()) => self.removed.push(what),
            Err(e) => self.failed.push(SweepFailure {
                what,
                errno: e.raw_os_error().map(i64::from),
                detail: e.to_string(),
            }),
        }
    }
}

/// Sweep this host. `socket_dirs` are searched (non-recursively) for stale
/// sockets named with the prefix, in addition to the temp dir.
pub fn sweep(socket_dirs: &[PathBuf]) -> SweepSummary {
    let mut s = SweepSummary::default();
    ipc_objects(&mut s);
    keyring(&mut s);
    journal(&mut s);
    let mut dirs = vec![std::env::temp_dir()];
    dirs.extend(socket_dirs.iter().cloned());
    for d in dirs {
        sockets(&d, &mut s);
    }
    s
}

/// Linux keeps named semaphores (`sem.NAME`) and shm objects (`NAME`) in
/// /dev/shm, so leftovers can be listed.
fn ipc_objects(s: &mut SweepSummary) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        let what = format!("ipc:{name}");
        if pid_alive(pid) {
            s.kept_live.push(what);
        } else {
            s.result(what, std::fs::remove_file(e.path()));
        }
    }
}

/// Linux kernel keyring: keys the keychain stand-in left, listed in /proc/keys.
#[cfg(target_os = "linux")]
fn keyring(s: &mut SweepSummary) {
    let Ok(text) = std::fs::read_to_string("/proc/keys") else {
        return;
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(id), Some(kind), Some(desc)) = (fields.first(), fields.get(7), fields.get(8))
        else {
            continue;
        };
        let desc = desc.trim_end_matches(':');
        // Revoked, dead or invalidated keys are already on their way out.
        if fields.get(1).is_some_and(|f| f.contains(['R', 'D', 'i'])) {
            continue;
        }
        let Some(pid) = owner_pid(desc).filter(|_| *kind == "user" && desc.starts_with(PREFIX))
        else {
            continue;
        };
        let what = format!("key:{desc}");
        if pid_alive(pid) {
            s.kept_live.push(what);
            continue;
        }
        let Ok(serial) = i64::from_str_radix(id, 16) else {
            continue;
        };
        // KEYCTL_INVALIDATE (21): the key goes away from every keyring at once.
        // SAFETY: plain keyctl syscall on a serial number.
        let r =
            unsafe { libc::syscall(libc::SYS_keyctl, 21 as libc::c_long, serial as libc::c_long) };
        let res = if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        };
        s.result(what, res);
    }
}

#[cfg(not(target_os = "linux"))]
fn keyring(_: &mut SweepSummary) {}

/// macOS: replay journal entries (see [`crate::journal`]) of dead pids.
fn journal(s: &mut SweepSummary) {
    for entry in crate::journal::entries() {
        let what = format!("{}:{}", entry.kind, entry.name);
        let Some(pid) = owner_pid(&entry.name) else {
            continue;
        };
        if pid_alive(pid) {
            s.kept_live.push(what);
            continue;
        }
        let r = remove_journalled(&entry.kind, &entry.name);
        if r.is_ok() {
            let _ = std::fs::remove_file(&entry.file);
        }
        s.result(what, r);
    }
}

fn remove_journalled(kind: &str, name: &str) -> std::io::Result<()> {
    let c = std::ffi::CString::new(name).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    // SAFETY: unlinking names of our own objects.
    let r = match kind {
        // SAFETY: `c` is a NUL-terminated name that outlives the call.
        "sem" => unsafe { libc::sem_unlink(c.as_ptr()) },
        // SAFETY: `c` is a NUL-terminated name that outlives the call.
        "shm" => unsafe { libc::shm_unlink(c.as_ptr()) },
        "keychain" => return remove_keychain_item(name),
        _ => return Err(std::io::ErrorKind::InvalidData.into()),
    };
    if r == 0 || crate::sys::errno() == libc::ENOENT {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "macos")]
fn remove_keychain_item(service: &str) -> std::io::Result<()> {
    use crate::probe::keychain::ACCOUNT;
    /// errSecItemNotFound: already gone.
    const NOT_FOUND: i32 = -25300;
    match security_framework::passwords::delete_generic_password(service, ACCOUNT) {
        Ok(()) => Ok(()),
        Err(e) if e.code() == NOT_FOUND => Ok(()),
        Err(e) => Err(std::io::Error::other(format!("OSStatus {}", e.code()))),
    }
}

#[cfg(not(target_os = "macos"))]
fn remove_keychain_item(_: &str) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Sockets named with the prefix that nobody listens on any more.
fn sockets(dir: &Path, s: &mut SweepSummary) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_socket = e.file_type().map(|t| t.is_socket()).unwrap_or(false);
        if !name.starts_with(PREFIX) || !is_socket {
            continue;
        }
        let path = e.path();
        let what = format!("socket:{}", path.display());
        match std::os::unix::net::UnixStream::connect(&path) {
            Ok(_) => s.kept_live.push(what),
            Err(err) if err.raw_os_error() == Some(libc::ECONNREFUSED) => {
                s.result(what, std::fs::remove_file(&path))
            }
            Err(err) => s.result(what, Err(err)),
        }
    }
}
