//! The one place where raw OS codes become verdicts.
//!
//! Every probe failure goes through [`verdict`]: the raw code (errno, Security
//! `OSStatus`, IOKit `IOReturn`, bootstrap `kern_return_t`) is kept in the
//! report untouched, and only the mapping below decides `denied` vs `error` vs
//! `unsupported`. A code not listed is `error`: we never guess "denied".

use crate::outcome::Failure;
use crate::report::Verdict;

/// A raw failure code together with the API family that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawCode {
    /// A POSIX errno.
    Errno(i32),
    /// A Security.framework `OSStatus` (negative for Security errors).
    OsStatus(i32),
    /// An IOKit `IOReturn` (a `kern_return_t` in the IOKit error space).
    IoReturn(u32),
    /// A `kern_return_t` from `bootstrap_look_up`.
    Bootstrap(i32),
}

/// Named codes outside errno, with the evidence for how each is classified.
pub mod codes {
    /// `permErr` (MacErrors.h): "permissions error (on file open)". SOURCE.
    pub const OSSTATUS_PERM_ERR: i32 = -54;
    /// `wrPermErr` / `errSecWrPerm` (SecBase.h): write permission error. SOURCE.
    pub const OSSTATUS_WR_PERM: i32 = -61;
    /// `errSecMissingEntitlement` (SecBase.h): a required entitlement is not
    /// present. SOURCE for the meaning; that a sandboxed caller sees it is a
    /// GUESS.
    pub const OSSTATUS_MISSING_ENTITLEMENT: i32 = -34018;
    /// `errAuthorizationDenied` (Authorization.h). SOURCE.
    pub const OSSTATUS_AUTHORIZATION_DENIED: i32 = -60005;
    /// `errSecNotAvailable` (SecBase.h): "no keychain is available". Kept as
    /// `error`: it also means "no keychain exists" (GUESS that a blocked
    /// securityd lookup surfaces as this; the denial log settles it).
    pub const OSSTATUS_NOT_AVAILABLE: i32 = -25291;
    /// `errSecInteractionNotAllowed`: user interaction needed. Deliberately
    /// `error`, not `denied`: a locked keychain is not a sandbox refusal.
    pub const OSSTATUS_INTERACTION_NOT_ALLOWED: i32 = -25308;

    /// `kIOReturnNotPrivileged` (IOReturn.h). SOURCE.
    pub const IO_RETURN_NOT_PRIVILEGED: u32 = 0xe000_02c1;
    /// `kIOReturnNotPermitted` (IOReturn.h); what a sandbox-refused
    /// IOServiceOpen returns. SOURCE for the code, MEASURED-ELSEWHERE for the
    /// sandbox using it.
    pub const IO_RETURN_NOT_PERMITTED: u32 = 0xe000_02e2;
    /// `kIOReturnNoDevice` (IOReturn.h). SOURCE.
    pub const IO_RETURN_NO_DEVICE: u32 = 0xe000_02c0;
    /// `kIOReturnUnsupported` (IOReturn.h). SOURCE.
    pub const IO_RETURN_UNSUPPORTED: u32 = 0xe000_02c7;

    /// `BOOTSTRAP_NOT_PRIVILEGED` (bootstrap.h). SOURCE.
    pub const BOOTSTRAP_NOT_PRIVILEGED: i32 = 1100;
    /// `BOOTSTRAP_UNKNOWN_SERVICE` (bootstrap.h). Kept as `error`: an absent
    /// service reads the same; GUESS that some releases answer a sandboxed
    /// lookup this way (the denial log settles it).
    pub const BOOTSTRAP_UNKNOWN_SERVICE: i32 = 1102;
}

/// The verdict for a raw failure code.
///
/// Guarantees: EPERM, EACCES and EROFS (and the listed Security/IOKit/bootstrap
/// permission codes) are `Denied`; ENOSYS, ENODEV, EOPNOTSUPP, EAFNOSUPPORT,
/// EPROTONOSUPPORT and the IOKit "no device / unsupported" codes are
/// `Unsupported`; everything else is `Error`.
pub fn verdict(code: RawCode) -> Verdict {
    use codes::*;
    match code {
        RawCode::Errno(e) => match e {
            // EROFS: a read-only view is how a sandbox (the Linux backend's
            // read-only bind of /) refuses writes; the matrix's control run
            // shows the path is writable unsandboxed, so inside it is a refusal.
            libc::EPERM | libc::EACCES | libc::EROFS => Verdict::Denied,
            libc::ENOSYS
            | libc::ENODEV
            | libc::EOPNOTSUPP
            | libc::EAFNOSUPPORT
            | libc::EPROTONOSUPPORT => Verdict::Unsupported,
            _ => Verdict::Error,
        },
        RawCode::OsStatus(
            OSSTATUS_PERM_ERR
            | OSSTATUS_WR_PERM
            | OSSTATUS_MISSING_ENTITLEMENT
            | OSSTATUS_AUTHORIZATION_DENIED,
        ) => Verdict::Denied,
        RawCode::OsStatus(_) => Verdict::Error,
        RawCode::IoReturn(IO_RETURN_NOT_PERMITTED | IO_RETURN_NOT_PRIVILEGED) => Verdict::Denied,
        RawCode::IoReturn(IO_RETURN_NO_DEVICE | IO_RETURN_UNSUPPORTED) => Verdict::Unsupported,
        RawCode::IoReturn(_) => Verdict::Error,
        RawCode::Bootstrap(BOOTSTRAP_NOT_PRIVILEGED) => Verdict::Denied,
        RawCode::Bootstrap(_) => Verdict::Error,
    }
}

/// TIOCSTI on Linux: since 6.2, with `dev.tty.legacy_tiocsti = 0` the kernel
/// answers EIO (not EPERM) to callers without CAP_SYS_ADMIN. That is a policy
/// refusal, so EIO is `Denied` exactly when the knob is known to be off;
/// otherwise the general errno mapping applies (EPERM stays denied).
pub fn tiocsti_verdict(errno: i32, legacy_tiocsti: Option<bool>) -> Verdict {
    if errno == libc::EIO && legacy_tiocsti == Some(false) {
        Verdict::Denied
    } else {
        verdict(RawCode::Errno(errno))
    }
}

/// The permission errnos a program's message may name by their `strerror`
/// text (glibc and Apple's libc spell these three the same way), as real
/// programs report a refused call: `script: openpty: Operation not
/// permitted` (william0wang/zcode-acp/issues/127).
const PERMISSION_TEXTS: [(&str, i32); 3] = [
    ("Operation not permitted", libc::EPERM),
    ("Permission denied", libc::EACCES),
    ("Read-only file system", libc::EROFS),
];

/// The permission errno whose text appears in a program's output, if any.
/// Only the permission errnos are read from text: any other failure stays
/// an `error` with the text as evidence, never a guessed verdict.
pub fn errno_in_text(text: &str) -> Option<i32> {
    PERMISSION_TEXTS
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, errno)| *errno)
}

/// The value that goes into the report's `errno` field.
pub fn raw_value(code: RawCode) -> i64 {
    match code {
        RawCode::Errno(e) | RawCode::OsStatus(e) | RawCode::Bootstrap(e) => i64::from(e),
        RawCode::IoReturn(r) => i64::from(r),
    }
}

/// A human description naming the code family, e.g. `errno 13 (EACCES: Permission denied)`.
pub fn describe(code: RawCode) -> String {
    match code {
        RawCode::Errno(e) => {
            let errno = nix::errno::Errno::from_raw(e);
            format!("errno {e} ({errno:?}: {})", errno.desc())
        }
        RawCode::OsStatus(s) => format!("OSStatus {s}"),
        RawCode::IoReturn(r) => format!("IOReturn {r:#010x}"),
        RawCode::Bootstrap(k) => format!("bootstrap kern_return_t {k}"),
    }
}

/// A failure at `step` with `code`, classified by [`verdict`]. `context` is
/// prepended to the code's description in the detail (may be empty).
pub fn failure(step: &'static str, code: RawCode, context: &str) -> Failure {
    failure_as(verdict(code), step, code, context)
}

/// A failure whose verdict was decided by a documented special rule in this
/// module (e.g. [`tiocsti_verdict`]).
pub fn failure_as(verdict: Verdict, step: &'static str, code: RawCode, context: &str) -> Failure {
    let described = describe(code);
    let detail = if context.is_empty() {
        described
    } else {
        format!("{context}: {described}")
    };
    Failure {
        verdict,
        code: Some(raw_value(code)),
        step,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_errnos_are_denied() {
        assert_eq!(verdict(RawCode::Errno(libc::EPERM)), Verdict::Denied);
        assert_eq!(verdict(RawCode::Errno(libc::EACCES)), Verdict::Denied);
    }

    #[test]
    fn read_only_filesystem_is_denied() {
        assert_eq!(verdict(RawCode::Errno(libc::EROFS)), Verdict::Denied);
    }

    #[test]
    fn other_errnos_are_errors_or_unsupported() {
        assert_eq!(verdict(RawCode::Errno(libc::ENOENT)), Verdict::Error);
        assert_eq!(verdict(RawCode::Errno(libc::EIO)), Verdict::Error);
        assert_eq!(verdict(RawCode::Errno(libc::ENOSYS)), Verdict::Unsupported);
        assert_eq!(verdict(RawCode::Errno(libc::ENODEV)), Verdict::Unsupported);
    }

    #[test]
    fn apple_permission_codes_are_denied() {
        assert_eq!(verdict(RawCode::IoReturn(0xe000_02e2)), Verdict::Denied);
        assert_eq!(verdict(RawCode::OsStatus(-34018)), Verdict::Denied);
        assert_eq!(verdict(RawCode::OsStatus(-25308)), Verdict::Error);
        assert_eq!(verdict(RawCode::Bootstrap(1100)), Verdict::Denied);
        assert_eq!(verdict(RawCode::Bootstrap(1102)), Verdict::Error);
        assert_eq!(raw_value(RawCode::IoReturn(0xe000_02e2)), 0xe000_02e2);
    }

    #[test]
    fn permission_texts_name_their_errno_and_nothing_else_does() {
        for (text, errno) in PERMISSION_TEXTS {
            assert_eq!(
                nix::errno::Errno::from_raw(errno).desc(),
                text,
                "the text is this libc's strerror"
            );
            assert_eq!(errno_in_text(&format!("x: {text}\n")), Some(errno));
            assert_eq!(verdict(RawCode::Errno(errno)), Verdict::Denied);
        }
        assert_eq!(errno_in_text("No such file or directory"), None);
        assert_eq!(errno_in_text(""), None);
    }

    #[test]
    fn tiocsti_eio_is_denied_only_when_legacy_is_off() {
        assert_eq!(tiocsti_verdict(libc::EIO, Some(false)), Verdict::Denied);
        assert_eq!(tiocsti_verdict(libc::EIO, Some(true)), Verdict::Error);
        assert_eq!(tiocsti_verdict(libc::EIO, None), Verdict::Error);
        assert_eq!(tiocsti_verdict(libc::EPERM, None), Verdict::Denied);
    }
}
