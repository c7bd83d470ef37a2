//! `unix-connect --path P`: connect(2) to an AF_UNIX stream socket, as
//! clients of ssh-agent, docker.sock or an editor's server do.

use std::time::Duration;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{check, last_failure, sockaddr_un, unix_socket, wait_readable};

/// How long to wait for the peer's optional greeting byte.
const GREETING_WAIT: Duration = Duration::from_millis(50);

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = args.path.as_deref().unwrap_or_default();
    let (addr, len) = sockaddr_un("sockaddr", path)?;
    ctx.step("socket");
    let sock = unix_socket("socket")?;
    ctx.step("connect");
    // SAFETY: addr/len describe a valid sockaddr_un.
    check("connect", unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    })?;
    ctx.step("read-greeting");
    let wait = ctx.remaining().min(GREETING_WAIT);
    if !wait_readable("read-greeting", sock.as_raw_fd(), wait)? {
        return allowed("connect", "connected; peer sent nothing within 50 ms");
    }
    let mut byte = [0u8; 1];
    // SAFETY: reads one byte into a valid buffer.
    let n = unsafe { libc::read(sock.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
    match n {
        0 => allowed("read-greeting", "connected; peer closed without a byte"),
        1 => {
            ctx.step("write-reply");
            // SAFETY: writes the byte back.
            let w = unsafe { libc::write(sock.as_raw_fd(), byte.as_ptr().cast(), 1) };
            if w != 1 {
                return Err(last_failure("write-reply", "connected and read a byte"));
            }
            allowed(
                "write-reply",
                format!("connected; exchanged byte {:#04x}", byte[0]),
            )
        }
        _ => Err(last_failure("read-greeting", "connected")),
    }
}
