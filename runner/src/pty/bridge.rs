//! The two bridge threads: our stdin -> master, master -> our stdout (or a
//! capture buffer). Each owns its own dup of the master and waits on it
//! together with a stop pipe, so the supervisor can end either thread at any
//! time and every join is bounded.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::thread::JoinHandle;

use super::fd::{self, Interest};

const CHUNK: usize = 16 * 1024;
/// The end-of-file character written to the master when our stdin ends, so a
/// child reading its (canonical-mode) terminal sees EOF too.
const VEOF: u8 = 0x04;

/// A one-shot "stop now" signal the bridge threads wait on.
pub(crate) struct Stop {
    read_end: OwnedFd,
    write_end: OwnedFd,
}

impl Stop {
    pub(crate) fn new() -> io::Result<Stop> {
        let (read_end, write_end) = fd::cloexec_pipe()?;
        Ok(Stop {
            read_end,
            write_end,
        })
    }

    pub(crate) fn waiter(&self) -> io::Result<OwnedFd> {
        self.read_end.try_clone()
    }

    /// Wakes every waiter; the byte is never read, so the stop is sticky.
    pub(crate) fn stop(&self) {
        let _ = fd::write(self.write_end.as_fd(), &[1]);
    }
}

/// Where the child's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Everything into the returned buffer.
    Capture,
    /// To our stdout, keeping a copy of the first `head` bytes.
    Stdout { head: usize },
}

/// Copies master -> sink until EOF/EIO on the master (every slave fd closed)
/// or a stop; on a stop it first drains whatever the master already holds.
/// `on_closed` runs when the master reported EOF/EIO. Returns the captured
/// bytes.
pub(crate) fn spawn_output(
    master: OwnedFd,
    sink: Sink,
    stop: OwnedFd,
    on_closed: Box<dyn FnOnce() + Send>,
) -> io::Result<JoinHandle<Vec<u8>>> {
    std::thread::Builder::new()
        .name("beltcheck-pty-out".into())
        .spawn(move || {
            let mut out = Output {
                sink,
                kept: Vec::new(),
                stdout_ok: true,
            };
            let mut buf = vec![0u8; CHUNK];
            let watched = [
                (master.as_fd(), Interest::Read),
                (stop.as_fd(), Interest::Read),
            ];
            while let Ok(ready) = fd::wait_ready(&watched, None) {
                if ready[0] {
                    match fd::read(master.as_fd(), &mut buf) {
                        Ok(0) => {
                            on_closed();
                            break;
                        }
                        Ok(n) => {
                            out.emit(&buf[..n]);
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // EIO: the last slave fd closed, everything is read.
                        Err(_) => {
                            on_closed();
                            break;
                        }
                    }
                }
                if ready[1] {
                    drain(master.as_fd(), &mut buf, &mut out);
                    break;
                }
            }
            out.kept
        })
}

/// Reads what the (non-blocking) master holds right now.
fn drain(master: BorrowedFd<'_>, buf: &mut [u8], out: &mut Output) {
    while let Ok(n) = fd::read(master, buf) {
        if n == 0 {
            break;
        }
        out.emit(&buf[..n]);
    }
}

struct Output {
    sink: Sink,
    kept: Vec<u8>,
    stdout_ok: bool,
}

impl Output {
    fn emit(&mut self, bytes: &[u8]) {
        match self.sink {
            Sink::Capture => self.kept.extend_from_slice(bytes),
            Sink::Stdout { head } => {
                let room = head.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&bytes[..room.min(bytes.len())]);
                // A broken stdout stops the copy, not the draining: the child
                // must never block on a full pty.
                if self.stdout_ok {
                    self.stdout_ok = write_stdout(bytes).is_ok();
                }
            }
        }
    }
}

fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let _lock = stdout.lock();
    let fd = stdout.as_fd();
    while !bytes.is_empty() {
        match fd::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                fd::wait_ready(&[(fd, Interest::Write)], None)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copies our stdin -> master until stdin ends (then sends VEOF), the master
/// fails, or a stop. Our stdin is never made non-blocking (its file
/// description is shared with the parent shell); it is only read after it
/// polled readable.
pub(crate) fn spawn_input(master: OwnedFd, stop: OwnedFd) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("beltcheck-pty-in".into())
        .spawn(move || {
            // SAFETY: fd 0 stays open for the life of the process.
            let stdin = unsafe { BorrowedFd::borrow_raw(libc::STDIN_FILENO) };
            let mut buf = vec![0u8; CHUNK];
            loop {
                let ready = match fd::wait_ready(
                    &[(stdin, Interest::Read), (stop.as_fd(), Interest::Read)],
                    None,
                ) {
                    Ok(r) => r,
                    Err(_) => return,
                };
                if ready[1] {
                    return;
                }
                let n = match fd::read(stdin, &mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(_) => 0,
                };
                let chunk: &[u8] = if n == 0 { &[VEOF] } else { &buf[..n] };
                match fd::write_all_until(master.as_fd(), chunk, stop.as_fd()) {
                    Ok(true) if n > 0 => {}
                    _ => return,
                }
            }
        })
}
