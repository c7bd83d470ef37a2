//! Path rules for config values: absolute only, `~/` from HOME, `<USER>` and
//! `<UID>` templates, no `..`, `//` and trailing `/` normalised, and the
//! `/tmp`, `/var`, `/etc` -> `/private/...` mapping Seatbelt matches against.

/// What path expansion needs to know about the user. Passed in, never read
/// from the process environment inside the library, so tests are hermetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEnv {
    pub home: Option<String>,
    pub user: Option<String>,
    pub uid: u32,
}

impl HostEnv {
    /// The current process's HOME, user name and uid.
    pub fn current() -> HostEnv {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        HostEnv {
            home: std::env::var("HOME").ok(),
            user: std::env::var("USER").ok().or_else(|| std::env::var("LOGNAME").ok()),
            uid,
        }
    }
}
