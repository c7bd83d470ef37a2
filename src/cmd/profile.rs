//! `beltcheck profile [--config FILE] [--inline] [--format sbpl|json]`:
//! prints the SBPL profile for a config (the defaults without `--config`).
//!
//! The whole output is built before anything is written, so a refused
//! value leaves stdout empty and the reason (key path and value) on stderr.

use super::{CliError, CliResult};
use profile::path::HostEnv;
use profile::{build, BuildOptions, Config, ValueMode};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Config file, TOML (.toml) or JSON (.json); defaults when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write values as escaped string literals instead of (param "KEY").
    #[arg(long)]
    inline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Sbpl)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// The SBPL text alone.
    Sbpl,
    /// `{"sbpl": TEXT, "params": {KEY: VALUE}}`.
    Json,
}

pub fn run(args: Args) -> CliResult {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(CliError::usage)?,
        None => Config::default(),
    };
    let mode = if args.inline {
        ValueMode::Inline
    } else {
        ValueMode::Param
    };
    let opts = BuildOptions {
        mode,
        env: HostEnv::current(),
        program: None,
    };
    let profile = build(&config, &opts).map_err(|e| match &args.config {
        Some(path) => CliError::usage(format!("{}: {e}", path.display())),
        None => CliError::usage(e),
    })?;
    let out = match args.format {
        Format::Sbpl => profile.sbpl,
        Format::Json => {
            let mut text = serde_json::to_string(&profile).map_err(CliError::failed)?;
            text.push('\n');
            text
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::failed(format!("writing the profile: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
