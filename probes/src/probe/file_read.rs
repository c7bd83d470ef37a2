//! `file-read --path P`: open(2) read-only and read(2) the first block.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{c_string, last_failure, owned_fd};

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = c_string("open", args.path.as_deref().unwrap_or_default())?;
    ctx.step("open");
    // SAFETY: valid C string.
    let fd = unsafe {
        owned_fd(
            "open",
            libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC),
        )
    }?;
    ctx.step("read");
    let mut buf = [0u8; 4096];
    // SAFETY: reads into a valid buffer of its length.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(last_failure("read", ""));
    }
    allowed("read", format!("read {n} bytes"))
}
