//! `beltcheck run` driven black-box the way a script drives it (stdio that
//! is not a terminal): bytes pass exactly, the end of input reaches the
//! command, a closed or failing stdout ends the session, and the exit status
//! says how the session ended (the command's status, 124 for `--timeout`,
//! death by the signal beltcheck itself was sent). The terminal-driven cases
//! (ready gate, raw mode) are in `cli_run_terminal.rs`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;

/// Long enough for a loaded 2-core machine; a session that hangs fails here.
const HANG: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
enum Backend {
    None,
    #[cfg(target_os = "linux")]
    Linux,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::None => "none",
            #[cfg(target_os = "linux")]
            Backend::Linux => "linux",
        }
    }
}

fn beltcheck(backend: Backend, extra: &[&str], cmd: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beltcheck"));
    c.args(["run", "--backend", backend.name()])
        .args(extra)
        .arg("--")
        .args(cmd)
        // The linux backend's stage is found next to beltcheck.
        .env_remove("BELTCHECK_STAGE");
    default_termination_signals(&mut c);
    if matches!(backend, Backend::None) {
        return c;
    }
    common::bin_dir();
    c
}

/// Starts beltcheck with SIGINT, SIGTERM and SIGHUP at their default
/// disposition, as from an interactive shell: beltcheck keeps a signal its
/// caller ignored (`nohup`, a background job of a script), and a test run
/// from such a caller must still see what an ordinary user would.
fn default_termination_signals(c: &mut Command) {
    // SAFETY: signal() is async-signal-safe; only this child is changed.
    unsafe {
        c.pre_exec(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
}

/// Waits for `child`, killing it and failing the test if it takes longer
/// than [`HANG`].
fn wait_bounded(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + HANG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: beltcheck run did not end within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` with `input` on a stdin pipe (written from a thread, so a
/// large input and output cannot deadlock each other); stdout and stderr
/// are pipes too.
fn run_with_input(mut command: Command, input: Vec<u8>) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn beltcheck");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The command may legitimately stop reading early; the test then
        // fails on the output, not here.
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).unwrap();
        v
    });
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let status = wait_bounded(&mut child, "run_with_input");
    writer.join().unwrap();
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Deterministic bytes covering all 256 values (xorshift64).
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn assert_same_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    panic!(
        "{what}: {} bytes out for {} in; first difference at byte {first}: got {:?}, want {:?}",
        got.len(),
        want.len(),
        &got[first..(first + 16).min(got.len())],
        &want[first..(first + 16).min(want.len())],
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `pid` still exists (a zombie counts: it is still somebody's).
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn cat_passes_random_bytes_exactly(backend: Backend) {
    let input = random_bytes(10 * 1024 * 1024, 0x9e37_79b9_7f4a_7c15);
    let out = run_with_input(beltcheck(backend, &[], &["cat"]), input.clone());
    assert_eq!(out.status.code(), Some(0), "stderr {}", text(&out.stderr));
    assert_same_bytes("stdout of cat", &out.stdout, &input);
    assert_eq!(text(&out.stderr), "", "nothing on stderr");
}

#[test]
fn ten_megabytes_of_random_bytes_pass_through_cat_unchanged() {
    cat_passes_random_bytes_exactly(Backend::None);
}

#[cfg(target_os = "linux")]
#[test]
fn ten_megabytes_of_random_bytes_pass_through_cat_unchanged_under_linux() {
    cat_passes_random_bytes_exactly(Backend::Linux);
}

/// What a cooked pty would mangle: a line longer than its 4,096-byte line
/// buffer, ^C (SIGINT), ^D (end of file), ^Z, ^\, DEL, CR and LF.
fn awkward_input() -> Vec<u8> {
    let mut v = vec![b'a'; 5000];
    v.extend_from_slice(b"\n\x03 \x04 \x1a \x1c \x7f \r\n\x04");
    v.extend_from_slice(&[b'b'; 5000]);
    v
}

#[rstest]
#[case::none(Backend::None)]
#[cfg_attr(target_os = "linux", case::linux(Backend::Linux))]
fn control_bytes_and_long_lines_reach_the_command_as_written(#[case] backend: Backend) {
    let input = awkward_input();
    let out = run_with_input(beltcheck(backend, &[], &["cat"]), input.clone());
    assert_eq!(
        out.status.code(),
        Some(0),
        "cat ended early: stderr {}",
        text(&out.stderr)
    );
    assert_same_bytes("stdout of cat", &out.stdout, &input);
}

#[test]
fn stderr_is_relayed_exactly_and_apart_from_stdout() {
    let input = awkward_input();
    let out = run_with_input(
        beltcheck(
            Backend::None,
            &[],
            &["sh", "-c", "cat >&2; printf 'out\\n'"],
        ),
        input.clone(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr {}", text(&out.stderr));
    assert_same_bytes("stderr", &out.stderr, &input);
    assert_eq!(text(&out.stdout), "out\n");
}

#[rstest]
#[case::none(Backend::None)]
#[cfg_attr(target_os = "linux", case::linux(Backend::Linux))]
fn the_pty_stays_the_controlling_terminal(#[case] backend: Backend) {
    let script = "if exec 3</dev/tty; then echo tty-opens; fi; \
                  test -t 0 || echo stdin-is-not-a-tty; \
                  test -t 1 || echo stdout-is-not-a-tty; \
                  echo to-the-terminal >/dev/tty";
    let out = run_with_input(beltcheck(backend, &[], &["sh", "-c", script]), Vec::new());
    assert_eq!(out.status.code(), Some(0), "stderr {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "tty-opens\nstdin-is-not-a-tty\nstdout-is-not-a-tty\n"
    );
    // No terminal of ours to show it on: it goes to stderr, as written.
    assert_eq!(text(&out.stderr), "to-the-terminal\n");
}

#[test]
fn input_without_a_final_newline_ends_and_reaches_the_command() {
    let out = run_with_input(
        beltcheck(Backend::None, &[], &["cat"]),
        b"no-newline".to_vec(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no-newline");
}

#[test]
fn a_command_that_stops_reading_early_does_not_hang_the_session() {
    // `head` exits after one line while its stdin still has 10 MB to come.
    let out = run_with_input(
        beltcheck(Backend::None, &[], &["head", "-n", "1"]),
        [&b"first\n"[..], &random_bytes(10 * 1024 * 1024, 7)].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "first\n");
}

#[test]
fn a_closed_stdout_ends_the_session_and_the_command() {
    let mut child = beltcheck(Backend::None, &[], &["sh", "-c", "echo $$; exec yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let pid: i32 = first.trim().parse().expect("the command's pid");
    // What `| head -1` does: read one line, close the pipe.
    drop(lines);
    let status = wait_bounded(&mut child, "yes | head -1");
    // Quietly, as a filter in a pipeline ends: by SIGPIPE.
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
    assert!(!alive(pid), "the command ({pid}) outlived the session");
}

#[test]
fn a_failing_stdout_ends_the_session_with_a_message() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut child = beltcheck(Backend::None, &[], &["yes"])
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, "yes > /dev/full");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{status:?}; stderr {stderr:?}");
    assert!(
        stderr.contains("stdout") && stderr.contains("No space left"),
        "{stderr:?}"
    );
}

#[rstest]
#[case::int(libc::SIGINT)]
#[case::term(libc::SIGTERM)]
#[case::hup(libc::SIGHUP)]
fn a_termination_signal_ends_the_session_then_beltcheck_dies_by_it(#[case] sig: libc::c_int) {
    let mut child = beltcheck(Backend::None, &[], &["sh", "-c", "echo $$; exec sleep 30"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let pid: i32 = first.trim().parse().expect("the command's pid");
    // SAFETY: signalling the beltcheck this test started.
    unsafe { libc::kill(child.id() as i32, sig) };
    let status = wait_bounded(&mut child, "signalled session");
    assert_eq!(status.signal(), Some(sig), "{status:?}");
    assert!(!alive(pid), "the command ({pid}) outlived the session");
}

#[rstest]
#[case::sleeps(&["sleep", "30"])]
// A command that takes SIGTERM as a cue to exit 0 still times out.
#[case::exits_0_on_term(&["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"])]
fn a_timeout_that_fires_exits_124(#[case] cmd: &[&str]) {
    let out = run_with_input(
        beltcheck(Backend::None, &["--timeout", "0.5"], cmd),
        Vec::new(),
    );
    assert_eq!(out.status.code(), Some(124), "stderr {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("timed out"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_command_that_ends_before_the_timeout_keeps_its_status() {
    let out = run_with_input(
        beltcheck(Backend::None, &["--timeout", "30"], &["sh", "-c", "exit 3"]),
        Vec::new(),
    );
    assert_eq!(out.status.code(), Some(3));
}
