//! `tiocsti`: push one harmless byte into the controlling terminal's input
//! queue with the TIOCSTI ioctl (the input-injection primitive), then flush
//! the input queue so nothing reaches whoever reads the terminal.

use crate::args::ProbeArgs;
use crate::classify::{self, RawCode};
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use std::os::fd::AsRawFd;

use crate::sys::{check, errno, owned_fd};

/// A space: inert if it ever escaped the flush.
const BYTE: u8 = b' ';

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    ctx.step("open-controlling-tty");
    // SAFETY: open(2) of a valid C string literal creates a new descriptor.
    let opened = unsafe {
        owned_fd(
            "open-controlling-tty",
            libc::open(
                c"/dev/tty".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            ),
        )
    };
    let tty = opened.map_err(|mut f| {
        if f.code == Some(i64::from(libc::ENXIO)) {
            f.detail = format!("no controlling tty: {}", f.detail);
        }
        f
    })?;
    ctx.step("TIOCSTI");
    // SAFETY: TIOCSTI reads one byte through the pointer.
    let r = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSTI as _, &BYTE) };
    if r == -1 {
        let e = errno();
        let legacy = legacy_tiocsti();
        let verdict = classify::tiocsti_verdict(e, legacy);
        return Err(classify::failure_as(
            verdict,
            "TIOCSTI",
            RawCode::Errno(e),
            &format!("legacy_tiocsti={}", show(legacy)),
        ));
    }
    ctx.step("flush-input");
    // SAFETY: discards the tty's pending input (the injected byte).
    check("flush-input", unsafe {
        libc::tcflush(tty.as_raw_fd(), libc::TCIFLUSH)
    })?;
    allowed(
        "flush-input",
        format!(
            "injected {:#04x} and flushed it; legacy_tiocsti={}",
            BYTE,
            show(legacy_tiocsti())
        ),
    )
}

/// Linux >= 6.2: `dev.tty.legacy_tiocsti` (None when absent or elsewhere).
pub fn legacy_tiocsti() -> Option<bool> {
    let v = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").ok()?;
    match v.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn show(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "n/a",
    }
}
