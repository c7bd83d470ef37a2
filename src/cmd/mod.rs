//! One module per subcommand; each owns its clap `Args` and a `run`.

pub mod explain;
pub mod matrix;
pub mod profile;
pub mod report;
pub mod run;
pub mod sbpl;

use std::fmt::Display;

/// A failure the CLI reports on stderr, with the exit code to use.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    /// Bad input from the user (exit 2 for usage, per the contract).
    pub fn usage(message: impl Display) -> CliError {
        CliError {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Anything else that stopped the command (exit 1).
    pub fn failed(message: impl Display) -> CliError {
        CliError {
            message: message.to_string(),
            code: 1,
        }
    }
}

pub type CliResult = Result<std::process::ExitCode, CliError>;
