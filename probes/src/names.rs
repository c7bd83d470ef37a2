//! Unique names for objects the probes create, so leftovers of a crashed run
//! can be recognised and swept (fixed prefix, then the creating pid).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Every object a probe creates is named with this prefix.
pub const PREFIX: &str = "beltcheck.probe.";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A POSIX IPC name `/beltcheck.probe.<pid>.<n>`. Short on purpose: macOS
/// limits sem/shm names to 31 bytes (PSEMNAMLEN/PSHMNAMLEN).
pub fn ipc_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("/{PREFIX}{}.{n}", std::process::id())
}

/// A keychain service / keyring description `beltcheck.probe.<pid>.<nanos>`.
pub fn item_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{PREFIX}{}.{nanos}", std::process::id())
}

/// The creating pid of a name that starts with [`PREFIX`] (after an optional
/// leading `/` or `sem.`), or None for names that are not ours.
pub fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.trim_start_matches('/');
    let rest = rest.strip_prefix("sem.").unwrap_or(rest);
    let rest = rest.strip_prefix(PREFIX)?;
    rest.split('.').next()?.parse().ok()
}

/// Whether a process with `pid` exists (EPERM still means it exists).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || crate::sys::errno() == libc::EPERM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_prefix_and_pid() {
        let n = ipc_name();
        assert!(n.len() <= 31, "{n}");
        assert_eq!(owner_pid(&n), Some(std::process::id()));
        assert_eq!(
            owner_pid(&format!("sem.{}", &n[1..])),
            Some(std::process::id())
        );
        assert_eq!(owner_pid(&item_name()), Some(std::process::id()));
        assert_eq!(owner_pid("sem.other.1"), None);
    }
}
