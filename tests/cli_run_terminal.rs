//! `beltcheck run` driven black-box through a real terminal: each test opens
//! a pty and starts beltcheck on its slave as session leader with that
//! slave as controlling terminal, as a user's shell would, then types on
//! the master.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;

const WITHIN: Duration = Duration::from_secs(30);

/// A terminal the test owns, with beltcheck running on it.
struct Terminal {
    master: OwnedFd,
    slave: OwnedFd,
    beltcheck: Child,
    shown: Vec<u8>,
    /// The termios before beltcheck started.
    before: Vec<u8>,
}

fn termios(fd: BorrowedFd<'_>) -> libc::termios {
    // SAFETY: tcgetattr fills a zeroed termios (padding stays zero, so two
    // snapshots compare byte for byte).
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr fills `t`, which we own, from a valid fd.
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
    t
}

fn bytes_of(t: &libc::termios) -> Vec<u8> {
    // SAFETY: viewing a plain-data struct as bytes.
    unsafe {
        std::slice::from_raw_parts(
            (t as *const libc::termios).cast::<u8>(),
            std::mem::size_of::<libc::termios>(),
        )
    }
    .to_vec()
}

fn is_raw(t: &libc::termios) -> bool {
    t.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG) == 0
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Terminal {
    fn start(cmd: &[&str]) -> Terminal {
        Terminal::start_with_stdin(cmd, None)
    }

    /// `stdin`: beltcheck's stdin instead of the terminal.
    fn start_with_stdin(cmd: &[&str], stdin: Option<Stdio>) -> Terminal {
        let (mut m, mut s) = (-1, -1);
        // SAFETY: openpty writes two fds; name, termios and size may be null.
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: fresh fds we own.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        // SAFETY: fcntl on our own fds.
        unsafe {
            libc::fcntl(m, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC);
            let flags = libc::fcntl(m, libc::F_GETFL);
            libc::fcntl(m, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let before = bytes_of(&termios(slave.as_fd()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_beltcheck"));
        command
            .args(["run", "--backend", "none", "--"])
            .args(cmd)
            .stdin(stdin.unwrap_or_else(|| Stdio::from(slave.try_clone().unwrap())))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                // Default dispositions, as from an interactive shell: a
                // caller that ignores them (nohup, a script's background job)
                // would otherwise hand beltcheck ignored signals, which it keeps.
                for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(sig, libc::SIG_DFL);
                }
                // fd 1 is the terminal whatever stdin is.
                if libc::setsid() < 0 || libc::ioctl(1, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let beltcheck = command.spawn().expect("beltcheck starts");
        Terminal {
            master,
            slave,
            beltcheck,
            shown: Vec::new(),
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
            // SAFETY: reading into our buffer.
            let n =
                unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            self.shown.extend_from_slice(&buf[..n as usize]);
        }
    }

    /// Waits until the terminal has shown `needle` since the last call.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + WITHIN;
        loop {
            if let Some(i) = find(&self.shown, needle.as_bytes()) {
                self.shown.drain(..i + needle.len());
                return;
            }
            if Instant::now() >= deadline {
                let shown = String::from_utf8_lossy(&self.shown).into_owned();
                panic!("terminal never showed {needle:?}; it showed {shown:?}");
            }
            self.read_some(Duration::from_millis(20));
        }
    }

    /// Waits until beltcheck has put the terminal in raw mode: the session
    /// has started, the command may not be ready yet.
    fn until_raw(&mut self) {
        let deadline = Instant::now() + WITHIN;
        while !is_raw(&termios(self.slave.as_fd())) {
            assert!(Instant::now() < deadline, "the terminal never went raw");
            self.read_some(Duration::from_millis(5));
        }
    }

    fn type_bytes(&self, bytes: &[u8]) {
        let mut f = std::fs::File::from(self.master.try_clone().unwrap());
        f.write_all(bytes).unwrap();
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WITHIN;
        loop {
            if let Some(status) = self.beltcheck.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "beltcheck did not exit");
            self.read_some(Duration::from_millis(10));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.beltcheck.kill();
        let _ = self.beltcheck.wait();
    }
}

/// Sleeps, sets its terminal with TCSAFLUSH (which discards input queued
/// so far), says READY, reads a line. Perl's POSIX module is in every Perl
/// (Debian's perl-base, macOS's /usr/bin/perl).
const FLUSHES_THEN_READS: &str = "use POSIX; select(undef, undef, undef, 1.0); \
     my $t = POSIX::Termios->new; $t->getattr(0) or die \"getattr: $!\"; \
     $t->setattr(0, POSIX::TCSAFLUSH) or die \"setattr: $!\"; \
     $| = 1; print \"READY\\n\"; my $l = <STDIN>; print \"GOT:$l\";";

#[test]
fn input_typed_before_the_command_is_ready_survives_its_tcsaflush() {
    let mut term = Terminal::start(&["perl", "-e", FLUSHES_THEN_READS]);
    term.until_raw();
    // Typed while the command still sleeps.
    term.type_bytes(b"early\r");
    term.expect("READY");
    term.expect("GOT:early");
    assert_eq!(term.wait().code(), Some(0));
}

#[test]
fn held_input_is_released_after_five_seconds_without_output() {
    let mut term = Terminal::start(&["sh", "-c", "read -r l; echo \"GOT:$l\""]);
    term.until_raw();
    let typed = Instant::now();
    term.type_bytes(b"silent\r");
    term.expect("GOT:silent");
    let held = typed.elapsed();
    assert!(
        held >= Duration::from_millis(4500),
        "input reached a silent command after {held:?}, before the 5 s cap"
    );
    assert_eq!(term.wait().code(), Some(0));
}

#[rstest]
#[case::int(libc::SIGINT)]
#[case::term(libc::SIGTERM)]
#[case::hup(libc::SIGHUP)]
fn a_signalled_session_restores_the_terminal_then_dies_by_the_signal(#[case] sig: libc::c_int) {
    let mut term = Terminal::start(&["sh", "-c", "echo READY; exec sleep 30"]);
    term.expect("READY");
    term.until_raw();
    // SAFETY: signalling the beltcheck this test started.
    unsafe { libc::kill(term.beltcheck.id() as i32, sig) };
    let status = term.wait();
    assert_eq!(status.signal(), Some(sig), "{status:?}");
    assert_eq!(
        bytes_of(&termios(term.slave.as_fd())),
        term.before,
        "termios restored byte for byte"
    );
}

#[test]
fn piped_input_with_the_terminal_as_output_is_passed_as_written_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    // ^C and ^D as data, no final newline: a pty would interrupt the
    // command and never deliver the end of input.
    std::fs::write(&input, b"a\x03b\x04c").unwrap();
    let file = std::fs::File::open(&input).unwrap();
    let mut term = Terminal::start_with_stdin(
        &["sh", "-c", "od -An -c; echo END"],
        Some(Stdio::from(file)),
    );
    term.expect("a 003   b 004   c");
    term.expect("END");
    assert_eq!(term.wait().code(), Some(0));
}
