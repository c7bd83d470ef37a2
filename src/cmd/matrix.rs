//! `beltcheck matrix`: run every probe under every config combination and
//! write report.json / report.md / report.html as one set. Exit 1 if any
//! cell fails; stopped by SIGINT, SIGTERM or SIGHUP, it writes the report
//! marked partial and dies by that signal.

use super::{CliError, CliResult};
use crate::matrix::execute::{self, Options, ProfileSource, Progress};
use crate::matrix::expect::{self, DimensionSource};
use crate::matrix::fixtures::{self, interrupt};
use crate::matrix::{adapter, dimension, plan};
use crate::report::{self, host, Report};
use profile::input;
use runner::launch::Backend;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// Which configs run: full (every combination), 2 or 3 (a t-wise
    /// covering array), or auto: full while the matrix has at most 4,096
    /// cells, else 3.
    #[arg(long, default_value = "auto")]
    pub cover: String,
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
    /// Run each distinct sandbox launch N times; runs that disagree make
    /// their cells inconclusive ("flaky").
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Never draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The most runs `--repeat` accepts per launch.
pub const MAX_REPEAT: usize = 100;

pub fn run(args: Args) -> CliResult {
    let req = request(&args)?;
    // A probe's descendants that escape its session's group (setsid) are
    // adopted and killed (Linux; see runner::pty::reaper).
    let _ = runner::pty::adopt_orphans();
    // A signal stops the run cleanly so the fixtures are removed and the
    // report is written (marked partial) on the way out.
    interrupt::install()
        .map_err(|e| CliError::failed(format!("cannot install the signal handler: {e}")))?;
    let report = run_request(&req).map_err(CliError::usage)?;
    let replaced = complete_report_in(&args.out);
    report::write_all(&report, &args.out).map_err(|e| {
        CliError::failed(format!(
            "--out {}: cannot write the report: {e}",
            args.out.display()
        ))
    })?;
    let s = report.summary;
    eprintln!(
        "beltcheck matrix: {} pass, {} fail, {} inconclusive ({} cells, {} launches of {} distinct sandboxes, {:.1} s); report in {}",
        s.pass,
        s.fail,
        s.inconclusive,
        report.timing.cells,
        report.launches,
        report.distinct_launches,
        report.timing.wall_s,
        args.out.display()
    );
    if let Some(run) = report.run.as_ref().filter(|r| r.is_partial()) {
        let over = match replaced {
            Some(id) => format!(" (it replaces the complete report of run {id})"),
            None => String::new(),
        };
        eprintln!(
            "beltcheck matrix: interrupted; the report of run {} is partial{over}",
            run.id
        );
    }
    if let Some(sig) = interrupt::received() {
        interrupt::reraise();
        return Ok(ExitCode::from(128 + sig as u8));
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The run id of a complete report already in `dir`, if there is one (a
/// partial run replacing it says so).
fn complete_report_in(dir: &Path) -> Option<String> {
    let text = input::read_text(&dir.join("report.json"), input::MAX_REPORT).ok()?;
    let run = report::json::parse(&text).ok()?.run?;
    (!run.is_partial()).then_some(run.id)
}

fn request(args: &Args) -> Result<Request, CliError> {
    let mut req = Request::new();
    report::write::check_destination(&args.out)
        .map_err(|e| CliError::usage(format!("--out {}: {e}", args.out.display())))?;
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
    if !(1..=MAX_REPEAT).contains(&args.repeat) {
        return Err(CliError::usage(format!(
            "--repeat: {} is not a number of runs in 1..={MAX_REPEAT}",
            args.repeat
        )));
    }
    req.repeat = args.repeat;
    req.probes = args.probes.clone();
    req.configs = args.configs.clone();
    req.cover = args.cover.parse().map_err(CliError::usage)?;
    if let Some(b) = &args.backend {
        req.backend = parse_backend(b)?;
    }
    if let Some(path) = &args.expect {
        let text = read(path, "--expect", input::MAX_EXPECTATIONS)?;
        req.expectations = Some((text, path.display().to_string()));
    }
    if let Some(path) = &args.profile {
        let text = read(path, "--profile", input::MAX_SBPL)?;
        req.profile = Some((path.display().to_string(), text));
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

fn read(path: &Path, flag: &str, limit: u64) -> Result<String, CliError> {
    input::read_text(path, limit)
        .map_err(|e| CliError::usage(format!("{flag} {}: {e}", path.display())))
}

/// Everything `beltcheck matrix` can be asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The expectations text and where it came from; `None`: the built-in
    /// spec.
    pub expectations: Option<(String, String)>,
    /// A user's SBPL profile (path label, text) and `-D` parameters.
    pub profile: Option<(String, String)>,
    pub params: BTreeMap<String, String>,
    pub probes: Option<Vec<String>>,
    /// Only the configs where this expression over the dimensions holds.
    pub configs: Option<String>,
    /// Full product or a covering array of the configs kept.
    pub cover: plan::CoverChoice,
    pub backend: Backend,
    pub jobs: usize,
    pub timeout: Duration,
    pub probe_bin: Option<PathBuf>,
    pub progress: Progress,
    /// Runs of each distinct launch; disagreement is reported as flaky.
    pub repeat: usize,
    /// The config every built-in cell starts from before the dimensions
    /// are applied (default: every key at its default). Tests grant a fake
    /// probe's own directory here.
    pub base: profile::Config,
}

impl Request {
    /// The defaults `beltcheck matrix` uses with no flags.
    pub fn new() -> Request {
        Request {
            expectations: None,
            profile: None,
            params: BTreeMap::new(),
            probes: None,
            configs: None,
            cover: plan::CoverChoice::Auto,
            backend: Backend::host_default(),
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            timeout: Duration::from_secs(10),
            probe_bin: None,
            progress: Progress::BarOnTerminal,
            repeat: 1,
            base: profile::Config::default(),
        }
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

/// Runs the matrix and returns its report (the library entry point the
/// CLI and tests/matrix.rs share). Errors are bad input (an
/// expectations file, a probe name) or a harness that cannot start.
pub fn run_request(req: &Request) -> Result<Report, String> {
    let (text, label) = match &req.expectations {
        Some((text, label)) => (text.as_str(), label.clone()),
        None => (
            expect::BUILTIN,
            "built-in tests/expectations.toml".to_string(),
        ),
    };
    let builtin_names = dimension::builtin_names();
    let dims = if req.profile.is_some() {
        DimensionSource::FromFile
    } else {
        DimensionSource::Builtin(&builtin_names)
    };
    let expectations = expect::parse(text, dims).map_err(|e| format!("{label}: {e}"))?;
    let (dimension_names, source) = match &req.profile {
        None => (
            builtin_names.iter().map(|s| s.to_string()).collect(),
            ProfileSource::Builtin {
                base: req.base.clone(),
            },
        ),
        Some((_, sbpl)) => (
            expectations
                .user_dimensions
                .iter()
                .map(|d| d.name.clone())
                .collect(),
            ProfileSource::User {
                text: sbpl.clone(),
                params: req.params.clone(),
                dimensions: expectations.user_dimensions.clone(),
            },
        ),
    };
    let mut plan = plan::Plan::new(dimension_names, &expectations.probes, req.probes.as_deref())?;
    if let Some(filter) = &req.configs {
        plan.restrict(filter)?;
    }
    plan.cover(req.cover);
    let probe_bin = adapter::locate_probe(req.probe_bin.clone())?;
    let handle = adapter::BackendHandle::resolve(req.backend);
    let host = host::identify(&handle);
    let fixtures = fixtures::Fixtures::create()
        .map_err(|e| format!("cannot create the matrix fixtures: {e}"))?;
    let opts = Options {
        jobs: req.jobs,
        timeout: req.timeout,
        probe_bin,
        progress: req.progress,
        release: host.release(),
        repeat: req.repeat,
    };
    let outcome = execute::run(&plan, &source, &handle, &fixtures, &opts);
    drop(fixtures);
    let meta = report::Meta {
        expectations: label,
        profile: req.profile.as_ref().map(|(l, _)| l.clone()),
        coverage: plan.coverage.label().into(),
    };
    Ok(report::from_outcome(&plan, &outcome, host, meta))
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
