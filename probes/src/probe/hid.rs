//! `hid`: open the HID user clients that input monitoring and injection use.
//!
//! macOS: IOServiceOpen on the IOHIDSystem service with the param connect
//! type (an IOHIDParamUserClient: posting events), and IOHIDManagerOpen over
//! all devices (IOHIDLibUserClient per device: reading input). The detail
//! reports each open on its own, with its own verdict. Linux: open
//! /dev/uinput (injection) and /dev/hidraw*, /dev/input/event* (reading);
//! none present means `unsupported`.
//!
//! A refusal is not always Seatbelt's: TCC (Input Monitoring for reading
//! input, Accessibility/PostEvent for posting) refuses the same opens. When
//! an open is refused, `IOHIDCheckAccess` for its request type tells them
//! apart: if TCC itself says denied, the attempt is `error` with that said,
//! never a sandbox `denied`. (If TCC refuses unsandboxed too, the matrix's
//! control run catches it and no cell counts.)
//!
//! Verdict over several attempts: `denied` if any attempt was refused for
//! permission, else `error` if any failed, else `allowed`.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{Failure, Outcome, Success};
use crate::report::Verdict;

/// What TCC says of one HID request type (`IOHIDCheckAccess`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcc {
    Granted,
    Denied,
    /// Not decided yet (no prompt answered).
    Unknown,
}

impl Tcc {
    /// From an `IOHIDAccessType` (IOKit/hidsystem/IOHIDLib.h:
    /// kIOHIDAccessTypeGranted, kIOHIDAccessTypeDenied,
    /// kIOHIDAccessTypeUnknown, in that order).
    pub fn from_access_type(value: u32) -> Tcc {
        match value {
            0 => Tcc::Granted,
            1 => Tcc::Denied,
            _ => Tcc::Unknown,
        }
    }
}

/// A refused open whose TCC service says denied was refused by TCC: that is
/// `error` (the sandbox was not what said no), with `service` named.
/// Anything else is returned as it is.
pub fn attribute_refusal(failure: Failure, tcc: Tcc, service: &str) -> Failure {
    if failure.verdict != Verdict::Denied || tcc != Tcc::Denied {
        return failure;
    }
    Failure {
        verdict: Verdict::Error,
        detail: format!(
            "{}; refused by TCC ({service}: IOHIDCheckAccess says denied), not by the sandbox",
            failure.detail
        ),
        ..failure
    }
}

/// Combine per-attempt results (in order) into one outcome. The detail
/// names every attempt with its own verdict.
fn combine(results: Vec<Result<Success, Failure>>) -> Outcome {
    let detail = results
        .iter()
        .map(|r| match r {
            Ok(s) => format!("allowed: {}", s.detail),
            Err(f) => format!("{}: {}", verdict_word(f.verdict), f.detail),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let pick = |v: Verdict| {
        results
            .iter()
            .find_map(|r| r.as_ref().err().filter(|f| f.verdict == v).cloned())
    };
    if let Some(f) = pick(Verdict::Denied)
        .or_else(|| pick(Verdict::Error))
        .or_else(|| pick(Verdict::Unsupported))
    {
        return Err(Failure { detail, ..f });
    }
    let step = results
        .last()
        .and_then(|r| r.as_ref().ok())
        .map_or("open", |s| s.step);
    Ok(Success { step, detail })
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Error => "error",
        Verdict::Unsupported => "unsupported",
    }
}

#[cfg(target_os = "linux")]
pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    use crate::sys::{c_string, last_failure};
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;

    ctx.step("find-devices");
    let mut devices: Vec<(std::path::PathBuf, libc::c_int)> = Vec::new();
    if std::path::Path::new("/dev/uinput").exists() {
        devices.push(("/dev/uinput".into(), libc::O_WRONLY));
    }
    for (dir, prefix) in [("/dev", "hidraw"), ("/dev/input", "event")] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_name().as_bytes().starts_with(prefix.as_bytes()))
            .map(|e| (e.path(), libc::O_RDONLY))
            .collect();
        found.sort();
        devices.extend(found);
    }
    if devices.is_empty() {
        return Err(Failure::plain(
            Verdict::Unsupported,
            "find-devices",
            "no /dev/uinput, /dev/hidraw* or /dev/input/event* on this host",
        ));
    }
    ctx.step("open-device");
    let results = devices
        .into_iter()
        .map(|(path, mode)| {
            let shown = path.display().to_string();
            let c = c_string("open-device", path.as_os_str())?;
            // SAFETY: open(2) of a valid C string creates a new descriptor,
            // closed at once.
            let fd = unsafe { libc::open(c.as_ptr(), mode | libc::O_NONBLOCK | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(last_failure("open-device", &shown));
            }
            // SAFETY: `fd` was just created by open and is ours.
            drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
            Ok(Success {
                step: "open-device",
                detail: format!("{shown}: opened"),
            })
        })
        .collect();
    combine(results)
}

#[cfg(target_os = "macos")]
pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let param = param_client(ctx)
        .map_err(|f| attribute_refusal(f, tcc(K_IOHID_REQUEST_TYPE_POST_EVENT), "Accessibility"));
    let lib = lib_client(ctx).map_err(|f| {
        attribute_refusal(
            f,
            tcc(K_IOHID_REQUEST_TYPE_LISTEN_EVENT),
            "Input Monitoring",
        )
    });
    combine(vec![param, lib])
}

/// `IOHIDRequestType` (IOKit/hidsystem/IOHIDLib.h).
#[cfg(target_os = "macos")]
const K_IOHID_REQUEST_TYPE_POST_EVENT: u32 = 0;
#[cfg(target_os = "macos")]
const K_IOHID_REQUEST_TYPE_LISTEN_EVENT: u32 = 1;

#[cfg(target_os = "macos")]
#[link(name = "IOKit", kind = "framework")]
extern "C" {
    /// macOS 10.15+: TCC's answer for this process, without prompting.
    fn IOHIDCheckAccess(request_type: u32) -> u32;
}

/// TCC's answer for `request_type`, asked only after a refusal.
#[cfg(target_os = "macos")]
fn tcc(request_type: u32) -> Tcc {
    // SAFETY: a plain query with an enum argument.
    Tcc::from_access_type(unsafe { IOHIDCheckAccess(request_type) })
}

/// IOHIDSystem's connect type for the param client (IOHIDShared.h).
#[cfg(target_os = "macos")]
const K_IOHID_PARAM_CONNECT_TYPE: u32 = 1;

#[cfg(target_os = "macos")]
fn param_client(ctx: &Ctx) -> Result<Success, Failure> {
    use crate::classify::{failure, RawCode};
    use io_kit_sys::types::io_connect_t;
    use io_kit_sys::*;

    const STEP: &str = "IOServiceOpen(IOHIDParamUserClient)";
    ctx.step("IOServiceGetMatchingService(IOHIDSystem)");
    // SAFETY: IOServiceMatching returns a dictionary that
    // IOServiceGetMatchingService consumes.
    let service = unsafe {
        IOServiceGetMatchingService(
            kIOMasterPortDefault,
            IOServiceMatching(c"IOHIDSystem".as_ptr()),
        )
    };
    if service == 0 {
        return Err(Failure::plain(
            Verdict::Unsupported,
            "IOServiceGetMatchingService(IOHIDSystem)",
            "no IOHIDSystem service",
        ));
    }
    ctx.step(STEP);
    let mut connect: io_connect_t = 0;
    // SAFETY: valid service and out pointer.
    let kr = unsafe {
        let kr = IOServiceOpen(
            service,
            crate::mach::task_self(),
            K_IOHID_PARAM_CONNECT_TYPE,
            &mut connect,
        );
        IOObjectRelease(service);
        kr
    };
    if kr != 0 {
        return Err(failure(
            STEP,
            RawCode::IoReturn(kr as u32),
            "IOHIDParamUserClient",
        ));
    }
    // SAFETY: closing the connection just opened.
    unsafe { IOServiceClose(connect) };
    Ok(Success {
        step: STEP,
        detail: "IOHIDParamUserClient: opened".to_string(),
    })
}

#[cfg(target_os = "macos")]
fn lib_client(ctx: &Ctx) -> Result<Success, Failure> {
    use crate::classify::{failure, RawCode};
    use core_foundation::base::{kCFAllocatorDefault, CFRelease};
    use core_foundation::set::CFSetGetCount;
    use io_kit_sys::hid::manager::*;

    const STEP: &str = "IOHIDManagerOpen(IOHIDLibUserClient)";
    ctx.step(STEP);
    // SAFETY: the manager is created, used and released here; a null
    // matching dictionary means every device.
    unsafe {
        let manager = IOHIDManagerCreate(kCFAllocatorDefault, kIOHIDManagerOptionNone);
        if manager.is_null() {
            return Err(Failure::plain(
                Verdict::Error,
                "IOHIDManagerCreate",
                "returned NULL",
            ));
        }
        IOHIDManagerSetDeviceMatching(manager, std::ptr::null());
        let kr = IOHIDManagerOpen(manager, kIOHIDManagerOptionNone);
        let devices = IOHIDManagerCopyDevices(manager);
        let count = if devices.is_null() {
            0
        } else {
            let n = CFSetGetCount(devices);
            CFRelease(devices.cast());
            n
        };
        IOHIDManagerClose(manager, kIOHIDManagerOptionNone);
        CFRelease(manager.cast_const().cast());
        if kr != 0 {
            return Err(failure(
                STEP,
                RawCode::IoReturn(kr as u32),
                &format!("IOHIDLibUserClient ({count} devices matched)"),
            ));
        }
        if count == 0 {
            return Err(Failure::plain(
                Verdict::Unsupported,
                "IOHIDManagerCopyDevices",
                "IOHIDLibUserClient: no HID devices, nothing was opened",
            ));
        }
        Ok(Success {
            step: STEP,
            detail: format!("IOHIDLibUserClient: opened {count} devices"),
        })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn run(_: &ProbeArgs, _: &Ctx) -> Outcome {
    combine(vec![Err(Failure::plain(
        Verdict::Unsupported,
        "find-devices",
        "no HID backend for this OS",
    ))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Failure {
        Failure {
            verdict: Verdict::Denied,
            code: Some(0xe000_02e2),
            step: "IOHIDManagerOpen(IOHIDLibUserClient)",
            detail: "IOHIDLibUserClient: IOReturn 0xe00002e2".into(),
        }
    }

    #[test]
    fn a_tcc_refusal_is_not_a_sandbox_denial() {
        let f = attribute_refusal(refused(), Tcc::Denied, "Input Monitoring");
        assert_eq!(f.verdict, Verdict::Error);
        assert!(
            f.detail.contains("refused by TCC (Input Monitoring"),
            "{}",
            f.detail
        );
        assert_eq!(f.code, Some(0xe000_02e2), "the raw code stays");
        for tcc in [Tcc::Granted, Tcc::Unknown] {
            assert_eq!(attribute_refusal(refused(), tcc, "x"), refused());
        }
        let error = Failure {
            verdict: Verdict::Error,
            ..refused()
        };
        assert_eq!(attribute_refusal(error.clone(), Tcc::Denied, "x"), error);
    }

    #[test]
    fn access_types_follow_the_header_order() {
        assert_eq!(Tcc::from_access_type(0), Tcc::Granted);
        assert_eq!(Tcc::from_access_type(1), Tcc::Denied);
        assert_eq!(Tcc::from_access_type(2), Tcc::Unknown);
        assert_eq!(Tcc::from_access_type(77), Tcc::Unknown);
    }

    #[test]
    fn each_open_is_reported_with_its_own_verdict() {
        let param = Err(refused());
        let lib = Ok(Success {
            step: "IOHIDManagerOpen(IOHIDLibUserClient)",
            detail: "IOHIDLibUserClient: opened 3 devices".into(),
        });
        let f = combine(vec![param, lib]).unwrap_err();
        assert_eq!(f.verdict, Verdict::Denied);
        assert_eq!(
            f.detail,
            "denied: IOHIDLibUserClient: IOReturn 0xe00002e2; allowed: IOHIDLibUserClient: opened 3 devices"
        );
    }
}
