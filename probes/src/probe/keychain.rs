//! `keychain`: store a secret under a unique name, read it back, delete it.
//!
//! macOS: a generic-password item via SecItemAdd / SecItemCopyMatching /
//! SecItemDelete (security-framework), service `beltcheck.probe.<pid>.<ns>`,
//! in the user's default keychain, whose path the detail names (on CI that
//! is the temporary keychain ci/keychain.sh made). Existing items are never
//! read. A failure names its OSStatus ([`status_name`]); none of them means
//! "sandbox" by itself, so the probe says `error` and the matrix counts it
//! as denied only with a logged `deny(1)` line for the probe's pid. Linux stand-in: the kernel keyring
//! (add_key on the session keyring, KEYCTL_READ, revoke, unlink), so the
//! Linux backend has something real to gate.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;

const SECRET: &[u8] = b"beltcheck-probe-secret";

/// Security.framework result codes a keychain call returns, by name and
/// meaning (Security/SecBase.h). Which one a Seatbelt refusal produces
/// depends on which request was refused (securityd's mach service, the
/// keychain file, a preference read); none is specific to the sandbox.
pub const OSSTATUS: &[(i32, &str, &str)] = &[
    (
        -4,
        "errSecUnimplemented",
        "function or operation not implemented",
    ),
    (-36, "errSecIO", "I/O error"),
    (-50, "errSecParam", "one or more parameters are not valid"),
    (-61, "errSecWrPerm", "write permissions error"),
    (
        -128,
        "errSecUserCanceled",
        "the user canceled the operation",
    ),
    (
        -2070,
        "errSecInternalComponent",
        "an internal component failed (securityd unreachable)",
    ),
    (-25291, "errSecNotAvailable", "no keychain is available"),
    (-25292, "errSecReadOnly", "read-only"),
    (
        -25293,
        "errSecAuthFailed",
        "the user name or passphrase is not correct",
    ),
    (
        -25294,
        "errSecNoSuchKeychain",
        "the keychain does not exist",
    ),
    (-25295, "errSecInvalidKeychain", "the keychain is not valid"),
    (-25299, "errSecDuplicateItem", "the item already exists"),
    (-25300, "errSecItemNotFound", "the item cannot be found"),
    (-25307, "errSecNoDefaultKeychain", "no default keychain"),
    (
        -25308,
        "errSecInteractionNotAllowed",
        "user interaction is not allowed (a locked keychain on a CI runner)",
    ),
    (
        -34018,
        "errSecMissingEntitlement",
        "a required entitlement is not present",
    ),
];

/// `errSecNotAvailable (no keychain is available)`, or `unnamed` for a code
/// not in [`OSSTATUS`].
pub fn status_name(code: i32) -> String {
    OSSTATUS.iter().find(|(c, _, _)| *c == code).map_or_else(
        || "unnamed".to_string(),
        |(_, name, what)| format!("{name} ({what})"),
    )
}

/// Adds which keychain the probe used to its outcome's detail, success or
/// failure alike.
pub fn naming_keychain(outcome: Outcome, keychain: &str) -> Outcome {
    let add = |detail: String| format!("{detail}; keychain: {keychain}");
    match outcome {
        Ok(s) => Ok(crate::outcome::Success {
            detail: add(s.detail),
            ..s
        }),
        Err(f) => Err(crate::outcome::Failure {
            detail: add(f.detail),
            ..f
        }),
    }
}

/// The keychain account of every item the probe creates.
pub const ACCOUNT: &str = "beltcheck-probe";

#[cfg(target_os = "linux")]
mod keyring {
    //! Constants from <linux/keyctl.h>; libc exposes only the syscall numbers.
    pub const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    pub const KEYCTL_REVOKE: libc::c_long = 3;
    pub const KEYCTL_UNLINK: libc::c_long = 9;
    pub const KEYCTL_READ: libc::c_long = 11;

    /// keyctl(op, a, b, c) through the raw syscall.
    pub fn keyctl(
        op: libc::c_long,
        a: libc::c_long,
        b: libc::c_long,
        c: libc::c_long,
    ) -> libc::c_long {
        // SAFETY: callers pass pointers valid for the op's contract.
        unsafe { libc::syscall(libc::SYS_keyctl, op, a, b, c) }
    }

    /// Revoke the key and unlink it from the session keyring.
    pub fn remove(serial: libc::c_long) {
        keyctl(KEYCTL_REVOKE, serial, 0, 0);
        keyctl(KEYCTL_UNLINK, serial, KEY_SPEC_SESSION_KEYRING, 0);
    }
}

#[cfg(target_os = "linux")]
pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    use crate::outcome::{allowed, Failure};
    use crate::report::Verdict;
    use crate::sys::last_failure;
    use keyring::*;

    const STAND_IN: &str = "linux kernel keyring stand-in";
    let desc = crate::names::item_name();
    let cdesc = crate::sys::c_string("add_key", desc.as_ref())?;
    ctx.step("add_key");
    // SAFETY: valid C strings and a payload buffer of the given length.
    let serial = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            cdesc.as_ptr(),
            SECRET.as_ptr(),
            SECRET.len(),
            KEY_SPEC_SESSION_KEYRING,
        )
    };
    if serial < 0 {
        return Err(last_failure("add_key", STAND_IN));
    }
    let guard = ctx.cleanup(move || remove(serial));
    ctx.step("keyctl-read");
    let mut buf = [0u8; 64];
    let n = keyctl(
        KEYCTL_READ,
        serial,
        buf.as_mut_ptr() as libc::c_long,
        buf.len() as libc::c_long,
    );
    if n < 0 {
        return Err(last_failure("keyctl-read", STAND_IN));
    }
    if buf.get(..n as usize) != Some(SECRET) {
        return Err(Failure::plain(
            Verdict::Error,
            "keyctl-read",
            format!("{STAND_IN}: read back {n} bytes that differ from the secret"),
        ));
    }
    ctx.step("keyctl-revoke");
    if keyctl(KEYCTL_REVOKE, serial, 0, 0) < 0 {
        return Err(last_failure("keyctl-revoke", STAND_IN));
    }
    ctx.step("keyctl-unlink");
    if keyctl(KEYCTL_UNLINK, serial, KEY_SPEC_SESSION_KEYRING, 0) < 0 {
        return Err(last_failure("keyctl-unlink", STAND_IN));
    }
    guard.dismiss();
    allowed(
        "keyctl-unlink",
        format!("{STAND_IN}: user key {desc} added to the session keyring, read back, revoked, unlinked"),
    )
}

#[cfg(target_os = "macos")]
pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let outcome = exercise(ctx);
    ctx.step("SecKeychainCopyDefault");
    naming_keychain(outcome, &default_keychain())
}

/// The user's default keychain, where SecItemAdd puts an item that names
/// no keychain: its path, or why there is none.
#[cfg(target_os = "macos")]
fn default_keychain() -> String {
    use core_foundation::base::TCFType;
    use security_framework::os::macos::keychain::SecKeychain;

    #[link(name = "Security", kind = "framework")]
    extern "C" {
        // Security/SecKeychain.h (deprecated, still exported).
        fn SecKeychainGetPath(
            keychain: *mut std::ffi::c_void,
            io_path_length: *mut u32,
            path_name: *mut std::ffi::c_char,
        ) -> i32;
    }
    let keychain = match SecKeychain::default() {
        Ok(k) => k,
        Err(e) => {
            return format!(
                "no default keychain: OSStatus {} {}",
                e.code(),
                status_name(e.code())
            )
        }
    };
    let mut buf = vec![0u8; 4096];
    let mut len = buf.len() as u32;
    // SAFETY: a live keychain reference and a buffer of `len` bytes.
    let status = unsafe {
        SecKeychainGetPath(
            keychain.as_concrete_TypeRef().cast(),
            &mut len,
            buf.as_mut_ptr().cast(),
        )
    };
    if status != 0 {
        return format!(
            "default keychain of unknown path: OSStatus {status} {}",
            status_name(status)
        );
    }
    buf.truncate(len as usize);
    while buf.last() == Some(&0) {
        buf.pop();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(target_os = "macos")]
fn exercise(ctx: &Ctx) -> Outcome {
    use crate::classify::{failure, RawCode};
    use crate::outcome::{allowed, Failure};
    use crate::report::Verdict;
    use security_framework::passwords;

    let service = crate::names::item_name();
    let named = |code: i32| format!("{service}: {}", status_name(code));
    ctx.step("SecItemAdd");
    passwords::set_generic_password(&service, ACCOUNT, SECRET)
        .map_err(|e| failure("SecItemAdd", RawCode::OsStatus(e.code()), &named(e.code())))?;
    crate::journal::record("keychain", &service);
    let delete_service = service.clone();
    let guard = ctx.cleanup(move || {
        let _ = passwords::delete_generic_password(&delete_service, ACCOUNT);
    });
    ctx.step("SecItemCopyMatching");
    let got = passwords::get_generic_password(&service, ACCOUNT).map_err(|e| {
        failure(
            "SecItemCopyMatching",
            RawCode::OsStatus(e.code()),
            &named(e.code()),
        )
    })?;
    if got != SECRET {
        return Err(Failure::plain(
            Verdict::Error,
            "SecItemCopyMatching",
            format!("{service}: read back a different secret"),
        ));
    }
    ctx.step("SecItemDelete");
    passwords::delete_generic_password(&service, ACCOUNT).map_err(|e| {
        failure(
            "SecItemDelete",
            RawCode::OsStatus(e.code()),
            &named(e.code()),
        )
    })?;
    guard.dismiss();
    crate::journal::forget("keychain", &service);
    allowed(
        "SecItemDelete",
        format!("{service}: generic password added, read back, deleted"),
    )
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn run(_: &ProbeArgs, _: &Ctx) -> Outcome {
    Err(crate::outcome::Failure::plain(
        crate::report::Verdict::Unsupported,
        "keychain",
        "no keychain backend for this OS",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Failure, Success};
    use crate::report::Verdict;

    #[test]
    fn codes_are_named_and_unique() {
        assert_eq!(
            status_name(-25308),
            "errSecInteractionNotAllowed (user interaction is not allowed (a locked keychain on a CI runner))"
        );
        assert!(status_name(-25291).starts_with("errSecNotAvailable"));
        assert_eq!(status_name(12345), "unnamed");
        let mut codes: Vec<i32> = OSSTATUS.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), OSSTATUS.len());
    }

    #[test]
    fn the_keychain_used_is_named_on_success_and_failure() {
        let kc = "/Users/runner/work/_temp/beltcheck-1.keychain-db";
        let ok = naming_keychain(
            Ok(Success {
                step: "SecItemDelete",
                detail: "added, read back, deleted".into(),
            }),
            kc,
        )
        .unwrap();
        assert_eq!(
            ok.detail,
            format!("added, read back, deleted; keychain: {kc}")
        );
        assert_eq!(ok.step, "SecItemDelete");
        let err = naming_keychain(
            Err(Failure {
                verdict: Verdict::Error,
                code: Some(-25308),
                step: "SecItemAdd",
                detail: "x".into(),
            }),
            kc,
        )
        .unwrap_err();
        assert!(err.detail.ends_with(kc));
        assert_eq!((err.code, err.verdict), (Some(-25308), Verdict::Error));
    }
}
