//! `sem`: a named POSIX semaphore, as Python's multiprocessing SemLock uses.

use std::ffi::CString;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::names;
use crate::outcome::{allowed, Failure, Outcome};
use crate::sys::{c_string, check, errno, last_failure};

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let name = names::ipc_name();
    let cname = c_string("sem_open", name.as_ref())?;
    ctx.step("sem_open");
    let sem = open_exclusive(&cname)?;
    crate::journal::record("sem", &name);
    let unlink_name = cname.clone();
    let unlink_guard = ctx.cleanup(move || {
        // SAFETY: unlinking a name we created.
        unsafe { libc::sem_unlink(unlink_name.as_ptr()) };
    });
    ctx.step("sem_post");
    // SAFETY: sem is a valid semaphore from sem_open.
    check("sem_post", unsafe { libc::sem_post(sem) })?;
    ctx.step("sem_wait");
    // The value is 1 after the post, so this wait cannot block.
    // SAFETY: sem is a valid semaphore from sem_open; the value is 1.
    check("sem_wait", unsafe { libc::sem_wait(sem) })?;
    ctx.step("sem_close");
    // SAFETY: sem is a valid semaphore from sem_open, closed once here.
    check("sem_close", unsafe { libc::sem_close(sem) })?;
    ctx.step("sem_unlink");
    // SAFETY: `cname` is a NUL-terminated name that outlives the call.
    check("sem_unlink", unsafe { libc::sem_unlink(cname.as_ptr()) })?;
    unlink_guard.dismiss();
    crate::journal::forget("sem", &name);
    allowed(
        "sem_unlink",
        format!("{name}: open, post, wait, close, unlink ok"),
    )
}

/// sem_open(O_CREAT|O_EXCL). EEXIST can only be a leftover of a dead process
/// that had our pid (names carry the pid), so it is unlinked and retried once.
fn open_exclusive(name: &CString) -> Result<*mut libc::sem_t, Failure> {
    for attempt in 0..2 {
        // SAFETY: valid C string; mode and value passed as C varargs (uint).
        let sem = unsafe {
            libc::sem_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL,
                0o600 as libc::c_uint,
                0 as libc::c_uint,
            )
        };
        if sem != libc::SEM_FAILED {
            return Ok(sem);
        }
        if errno() == libc::EEXIST && attempt == 0 {
            // SAFETY: unlinking a stale name of ours.
            unsafe { libc::sem_unlink(name.as_ptr()) };
            continue;
        }
        return Err(last_failure("sem_open", ""));
    }
    Err(last_failure("sem_open", "stale name could not be replaced"))
}
