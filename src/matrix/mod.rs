//! The matrix harness: every probe under every combination of the
//! dimensions, checked against the spec (expectations) and the model, and
//! observed on the host's backend.
//!
//! - [`dimension`]: the axes and how each sets the config.
//! - [`expect`]: the expectations file and its expression language.
//! - [`plan`]: the cells, in report order.
//! - [`fixtures`]: listeners and temp dirs the probes talk to.
//! - [`execute`]: control runs, cells, jobs, time limits.
//! - [`cell`]: the status of one cell.
//! - [`adapter`]: the seam to the builder, model, probes and runner.

pub mod adapter;
pub mod cell;
pub mod dimension;
pub mod execute;
pub mod expect;
pub mod fixtures;
pub mod plan;

use crate::report::{self, host, Report};
use execute::{Options, ProfileSource, Progress};
use expect::DimensionSource;
use runner::launch::Backend;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

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
    pub backend: Backend,
    pub jobs: usize,
    pub timeout: Duration,
    pub probe_bin: Option<PathBuf>,
    pub progress: Progress,
    /// Runs of each distinct launch; disagreement is reported as flaky.
    pub repeat: usize,
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
            backend: Backend::host_default(),
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            timeout: Duration::from_secs(10),
            probe_bin: None,
            progress: Progress::BarOnTerminal,
            repeat: 1,
        }
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

/// Runs the matrix and returns its report. Errors are bad input (an
/// expectations file, a probe name) or a harness that cannot start.
pub fn run(req: &Request) -> Result<Report, String> {
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
                base: profile::Config::default(),
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
        coverage: "full".into(),
    };
    Ok(report::from_outcome(&plan, &outcome, host, meta))
}
