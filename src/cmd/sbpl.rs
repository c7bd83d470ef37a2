//! `beltcheck sbpl ...`: SBPL file utilities over the profile crate's reader.

use super::{CliError, CliResult};
use std::path::PathBuf;
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
    let failures: Vec<String> = files.iter().filter_map(|f| check_one(f).err()).collect();
    for failure in &failures {
        eprintln!("{failure}");
    }
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

/// `Err` holds the diagnostic line: `FILE:LINE:COL: message`, or
/// `FILE: cannot read: ...` when the file itself cannot be opened.
fn check_one(file: &PathBuf) -> Result<(), String> {
    let shown = file.display();
    let bytes = std::fs::read(file).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    profile::reader::read_bytes(&bytes)
        .map(|_| ())
        .map_err(|e| format!("{shown}:{}:{}: {}", e.line, e.col, e.message))
}
