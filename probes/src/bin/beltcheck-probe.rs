//! `beltcheck-probe`: run one capability probe and print its JSON report.
//! Thin shell over the `probes` library; the report form is in `probes::report`
//! and the README's CLI table.
//!
//! With `BELTCHECK_VERDICT_FD` set (the matrix), the report goes to that
//! descriptor as one `verdict JSON` line instead of stdout: the runner's
//! channel, apart from the pty the probe's other output shares.

use std::io::Write;
use std::process::exit;

use probes::cli::{self, Command, USAGE};

/// Names the runner's verdict channel (see `runner::channel`, whose format
/// this writes: one `verdict JSON` line).
const VERDICT_FD_ENV: &str = "BELTCHECK_VERDICT_FD";

/// Exit code for bad usage (unknown probe, bad or missing arguments).
const USAGE_EXIT: i32 = 2;

fn usage_error(message: &str) -> ! {
    eprintln!("beltcheck-probe: {message}");
    eprintln!("{USAGE}");
    exit(USAGE_EXIT);
}

/// Print one line to stdout and exit: `exit` rather than returning from
/// main, so a probe thread stuck in a syscall cannot hold the process.
fn emit(line: &str, code: i32) -> ! {
    let mut out = std::io::stdout().lock();
    let ok = writeln!(out, "{line}").and_then(|_| out.flush()).is_ok();
    exit(if ok { code } else { 1 });
}

/// The descriptor named by `BELTCHECK_VERDICT_FD`, when set.
fn verdict_fd() -> Option<i32> {
    std::env::var(VERDICT_FD_ENV)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&fd: &i32| fd >= 0)
}

/// Writes `verdict JSON\n` to the channel in one write and exits.
fn emit_verdict(fd: i32, json: &str) -> ! {
    let line = format!("verdict {json}\n");
    // SAFETY: a write of bytes we own to a descriptor number (EBADF if it
    // is not open).
    let n = unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
    exit(if n == line.len() as isize { 0 } else { 1 });
}

fn main() {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(message) => usage_error(&message),
    };
    match command {
        Command::Help => emit(USAGE, 0),
        Command::Canary => exit(0),
        Command::List => {
            let names: Vec<_> = probes::catalogue::names().collect();
            emit(&names.join("\n"), 0)
        }
        Command::Sweep { socket_dirs } => {
            let summary = probes::sweep::sweep(&socket_dirs);
            let json = serde_json::to_string(&summary).unwrap_or_else(|e| {
                eprintln!("beltcheck-probe: cannot encode sweep summary: {e}");
                exit(1)
            });
            emit(&json, 0)
        }
        Command::Run { probe, args } => {
            let Some(spec) = probes::find(&probe) else {
                usage_error(&format!("unknown probe {probe:?} (try --list)"))
            };
            if let Err(message) = spec.check_args(&args) {
                usage_error(&message);
            }
            let report = spec.run(&args);
            match serde_json::to_string(&report) {
                Ok(json) => match verdict_fd() {
                    Some(fd) => emit_verdict(fd, &json),
                    None => emit(&json, 0),
                },
                Err(e) => {
                    eprintln!("beltcheck-probe: cannot encode report: {e}");
                    exit(1)
                }
            }
        }
    }
}
