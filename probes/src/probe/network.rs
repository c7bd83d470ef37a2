//! `network --host H --port N`: an outbound TCP connect.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use crate::sys::io_failure;

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let host = args.host.as_deref().unwrap_or_default();
    let port = args.port.unwrap_or_default();
    ctx.step("resolve");
    let addr = resolve(host, port)?;
    ctx.step("connect");
    let limit = ctx.remaining().max(Duration::from_millis(1));
    let stream =
        TcpStream::connect_timeout(&addr, limit).map_err(|e| io_failure("connect", &e, ""))?;
    drop(stream);
    allowed("connect", format!("connected to {addr}"))
}

/// An IP literal needs no lookup (and so no resolver traffic); a name is
/// resolved with getaddrinfo.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, Failure> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| io_failure("resolve", &e, host))?;
    addrs
        .next()
        .ok_or_else(|| Failure::plain(Verdict::Error, "resolve", format!("{host}: no addresses")))
}
