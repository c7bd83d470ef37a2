//! A record of objects a probe created that the OS cannot list back to us.
//!
//! On Linux, sweeping needs no journal: POSIX sem/shm live in /dev/shm and
//! keys are listed in /proc/keys. On macOS, named semaphores, shm objects and
//! keychain items cannot be enumerated without reading other people's items,
//! so a probe writes one small file per object it creates into the directory
//! named by `BELTCHECK_PROBE_JOURNAL` (only when set: the harness opts in and
//! grants that directory, so the journal adds no unexpected denials), and
//! removes it after cleaning up. `--sweep` replays entries of dead pids.

use std::path::PathBuf;

/// Environment variable naming the journal directory.
pub const JOURNAL_ENV: &str = "BELTCHECK_PROBE_JOURNAL";

/// The journal directory, when the harness set one.
pub fn dir() -> Option<PathBuf> {
    std::env::var_os(JOURNAL_ENV).map(PathBuf::from)
}

fn entry_path(kind: &str, name: &str) -> Option<PathBuf> {
    let file = format!("{kind}.{}", name.trim_start_matches('/'));
    dir().map(|d| d.join(file))
}

/// Note that `name` of `kind` (sem, shm, keychain) now exists. Best effort:
/// a journal that cannot be written must not change the probe's verdict.
pub fn record(kind: &str, name: &str) {
    if cfg!(target_os = "linux") {
        return;
    }
    if let Some(p) = entry_path(kind, name) {
        let _ = std::fs::write(p, name);
    }
}

/// Note that `name` of `kind` was removed.
pub fn forget(kind: &str, name: &str) {
    if cfg!(target_os = "linux") {
        return;
    }
    if let Some(p) = entry_path(kind, name) {
        let _ = std::fs::remove_file(p);
    }
}

/// One journal entry: the kind, the exact object name, and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: String,
    pub name: String,
    pub file: PathBuf,
}

/// Every entry in the journal directory (empty when none is set).
pub fn entries() -> Vec<Entry> {
    let Some(d) = dir() else { return Vec::new() };
    let Ok(read) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    read.flatten()
        .filter_map(|e| {
            let file = e.path();
            let fname = e.file_name().into_string().ok()?;
            let (kind, _) = fname.split_once('.')?;
            let name = std::fs::read_to_string(&file).ok()?;
            Some(Entry {
                kind: kind.to_string(),
                name,
                file,
            })
        })
        .collect()
}
