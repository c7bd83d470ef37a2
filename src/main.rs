#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use beltcheck::cmd;

/// Prove what a macOS Seatbelt (SBPL) profile really allows.
#[derive(Parser)]
#[command(name = "beltcheck", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the SBPL profile for a config.
    Profile(cmd::profile::Args),
    /// SBPL file utilities.
    Sbpl(cmd::sbpl::Args),
    /// Decide one request against a profile with the model evaluator.
    Explain(cmd::explain::Args),
    /// Run a command under the sandbox, a fresh pty as its controlling terminal.
    Run(cmd::run::Args),
    /// Run every probe under every config combination and write a report.
    Matrix(cmd::matrix::Args),
    /// Compatibility reports across OS releases.
    Report(cmd::report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Profile(a) => cmd::profile::run(a),
        Command::Sbpl(a) => cmd::sbpl::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Matrix(a) => cmd::matrix::run(a),
        Command::Report(a) => cmd::report::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Not eprintln!: it panics when stderr is a closed pipe.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "beltcheck: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
