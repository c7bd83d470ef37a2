//! `beltcheck report merge REPORT.json... --out DIR`: one table across
//! releases (merged.json, merged.md, merged.html).

use super::{CliError, CliResult};
use crate::report::{json, merge};
use profile::input;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Merge per-release reports into one compatibility table.
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// report.json files, one per release, in column order.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Directory for merged.json, merged.md and merged.html.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Merge(m) => run_merge(m),
    }
}

fn run_merge(args: MergeArgs) -> CliResult {
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = input::read_text(path, input::MAX_REPORT)
            .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
        let report = json::parse(&text).map_err(|e| {
            CliError::usage(format!("{}: not a beltcheck report: {e}", path.display()))
        })?;
        reports.push((path.display().to_string(), report));
    }
    let merged = merge::merge(&reports).map_err(CliError::usage)?;
    merge::write_all(&merged, &args.out).map_err(|e| {
        CliError::failed(format!("--out {}: cannot write: {e}", args.out.display()))
    })?;
    eprintln!(
        "beltcheck report merge: {} releases, {} rows, {} change between releases; written to {}",
        merged.releases.len(),
        merged.rows.len(),
        merged.changed,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
