//! `beltcheck matrix`: run every probe under every config combination and
//! write report.json / report.md / report.html. Exit 1 if any cell fails.

use super::{CliError, CliResult};
use crate::matrix::{self, execute::Progress, fixtures::interrupt};
use crate::report;
use runner::launch::Backend;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory for report.json, report.md and report.html.
    #[arg(long, default_value = "beltcheck-report")]
    pub out: PathBuf,
    /// Cells run in parallel (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Only these probes (comma-separated names from the expectations).
    #[arg(long, value_delimiter = ',')]
    pub probes: Option<Vec<String>>,
    /// Only the configs where this expression over the dimension names
    /// holds (same language as allowed_when), e.g. "network.outbound".
    #[arg(long)]
    pub configs: Option<String>,
    /// Expectations file (default: the built-in tests/expectations.toml).
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// Run against this SBPL profile instead of beltcheck's builder; the
    /// expectations file then declares the dimensions (docs/matrix.md).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Profile parameter KEY=VALUE (with --profile), repeatable.
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    pub define: Vec<String>,
    /// seatbelt | linux | none (default: the host's real backend).
    #[arg(long)]
    pub backend: Option<String>,
    /// The beltcheck-probe binary (default: BELTCHECK_PROBE, else next to
    /// this executable).
    #[arg(long)]
    pub probe_bin: Option<PathBuf>,
    /// Per-cell time limit in seconds; a probe still running is killed and
    /// its cell reported inconclusive.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Never draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> CliResult {
    let req = request(&args)?;
    // A probe's descendants that escape its session's group (setsid) are
    // adopted and killed (Linux; see runner::pty::reaper).
    let _ = runner::pty::adopt_orphans();
    // Ctrl-C stops the run cleanly so the fixtures are removed on the way out.
    interrupt::install()
        .map_err(|e| CliError::failed(format!("cannot install the Ctrl-C handler: {e}")))?;
    let report = matrix::run(&req).map_err(CliError::usage)?;
    report::write_all(&report, &args.out).map_err(|e| {
        CliError::failed(format!(
            "--out {}: cannot write the report: {e}",
            args.out.display()
        ))
    })?;
    let s = report.summary;
    eprintln!(
        "beltcheck matrix: {} pass, {} fail, {} inconclusive ({} cells, {:.1} s); report in {}",
        s.pass,
        s.fail,
        s.inconclusive,
        report.timing.cells,
        report.timing.wall_s,
        args.out.display()
    );
    if interrupt::requested() {
        eprintln!("beltcheck matrix: interrupted; the report is partial");
        return Ok(ExitCode::from(130));
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn request(args: &Args) -> Result<matrix::Request, CliError> {
    let mut req = matrix::Request::new();
    if let Some(j) = args.jobs {
        if j == 0 {
            return Err(CliError::usage("--jobs: must be at least 1, got 0"));
        }
        req.jobs = j;
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 86_400.0) {
        return Err(CliError::usage(format!(
            "--timeout: {} is not a number of seconds in (0, 86400]",
            args.timeout
        )));
    }
    req.timeout = Duration::from_secs_f64(args.timeout);
    req.probes = args.probes.clone();
    req.configs = args.configs.clone();
    if let Some(b) = &args.backend {
        req.backend = parse_backend(b)?;
    }
    if let Some(path) = &args.expect {
        let text = read(path, "--expect")?;
        req.expectations = Some((text, path.display().to_string()));
    }
    if let Some(path) = &args.profile {
        req.profile = Some((path.display().to_string(), read(path, "--profile")?));
    }
    req.params = defines(&args.define)?;
    if !req.params.is_empty() && req.profile.is_none() {
        return Err(CliError::usage("-D: parameters only apply with --profile"));
    }
    req.probe_bin = args.probe_bin.clone();
    req.progress = if args.quiet {
        Progress::Quiet
    } else {
        Progress::BarOnTerminal
    };
    Ok(req)
}

fn read(path: &PathBuf, flag: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{flag} {}: {e}", path.display())))
}

/// Parses `--backend`.
pub fn parse_backend(name: &str) -> Result<Backend, CliError> {
    match name {
        "seatbelt" => Ok(Backend::Seatbelt),
        "linux" => Ok(Backend::Linux),
        "none" => Ok(Backend::None),
        other => Err(CliError::usage(format!(
            "--backend: unknown backend {other:?} (seatbelt, linux, none)"
        ))),
    }
}

fn defines(defs: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for d in defs {
        match d.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), v.to_string());
            }
            _ => return Err(CliError::usage(format!("-D: {d:?} is not KEY=VALUE"))),
        }
    }
    Ok(out)
}
