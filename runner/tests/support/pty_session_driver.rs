//! Test driver for the pty session: runs one command through
//! `runner::pty::run` in Terminal mode and exits with its status. The pty
//! tests (runner/tests/) start it on a pty they own, as a user's terminal
//! would. Not part of the product: an example target, built for the tests.
//!
//! Usage: pty-session-driver [--timeout-ms N] [--grace-ms N] [--nofile]
//!        [--panic-when-raw] -- CMD [ARGS...]
//! `--panic-when-raw` runs the session on a thread and panics the main
//! thread once stdin is in raw mode (to test the panic-hook restore).

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use runner::launch::CommandSpec;
use runner::pty::{self, RaiseNofile, SessionOptions};

struct Args {
    opts: SessionOptions,
    panic_when_raw: bool,
    cmd: CommandSpec,
}

fn parse() -> Result<Args, String> {
    let mut opts = SessionOptions::terminal();
    let mut panic_when_raw = false;
    let mut it = std::env::args_os().skip(1);
    let millis = |v: Option<OsString>, flag: &str| -> Result<Duration, String> {
        let v = v.ok_or(format!("{flag} needs a value"))?;
        let n: u64 = v
            .to_str()
            .and_then(|s| s.parse().ok())
            .ok_or(format!("{flag}: bad value {v:?}"))?;
        Ok(Duration::from_millis(n))
    };
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--timeout-ms") => opts.timeout = Some(millis(it.next(), "--timeout-ms")?),
            Some("--grace-ms") => opts.grace = millis(it.next(), "--grace-ms")?,
            Some("--nofile") => opts.raise_nofile = RaiseNofile::SoftToHard,
            Some("--panic-when-raw") => panic_when_raw = true,
            Some("--") => break,
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let program = it.next().ok_or("missing command after --")?;
    Ok(Args {
        opts,
        panic_when_raw,
        cmd: CommandSpec {
            program: program.into(),
            args: it.collect(),
        },
    })
}

fn stdin_is_raw() -> bool {
    nix::sys::termios::tcgetattr(std::io::stdin()).is_ok_and(|t| {
        !t.local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON)
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pty-session-driver: {e}");
            return ExitCode::from(2);
        }
    };
    if args.panic_when_raw {
        let Args { opts, cmd, .. } = args;
        std::thread::spawn(move || pty::run(&cmd, &opts));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stdin_is_raw() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("deliberate panic while the session holds the terminal");
    }
    match pty::run(&args.cmd, &args.opts) {
        Ok(outcome) => ExitCode::from(outcome.code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("pty-session-driver: {e}");
            ExitCode::from(125)
        }
    }
}
