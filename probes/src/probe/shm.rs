//! `shm`: named POSIX shared memory (shm_open, size it, map it, unlink).

use std::ffi::CString;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::names;
use crate::outcome::{allowed, Failure, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{c_string, check, errno, last_failure};

const SIZE: usize = 4096;

// macOS declares shm_open variadic, so the mode travels as a promoted uint.
#[cfg(target_os = "linux")]
const MODE: libc::mode_t = 0o600;
#[cfg(not(target_os = "linux"))]
const MODE: libc::c_uint = 0o600;

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let name = names::ipc_name();
    let cname = c_string("shm_open", name.as_ref())?;
    ctx.step("shm_open");
    let fd = open_exclusive(&cname)?;
    crate::journal::record("shm", &name);
    let unlink_name = cname.clone();
    let unlink_guard = ctx.cleanup(move || {
        // SAFETY: unlinking a name we created.
        unsafe { libc::shm_unlink(unlink_name.as_ptr()) };
    });
    ctx.step("ftruncate");
    // SAFETY: fd is a valid shm object.
    check("ftruncate", unsafe {
        libc::ftruncate(fd.as_raw_fd(), SIZE as libc::off_t)
    })?;
    ctx.step("mmap");
    // SAFETY: mapping SIZE bytes of an object just sized to SIZE.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(last_failure("mmap", ""));
    }
    // SAFETY: map is SIZE writable bytes.
    unsafe {
        map.cast::<u8>().write_volatile(0x5a);
        libc::munmap(map, SIZE);
    }
    ctx.step("shm_unlink");
    // SAFETY: `cname` is a NUL-terminated name that outlives the call.
    check("shm_unlink", unsafe { libc::shm_unlink(cname.as_ptr()) })?;
    unlink_guard.dismiss();
    crate::journal::forget("shm", &name);
    allowed(
        "shm_unlink",
        format!("{name}: open, ftruncate {SIZE}, mmap rw, write, unlink ok"),
    )
}

/// shm_open(O_CREAT|O_EXCL|O_RDWR); EEXIST is a stale leftover of a dead
/// process with our pid, unlinked and retried once.
fn open_exclusive(name: &CString) -> Result<std::os::fd::OwnedFd, Failure> {
    for attempt in 0..2 {
        // SAFETY: valid C string and mode.
        let fd = unsafe {
            libc::shm_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
                MODE,
            )
        };
        if fd >= 0 {
            // SAFETY: shm_open just created this descriptor; it is ours.
            return Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) });
        }
        if errno() == libc::EEXIST && attempt == 0 {
            // SAFETY: unlinking a stale name of ours.
            unsafe { libc::shm_unlink(name.as_ptr()) };
            continue;
        }
        return Err(last_failure("shm_open", ""));
    }
    Err(last_failure("shm_open", "stale name could not be replaced"))
}
