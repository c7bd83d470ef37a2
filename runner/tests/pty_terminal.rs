//! The pty session driven the way a user's terminal drives it: each test owns
//! an outer pty and starts the runner (the `pty-session-driver` binary, a
//! thin main over `runner::pty::run` in Terminal mode) on its slave, as
//! session leader with that slave as controlling terminal.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;

const DRIVER: &str = env!("CARGO_BIN_EXE_pty-session-driver");

struct Outer {
    master: OwnedFd,
    slave: OwnedFd,
    child: Child,
    seen: Vec<u8>,
    /// The termios before the runner started.
    before: libc::termios,
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

fn termios(fd: BorrowedFd<'_>) -> libc::termios {
    // SAFETY: tcgetattr fills a zeroed termios (padding stays zero, so two
    // snapshots compare byte for byte).
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
    t
}

fn bytes_of(t: &libc::termios) -> &[u8] {
    // SAFETY: viewing a plain-data struct as bytes.
    unsafe {
        std::slice::from_raw_parts(
            (t as *const libc::termios).cast::<u8>(),
            std::mem::size_of::<libc::termios>(),
        )
    }
}

fn is_raw(t: &libc::termios) -> bool {
    t.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG) == 0 && t.c_oflag & libc::OPOST == 0
}

impl Outer {
    fn start(driver_args: &[&str], rows: u16, cols: u16) -> Outer {
        let (mut m, mut s) = (-1, -1);
        let ws = winsize(rows, cols);
        // SAFETY: openpty writes two fds.
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &ws as *const libc::winsize as _,
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: fresh fds we own.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        for fd in [m, s] {
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let flags = unsafe { libc::fcntl(m, libc::F_GETFL) };
        unsafe { libc::fcntl(m, libc::F_SETFL, flags | libc::O_NONBLOCK) };
        let before = termios(slave.as_fd());
        let mut cmd = Command::new(DRIVER);
        cmd.args(driver_args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: signal, setsid and ioctl are async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                // The runner keeps termination signals its caller ignored
                // (nohup, a script's `&` job ignores SIGINT): start it with
                // the defaults so these tests mean the same wherever run.
                for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(sig, libc::SIG_DFL);
                }
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("driver starts");
        Outer {
            master,
            slave,
            child,
            seen: Vec::new(),
            before,
        }
    }

    fn read_some(&mut self, wait: Duration) {
        let mut pfd = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as i32) };
        let mut buf = [0u8; 4096];
        loop {
            let n =
                unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            self.seen.extend_from_slice(&buf[..n as usize]);
        }
    }

    /// Waits until the terminal has shown `needle` since the last call.
    fn expect(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = find(&self.seen, needle.as_bytes()) {
                self.seen.drain(..i + needle.len());
                return;
            }
            if Instant::now() >= deadline {
                let shown = String::from_utf8_lossy(&self.seen).into_owned();
                let _ = self.child.kill();
                panic!("terminal never showed {needle:?}; it showed {shown:?}");
            }
            self.read_some(Duration::from_millis(20));
        }
    }

    fn type_bytes(&mut self, bytes: &[u8]) {
        let mut f = std::fs::File::from(self.master.try_clone().unwrap());
        f.write_all(bytes).unwrap();
    }

    fn resize(&self, rows: u16, cols: u16) {
        // SAFETY: TIOCSWINSZ reads one winsize; the kernel then signals the
        // terminal's foreground group (the runner) with SIGWINCH.
        let rc = unsafe {
            libc::ioctl(
                self.master.as_raw_fd(),
                libc::TIOCSWINSZ,
                &winsize(rows, cols),
            )
        };
        assert_eq!(rc, 0);
    }

    fn termios(&self) -> libc::termios {
        termios(self.slave.as_fd())
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("runner did not exit within {within:?}");
            }
            self.read_some(Duration::from_millis(10));
        }
    }
}

impl Drop for Outer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

const SECS_10: Duration = Duration::from_secs(10);

#[test]
fn inherits_outer_size_is_raw_during_and_restores_exact_termios() {
    let mut outer = Outer::start(
        &[
            "--",
            "sh",
            "-c",
            "stty size; echo READY; read l; echo GOT:$l",
        ],
        33,
        101,
    );
    let before = outer.before;
    assert!(!is_raw(&before), "outer pty starts cooked");
    outer.expect("33 101", SECS_10);
    outer.expect("READY", SECS_10);
    assert!(
        is_raw(&outer.termios()),
        "outer terminal raw during the session"
    );
    outer.type_bytes(b"hello\r");
    outer.expect("GOT:hello", SECS_10);
    assert_eq!(outer.wait(SECS_10).code(), Some(0));
    assert_eq!(
        bytes_of(&outer.termios()),
        bytes_of(&before),
        "termios restored byte for byte"
    );
}

#[test]
fn outer_resize_reaches_the_child() {
    let script = "trap 'stty size' WINCH; echo READY; while :; do sleep 0.02; done";
    let mut outer = Outer::start(&["--", "sh", "-c", script], 24, 80);
    outer.expect("READY", SECS_10);
    outer.resize(40, 120);
    outer.expect("40 120", SECS_10);
    outer.resize(21, 77);
    outer.expect("21 77", SECS_10);
    outer.type_bytes(&[0x03]);
    assert_eq!(outer.wait(SECS_10).code(), Some(130));
}

#[test]
fn ctrl_c_interrupts_the_child_and_the_runner_exits_130() {
    let mut outer = Outer::start(&["--", "sh", "-c", "echo READY; exec sleep 30"], 24, 80);
    let before = outer.before;
    outer.expect("READY", SECS_10);
    let started = Instant::now();
    outer.type_bytes(&[0x03]);
    assert_eq!(outer.wait(SECS_10).code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(bytes_of(&outer.termios()), bytes_of(&before));
}

#[rstest]
#[case::term(libc::SIGTERM)]
#[case::int(libc::SIGINT)]
#[case::hup(libc::SIGHUP)]
fn termination_signal_to_the_runner_ends_the_group_and_restores_termios(#[case] sig: libc::c_int) {
    let mut outer = Outer::start(
        &[
            "--grace-ms",
            "500",
            "--",
            "sh",
            "-c",
            "echo PID=$$; exec sleep 30",
        ],
        24,
        80,
    );
    let before = outer.before;
    outer.expect("PID=", SECS_10);
    outer.read_some(Duration::from_millis(50));
    let seen = String::from_utf8_lossy(&outer.seen).into_owned();
    let child: i32 = seen.split_whitespace().next().unwrap().parse().unwrap();
    assert!(is_raw(&outer.termios()));
    // SAFETY: signalling the runner this test started.
    unsafe { libc::kill(outer.child.id() as i32, sig) };
    let status = outer.wait(SECS_10);
    // The child was sent SIGTERM by the runner, which exits with its status.
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    assert_eq!(
        bytes_of(&outer.termios()),
        bytes_of(&before),
        "termios restored"
    );
    assert_eq!(
        unsafe { libc::kill(child, 0) },
        -1,
        "child {child} survived"
    );
}

#[test]
fn panic_in_the_runner_restores_termios() {
    let mut outer = Outer::start(
        &[
            "--panic-when-raw",
            "--",
            "sh",
            "-c",
            "echo READY; exec sleep 30",
        ],
        24,
        80,
    );
    let before = outer.before;
    let status = outer.wait(SECS_10);
    assert_eq!(
        status.code(),
        Some(101),
        "{status:?}: {}",
        String::from_utf8_lossy(&outer.seen)
    );
    assert!(status.signal().is_none());
    assert!(find(&outer.seen, b"deliberate panic").is_some());
    assert_eq!(
        bytes_of(&outer.termios()),
        bytes_of(&before),
        "termios restored after panic"
    );
}

#[test]
fn resize_storm_does_not_deadlock_and_the_last_size_wins() {
    let mut outer = Outer::start(
        &[
            "--",
            "sh",
            "-c",
            "echo READY; while read x; do stty size; done",
        ],
        24,
        80,
    );
    outer.expect("READY", SECS_10);
    let started = Instant::now();
    for i in 0..10_000u16 {
        outer.resize(20 + i % 30, 60 + i % 50);
        if i % 512 == 0 {
            outer.read_some(Duration::ZERO);
        }
    }
    outer.resize(50, 150);
    let deadline = Instant::now() + SECS_10;
    loop {
        outer.type_bytes(b"\r");
        outer.read_some(Duration::from_millis(50));
        if find(&outer.seen, b"50 150").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "final size never reached the child"
        );
    }
    outer.type_bytes(&[0x04]);
    assert_eq!(outer.wait(SECS_10).code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn piped_stdin_is_bridged_and_its_end_reaches_the_child() {
    let mut child = Command::new(DRIVER)
        .args(["--timeout-ms", "10000", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one line\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.matches("one line").count() >= 1, "{text:?}");
}
