//! Descendants that leave the session's process group do not outlive it.
//!
//! A workload that double-forks and calls `setsid` leaves a process that
//! killing the session's group does not reach, and whose parent is gone.
//! On Linux a process that called [`adopt_orphans`] is a child subreaper
//! (`PR_SET_CHILD_SUBREAPER`): such orphans are re-parented to it instead of
//! to init, and when a session ends it kills (SIGKILL) and reaps every child
//! of this process that is not a live session's leader, round after round,
//! until none is left (children of a killed orphan are adopted in turn).
//!
//! Attribution: the kernel does not say which session an orphan came from,
//! so the sweep runs only when no other session of this process is live
//! (always for `beltcheck run`; for a matrix with several jobs, at the first
//! quiet moment and at the latest when its last session ends). Sessions
//! register their leader while holding the same lock the sweep holds, so a
//! leader being spawned is never taken for an orphan.
//!
//! macOS has no subreaper: there, only the session's process group is
//! killed, and a descendant that called `setsid` survives.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once this process is a subreaper.
static ADOPTING: AtomicBool = AtomicBool::new(false);
/// The leaders of live sessions.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Makes this process the subreaper of every session it runs from now on
/// (Linux). Call it only in a process whose children are all sessions'
/// (the `beltcheck` CLI): a sweep kills any other child it finds.
/// Elsewhere: `Unsupported` (see the module docs).
pub fn adopt_orphans() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with an integer argument; changes only this process.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        ADOPTING.store(true, Ordering::Relaxed);
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no child subreaper on this platform: only the session's process group is killed",
        ))
    }
}

fn live() -> std::sync::MutexGuard<'static, Vec<u32>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A live session's leader, registered until dropped.
pub(crate) struct Registered(u32);

impl Registered {
    /// Spawns with `spawn` and registers the child, under the sweep's lock.
    pub(crate) fn spawn<T>(
        spawn: impl FnOnce() -> io::Result<T>,
        pid: impl Fn(&T) -> u32,
    ) -> io::Result<(T, Registered)> {
        let mut live = live();
        let child = spawn()?;
        let id = pid(&child);
        live.push(id);
        Ok((child, Registered(id)))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = live();
        if let Some(i) = live.iter().position(|&p| p == self.0) {
            live.swap_remove(i);
        }
    }
}

/// Kills and reaps every adopted process, when this process adopts orphans
/// and the calling session is the only live one.
pub(crate) fn kill_adopted() {
    if !ADOPTING.load(Ordering::Relaxed) {
        return;
    }
    let live = live();
    if live.len() > 1 {
        return;
    }
    #[cfg(target_os = "linux")]
    sweep(&live);
}

/// Bounds the sweep: a fork bomb cannot keep it going for ever.
#[cfg(target_os = "linux")]
const ROUNDS: usize = 64;

#[cfg(target_os = "linux")]
fn sweep(live: &[u32]) {
    for _ in 0..ROUNDS {
        let orphans: Vec<u32> = children()
            .into_iter()
            .filter(|p| !live.contains(p))
            .collect();
        if orphans.is_empty() {
            return;
        }
        for &pid in &orphans {
            // SAFETY: kill on a child of ours: it stays ours (a zombie at
            // worst) until we reap it below, so the pid cannot be reused.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        for &pid in &orphans {
            let mut status = 0;
            // SAFETY: reaping our own child; SIGKILL ends it promptly.
            while unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) } < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
        }
    }
}

/// This process's children, from every thread's `children` list (an
/// adopted orphan may be re-parented to any thread).
#[cfg(target_os = "linux")]
fn children() -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
