//! `beltcheck sbpl ...`: SBPL file utilities over the profile crate's reader.

use super::{CliError, CliResult};
use profile::ast::Arena;
use profile::input;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: SbplCommand,
}

#[derive(clap::Subcommand, Debug)]
enum SbplCommand {
    /// Read each FILE with the SBPL reader; report `FILE:LINE:COL: message`
    /// for every file that does not read, and exit 1 if any failed.
    Check {
        /// SBPL files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        SbplCommand::Check { files } => check(&files),
    }
}

/// Checks every file (not stopping at the first failure) so one run lists
/// all problems.
fn check(files: &[PathBuf]) -> CliResult {
    // One arena for all files: each read reuses the memory of the last.
    let mut arena = Arena::new();
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| check_one(f, &mut arena).err())
        .collect();
    report(&failures);
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::failed(format!(
            "sbpl check: {} of {} file(s) failed to read",
            failures.len(),
            files.len()
        )))
    }
}

/// Writes the diagnostics to stderr. A reader that went away (`2>&1 |
/// head`) stops the listing quietly; the exit status still says whether
/// every file read.
fn report(failures: &[String]) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    for failure in failures {
        if writeln!(err, "{failure}").is_err() {
            return;
        }
    }
}

/// `Err` holds the diagnostic line: `FILE:LINE:COL: message`, or
/// `FILE: cannot read: ...` when the file itself cannot be opened.
fn check_one(file: &Path, arena: &mut Arena) -> Result<(), String> {
    let shown = file.display();
    let bytes = input::read_bytes(file, input::MAX_SBPL).map_err(|e| format!("{shown}: {e}"))?;
    arena.reset();
    profile::reader::read_bytes(&bytes, arena)
        .map(|_| ())
        .map_err(|e| format!("{shown}:{}:{}: {}", e.line, e.col, e.message))
}

#[cfg(test)]
mod tests {
    use super::{check_one, Arena};
    use std::path::PathBuf;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sb");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn good_file_passes() {
        let (_dir, path) = file_with(b"(version 1)\n(deny default)\n");
        assert_eq!(check_one(&path, &mut Arena::new()), Ok(()));
    }

    #[test]
    fn failure_is_file_line_col_message() {
        let (_dir, path) = file_with(b"(version 1)\n(allow file-read* (literal \"/a\\xZZ\"))\n");
        let msg = check_one(&path, &mut Arena::new()).unwrap_err();
        assert_eq!(
            msg,
            format!(
                "{}:2:31: bad escape `\\xZZ`: `\\x` needs exactly two hex digits",
                path.display()
            )
        );
    }

    #[test]
    fn unreadable_file_is_named() {
        let path = PathBuf::from("/nonexistent/beltcheck/p.sb");
        let msg = check_one(&path, &mut Arena::new()).unwrap_err();
        assert!(
            msg.starts_with("/nonexistent/beltcheck/p.sb: cannot read:"),
            "{msg}"
        );
    }
}
