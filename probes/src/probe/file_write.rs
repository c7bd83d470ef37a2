//! `file-write --path P`: create P (it must not exist: the probe only writes
//! files it creates), write to it, close, unlink.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{c_string, check, last_failure, owned_fd};

const CONTENT: &[u8] = b"beltcheck probe\n";

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = c_string("open", args.path.as_deref().unwrap_or_default())?;
    ctx.step("open");
    // O_EXCL: never truncate or follow into an existing file.
    // SAFETY: open(2) of a valid C string (mode passed as a promoted uint)
    // creates a new descriptor.
    let opened = unsafe {
        owned_fd(
            "open",
            libc::open(
                path.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            ),
        )
    };
    let fd = opened.map_err(|mut f| {
        if f.code == Some(i64::from(libc::EEXIST)) {
            f.detail = format!(
                "path exists; the probe writes only files it creates: {}",
                f.detail
            );
        }
        f
    })?;
    let unlink_path = path.clone();
    let guard = ctx.cleanup(move || {
        // SAFETY: removes the file this probe created.
        unsafe { libc::unlink(unlink_path.as_ptr()) };
    });
    ctx.step("write");
    // SAFETY: writes from a valid buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), CONTENT.as_ptr().cast(), CONTENT.len()) };
    if n != CONTENT.len() as isize {
        return Err(last_failure("write", ""));
    }
    drop(fd);
    ctx.step("unlink");
    // SAFETY: `path` is a NUL-terminated path that outlives the call.
    check("unlink", unsafe { libc::unlink(path.as_ptr()) })?;
    guard.dismiss();
    allowed("unlink", format!("created, wrote {n} bytes, unlinked"))
}
