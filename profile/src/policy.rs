//! A config compiled for one backend: what a launcher is handed.
//!
//! The config is validated and compiled once, by the backend's launcher
//! (`runner::launch::Launcher::compile`), into the form that backend
//! enforces: SBPL for Seatbelt, a [`LinuxPolicy`] for Linux, nothing for
//! backend `none`. What the backend cannot enforce is read from here
//! ([`Policy::limitation`]), not kept in tables elsewhere.

use crate::linux::LinuxPolicy;
use crate::sbpl::Profile;

/// A sandbox ready for one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// SBPL text and its `-D` parameters, run by `sandbox-exec`.
    Seatbelt(Profile),
    /// Mounts, Landlock and seccomp rules for the Linux backend.
    Linux(Box<LinuxPolicy>),
    /// Backend `none`: nothing is enforced.
    Unsandboxed,
}

impl Policy {
    /// Why `key` (a config key path such as `gui_access`) is not enforced
    /// as this policy's config sets it, if it is not.
    pub fn limitation(&self, key: &str) -> Option<String> {
        match self {
            Policy::Seatbelt(_) => None,
            Policy::Linux(p) => p.limitation(key),
            Policy::Unsandboxed => Some("backend none enforces nothing".into()),
        }
    }

    /// Where the enforced policy differs from the config as written (a path
    /// followed through a symlink), one line each, for people.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Policy::Linux(p) => p.resolved.iter().map(ToString::to_string).collect(),
            Policy::Seatbelt(_) | Policy::Unsandboxed => Vec::new(),
        }
    }
}
