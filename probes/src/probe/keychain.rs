//! `keychain`: store a secret under a unique name, read it back, delete it.
//!
//! macOS: a generic-password item via SecItemAdd / SecItemCopyMatching /
//! SecItemDelete (security-framework), service `beltcheck.probe.<pid>.<ns>`.
//! Existing items are never read. Linux stand-in: the kernel keyring
//! (add_key on the session keyring, KEYCTL_READ, revoke, unlink), so the
//! Linux backend has something real to gate.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;

const SECRET: &[u8] = b"beltcheck-probe-secret";

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
    use crate::classify::{failure, RawCode};
    use crate::outcome::{allowed, Failure};
    use crate::report::Verdict;
    use security_framework::passwords;

    let service = crate::names::item_name();
    ctx.step("SecItemAdd");
    passwords::set_generic_password(&service, ACCOUNT, SECRET)
        .map_err(|e| failure("SecItemAdd", RawCode::OsStatus(e.code()), &service))?;
    crate::journal::record("keychain", &service);
    let delete_service = service.clone();
    let guard = ctx.cleanup(move || {
        let _ = passwords::delete_generic_password(&delete_service, ACCOUNT);
    });
    ctx.step("SecItemCopyMatching");
    let got = passwords::get_generic_password(&service, ACCOUNT)
        .map_err(|e| failure("SecItemCopyMatching", RawCode::OsStatus(e.code()), &service))?;
    if got != SECRET {
        return Err(Failure::plain(
            Verdict::Error,
            "SecItemCopyMatching",
            format!("{service}: read back a different secret"),
        ));
    }
    ctx.step("SecItemDelete");
    passwords::delete_generic_password(&service, ACCOUNT)
        .map_err(|e| failure("SecItemDelete", RawCode::OsStatus(e.code()), &service))?;
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
