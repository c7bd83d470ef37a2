//! `pty`: open a pseudo-terminal pair the way terminal multiplexers and
//! `script(1)` do, and push a byte through it.

use std::ffi::CStr;
use std::time::Duration;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use std::os::fd::AsRawFd;

use crate::sys::{check, last_failure, owned_fd, wait_readable};

const ROWS: u16 = 37;
const COLS: u16 = 101;
const BYTE: u8 = b'Z';

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    ctx.step("posix_openpt");
    // SAFETY: plain libc calls on fds this function owns.
    let master = unsafe {
        owned_fd(
            "posix_openpt",
            libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY),
        )
    }?;
    ctx.step("grantpt");
    // SAFETY: grantpt on the master fd this function owns.
    check("grantpt", unsafe { libc::grantpt(master.as_raw_fd()) })?;
    ctx.step("unlockpt");
    // SAFETY: unlockpt on the master fd this function owns.
    check("unlockpt", unsafe { libc::unlockpt(master.as_raw_fd()) })?;
    ctx.step("ptsname");
    let slave_name = slave_name(master.as_raw_fd())?;
    ctx.step("open-slave");
    // SAFETY: `slave_name` is a NUL-terminated path that outlives the call.
    let slave = unsafe {
        owned_fd(
            "open-slave",
            libc::open(slave_name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY),
        )
    }?;
    ctx.step("tcgetattr");
    let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: tcgetattr writes one termios into `termios`, on an fd we own.
    check("tcgetattr", unsafe {
        libc::tcgetattr(slave.as_raw_fd(), termios.as_mut_ptr())
    })?;
    winsize_round_trip(ctx, master.as_raw_fd(), slave.as_raw_fd())?;
    byte_round_trip(ctx, master.as_raw_fd(), slave.as_raw_fd())?;
    allowed(
        "read-byte",
        format!(
            "slave {} winsize {ROWS}x{COLS} round trip ok, byte slave->master ok",
            slave_name.to_string_lossy()
        ),
    )
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn slave_name(master: libc::c_int) -> Result<std::ffi::CString, Failure> {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: buf is writable for its whole length.
    let r = unsafe { libc::ptsname_r(master, buf.as_mut_ptr(), buf.len()) };
    if r != 0 {
        return Err(crate::classify::failure(
            "ptsname",
            crate::classify::RawCode::Errno(r),
            "",
        ));
    }
    // SAFETY: ptsname_r NUL-terminated it.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn slave_name(master: libc::c_int) -> Result<std::ffi::CString, Failure> {
    // SAFETY: ptsname's static buffer is safe here: the probe is the only thread
    // calling it, and the name is copied out at once.
    let p = unsafe { libc::ptsname(master) };
    if p.is_null() {
        return Err(last_failure("ptsname", ""));
    }
    // SAFETY: non-null ptsname result is a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(p) }.to_owned())
}

fn winsize_round_trip(ctx: &Ctx, master: libc::c_int, slave: libc::c_int) -> Result<(), Failure> {
    ctx.step("TIOCSWINSZ");
    let set = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the ioctl reads one winsize.
    check("TIOCSWINSZ", unsafe {
        libc::ioctl(master, libc::TIOCSWINSZ as _, &set)
    })?;
    ctx.step("TIOCGWINSZ");
    let mut got = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the ioctl writes one winsize.
    check("TIOCGWINSZ", unsafe {
        libc::ioctl(slave, libc::TIOCGWINSZ as _, &mut got)
    })?;
    if (got.ws_row, got.ws_col) != (ROWS, COLS) {
        return Err(Failure::plain(
            Verdict::Error,
            "TIOCGWINSZ",
            format!(
                "winsize mismatch: set {ROWS}x{COLS}, read {}x{}",
                got.ws_row, got.ws_col
            ),
        ));
    }
    Ok(())
}

fn byte_round_trip(ctx: &Ctx, master: libc::c_int, slave: libc::c_int) -> Result<(), Failure> {
    // Slave -> master: output processing leaves a plain letter alone, and no
    // line discipline buffering applies in this direction.
    ctx.step("write-byte");
    // SAFETY: writes one byte from a valid buffer.
    let n = unsafe { libc::write(slave, [BYTE].as_ptr().cast(), 1) };
    if n != 1 {
        return Err(last_failure("write-byte", "write to slave"));
    }
    ctx.step("read-byte");
    let wait = ctx.remaining().min(Duration::from_secs(2));
    if !wait_readable("read-byte", master, wait)? {
        return Err(Failure::plain(
            Verdict::Error,
            "read-byte",
            "no byte arrived on the master",
        ));
    }
    let mut buf = [0u8; 16];
    // SAFETY: reads into a valid buffer of its length.
    let n = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(last_failure("read-byte", "read from master"));
    }
    if !buf[..n as usize].contains(&BYTE) {
        return Err(Failure::plain(
            Verdict::Error,
            "read-byte",
            format!(
                "master read {:?}, expected {:?}",
                &buf[..n as usize],
                BYTE as char
            ),
        ));
    }
    Ok(())
}
