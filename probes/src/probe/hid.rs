//! `hid`: open the HID user clients that input monitoring and injection use.
//!
//! macOS: IOServiceOpen on the IOHIDSystem service with the param connect
//! type (an IOHIDParamUserClient: posting events), and IOHIDManagerOpen over
//! all devices (IOHIDLibUserClient per device: reading input). Each is
//! reported. Linux: open /dev/uinput (injection) and /dev/hidraw*,
//! /dev/input/event* (reading); none present means `unsupported`.
//!
//! Verdict over several attempts: `denied` if any attempt was refused for
//! permission, else `error` if any failed, else `allowed`.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{Failure, Outcome, Success};
use crate::report::Verdict;

/// Combine per-attempt results (in order) into one outcome.
fn combine(results: Vec<Result<Success, Failure>>) -> Outcome {
    let detail = results
        .iter()
        .map(|r| match r {
            Ok(s) => s.detail.clone(),
            Err(f) => f.detail.clone(),
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

#[cfg(target_os = "linux")]
pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    use crate::sys::{c_string, last_failure, Fd};
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
            // SAFETY: valid C string.
            let fd = unsafe { libc::open(c.as_ptr(), mode | libc::O_NONBLOCK | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(last_failure("open-device", &shown));
            }
            drop(Fd(fd));
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
    let param = param_client(ctx);
    let lib = lib_client(ctx);
    combine(vec![param, lib])
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
