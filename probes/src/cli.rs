//! Command-line parsing for `beltcheck-probe`.
//!
//! Hand-written rather than clap: the probe runs thousands of times per
//! matrix and should start in about a millisecond; clap's parser setup and
//! its extra code are measurable at that scale, and the grammar here is five
//! flags. Errors name the offending flag and value.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use crate::args::ProbeArgs;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run one probe.
    Run { probe: String, args: ProbeArgs },
    /// Print the probe names, one per line.
    List,
    /// Remove leftovers of crashed runs; extra socket directories from `--path`.
    Sweep { socket_dirs: Vec<PathBuf> },
    /// Do nothing and exit 0: the matrix's canary, telling "this profile
    /// kills every process" from "this probe crashed" (no output, no work).
    Canary,
    /// Print usage.
    Help,
}

/// Usage text printed by `--help` and after usage errors.
pub const USAGE: &str = "\
usage: beltcheck-probe NAME [--path P] [--host H] [--port N] [--name N] [--timeout-ms N]
       beltcheck-probe --list
       beltcheck-probe --sweep [--path DIR]...
       beltcheck-probe --canary   (does nothing, exits 0)
Prints one JSON object: {probe, verdict, errno, step, detail, duration_us}.";

/// Parse the arguments after the program name.
pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut argv = argv.into_iter();
    let first = argv.next().ok_or("missing probe name (try --list)")?;
    let first = first
        .into_string()
        .map_err(|f| format!("probe name {f:?} is not UTF-8"))?;
    match first.as_str() {
        "--list" => no_more(argv, "--list").map(|_| Command::List),
        "--help" | "-h" => Ok(Command::Help),
        "--canary" => no_more(argv, "--canary").map(|_| Command::Canary),
        "--sweep" => parse_sweep(argv),
        name if name.starts_with('-') => Err(format!("unknown option {name:?}")),
        name => parse_run(name.to_string(), argv),
    }
}

fn no_more(mut argv: impl Iterator<Item = OsString>, after: &str) -> Result<(), String> {
    match argv.next() {
        None => Ok(()),
        Some(a) => Err(format!("unexpected argument {a:?} after {after}")),
    }
}

/// Splits `--flag=value` / `--flag value`.
fn flag_value(
    arg: &OsStr,
    argv: &mut impl Iterator<Item = OsString>,
) -> Result<(String, OsString), String> {
    let text = arg.to_string_lossy();
    if !text.starts_with("--") {
        return Err(format!("unexpected argument {arg:?}"));
    }
    if let Some((flag, _)) = text.split_once('=') {
        // Slice the original bytes so a non-UTF-8 value survives intact.
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let value = arg.as_bytes()[flag.len() + 1..].to_vec();
        return Ok((flag.to_string(), OsString::from_vec(value)));
    }
    let flag = text.into_owned();
    let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
    Ok((flag, value))
}

fn utf8(flag: &str, v: OsString) -> Result<String, String> {
    v.into_string()
        .map_err(|v| format!("{flag} value {v:?} is not UTF-8"))
}

fn parse_run(probe: String, mut argv: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut args = ProbeArgs::default();
    while let Some(arg) = argv.next() {
        let (flag, value) = flag_value(&arg, &mut argv)?;
        let dup = || format!("{flag} given twice");
        match flag.as_str() {
            "--path" => {
                if value.is_empty() {
                    return Err("--path value is empty".into());
                }
                args.path.replace(value).map_or(Ok(()), |_| Err(dup()))?
            }
            "--host" => args
                .host
                .replace(utf8(&flag, value)?)
                .map_or(Ok(()), |_| Err(dup()))?,
            "--name" => args
                .name
                .replace(utf8(&flag, value)?)
                .map_or(Ok(()), |_| Err(dup()))?,
            "--port" => {
                let v = utf8(&flag, value)?;
                let port = v
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("--port value {v:?} is not a port (1-65535)"))?;
                args.port.replace(port).map_or(Ok(()), |_| Err(dup()))?
            }
            "--timeout-ms" => {
                let v = utf8(&flag, value)?;
                let ms = v
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| (1..=3_600_000).contains(ms))
                    .ok_or_else(|| {
                        format!("--timeout-ms value {v:?} is not a number of ms in 1..=3600000")
                    })?;
                args.timeout = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(Command::Run { probe, args })
}

fn parse_sweep(mut argv: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut socket_dirs = Vec::new();
    while let Some(arg) = argv.next() {
        match flag_value(&arg, &mut argv)? {
            (flag, dir) if flag == "--path" => socket_dirs.push(PathBuf::from(dir)),
            (flag, _) => return Err(format!("--sweep does not take {flag}")),
        }
    }
    Ok(Command::Sweep { socket_dirs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn parses_a_run_with_flags_in_both_forms() {
        let Ok(Command::Run { probe, args }) = p(&[
            "network",
            "--host",
            "127.0.0.1",
            "--port=8080",
            "--timeout-ms",
            "250",
        ]) else {
            panic!("not a run");
        };
        assert_eq!(probe, "network");
        assert_eq!(args.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(args.port, Some(8080));
        assert_eq!(args.timeout, Duration::from_millis(250));
    }

    #[test]
    fn keeps_non_utf8_path_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(b"--path=/tmp/\xff".to_vec());
        let Ok(Command::Run { args, .. }) = parse([OsString::from("file-read"), raw]) else {
            panic!("not a run");
        };
        assert_eq!(args.path, Some(OsString::from_vec(b"/tmp/\xff".to_vec())));
    }

    #[test]
    fn errors_name_the_flag_and_value() {
        assert!(p(&["network", "--port", "http"])
            .unwrap_err()
            .contains("\"http\""));
        assert!(p(&["pty", "--bogus", "1"]).unwrap_err().contains("--bogus"));
        assert!(p(&["pty", "--path"])
            .unwrap_err()
            .contains("--path needs a value"));
        assert!(p(&["pty", "--timeout-ms", "0"])
            .unwrap_err()
            .contains("--timeout-ms"));
        assert!(p(&["file-read", "--path", "a", "--path", "b"])
            .unwrap_err()
            .contains("twice"));
        assert!(p(&[]).is_err());
        assert!(p(&["--list", "x"]).is_err());
    }

    #[test]
    fn list_sweep_help() {
        assert_eq!(p(&["--list"]), Ok(Command::List));
        assert_eq!(p(&["--help"]), Ok(Command::Help));
        assert_eq!(p(&["--canary"]), Ok(Command::Canary));
        assert!(p(&["--canary", "pty"]).is_err());
        assert_eq!(
            p(&["--sweep", "--path", "/tmp/x"]),
            Ok(Command::Sweep {
                socket_dirs: vec![PathBuf::from("/tmp/x")]
            })
        );
    }
}
