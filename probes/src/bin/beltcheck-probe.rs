//! `beltcheck-probe`: run one capability probe and print its JSON report.
//! Thin shell over the `probes` library; see docs/contract.md for the form.

use std::io::Write;
use std::process::exit;

use probes::cli::{self, Command, USAGE};

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
                Ok(json) => emit(&json, 0),
                Err(e) => {
                    eprintln!("beltcheck-probe: cannot encode report: {e}");
                    exit(1)
                }
            }
        }
    }
}
