//! `unix-bind --path P`: bind(2) + listen(2) an AF_UNIX socket, then unlink it.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{c_string, check, sockaddr_un, unix_socket};

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = args.path.as_deref().unwrap_or_default();
    let (addr, len) = sockaddr_un("sockaddr", path)?;
    let cpath = c_string("sockaddr", path)?;
    ctx.step("socket");
    let sock = unix_socket("socket")?;
    ctx.step("bind");
    // SAFETY: addr/len describe a valid sockaddr_un.
    check("bind", unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    })?;
    let unlink_path = cpath.clone();
    let guard = ctx.cleanup(move || {
        // SAFETY: removes the socket file this probe bound.
        unsafe { libc::unlink(unlink_path.as_ptr()) };
    });
    ctx.step("listen");
    // SAFETY: listen on the socket this probe owns.
    check("listen", unsafe { libc::listen(sock.as_raw_fd(), 1) })?;
    ctx.step("unlink");
    // SAFETY: `cpath` is a NUL-terminated path that outlives the call.
    check("unlink", unsafe { libc::unlink(cpath.as_ptr()) })?;
    guard.dismiss();
    allowed("unlink", "bound, listening, unlinked")
}
