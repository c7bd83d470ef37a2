//! The compatibility report: one per OS release (`report.json`, `.md`,
//! `.html`), and the merge of several into one table across releases.
//!
//! - [`host`]: who ran it (OS release, kernel, backend, versions).
//! - [`json`], [`markdown`], [`html`]: the three renderings of one report.
//! - [`merge`]: reports of several releases side by side.
//! - [`escape`]: report text written into Markdown stays text.
//! - [`run`]: the run id and whether the run completed.
//! - [`write`]: a report's files written as one set.

pub mod escape;
pub mod host;
pub mod html;
pub mod json;
pub mod markdown;
pub mod merge;
pub mod run;
pub mod write;

use crate::matrix::cell::{self, Access, Observation, Status};
use crate::matrix::execute::Outcome;
use crate::matrix::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub use host::Host;

/// The schema version written in every report.
pub const SCHEMA: u32 = 1;

/// `report.json`, exactly as the contract describes it (plus labelled
/// extras: `evidence`, `model_rule`, `model_reason`, `controls`, `meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub host: Host,
    pub dimensions: Vec<String>,
    pub probes: Vec<String>,
    pub cells: Vec<CellRecord>,
    pub summary: Summary,
    pub timing: Timing,
    #[serde(default)]
    pub controls: Vec<ControlRecord>,
    #[serde(default)]
    pub meta: Meta,
    /// The run id every file of the set carries, and whether the run was
    /// complete (absent in reports written before it existed).
    #[serde(default)]
    pub run: Option<run::Run>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRecord {
    pub config: BTreeMap<String, bool>,
    pub probe: String,
    pub expected: Access,
    /// `null` when the model cannot decide.
    pub model: Option<Access>,
    /// `null` when the probe was not run in the sandbox (see `reason`).
    pub observed: Option<Observed>,
    pub status: Status,
    pub reason: String,
    /// Where the verdict comes from: `observed on <backend> on <release>`,
    /// `predicted by the model`, or `inconclusive: <why>`.
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub model_rule: Option<String>,
    #[serde(default)]
    pub model_reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// allowed | denied | error | unsupported, or `no-verdict` when the
    /// probe ran but printed none (hung, crashed).
    pub verdict: String,
    pub errno: Option<i64>,
    pub detail: String,
    pub denials: Vec<String>,
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub enforced: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub wall_s: f64,
    pub cells: usize,
}

/// A probe's control run outside any sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRecord {
    pub probe: String,
    pub verdict: String,
    pub detail: String,
}

/// Where the spec and profile came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub expectations: String,
    pub profile: Option<String>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.summary.fail > 0
    }

    /// The config of a cell as `a=1 b=0 ...` in dimension order.
    pub fn config_label(&self, config: &BTreeMap<String, bool>) -> String {
        config_label(&self.dimensions, config)
    }
}

/// `name=1`/`name=0` pairs in dimension order (stable across reports).
pub fn config_label(dimensions: &[String], config: &BTreeMap<String, bool>) -> String {
    if dimensions.is_empty() {
        return "(single cell)".into();
    }
    dimensions
        .iter()
        .map(|d| format!("{d}={}", u8::from(config.get(d).copied().unwrap_or(false))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Turns a run into its report.
pub fn from_outcome(plan: &Plan, outcome: &Outcome, host: Host, meta: Meta) -> Report {
    let mut summary = Summary::default();
    let cells: Vec<CellRecord> = outcome
        .cells
        .iter()
        .map(|c| {
            match c.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::Inconclusive => summary.inconclusive += 1,
            }
            let config = plan
                .dimensions
                .iter()
                .cloned()
                .zip(plan.assignments[c.index.config].iter().copied())
                .collect();
            let observed = observed_record(&c.observation);
            let evidence = match (c.status, &c.observation) {
                (
                    _,
                    Observation::Reported {
                        enforcement: cell::Enforcement::Enforced { evidence },
                        ..
                    },
                ) => {
                    format!("observed on {evidence}")
                }
                (Status::Inconclusive, _) => format!("inconclusive: {}", c.reason),
                _ => "predicted by the model".into(),
            };
            CellRecord {
                config,
                probe: plan.probes[c.index.probe].name.clone(),
                expected: c.expected,
                model: c.model.decision,
                observed,
                status: c.status,
                reason: c.reason.clone(),
                evidence,
                model_rule: c.model.rule.clone(),
                model_reason: c.model.reason.clone(),
            }
        })
        .collect();
    let controls = outcome
        .controls
        .iter()
        .map(|c| match &c.result {
            Ok(r) => ControlRecord {
                probe: c.probe.clone(),
                verdict: cell::verdict_name(r.verdict).into(),
                detail: r.detail.clone(),
            },
            Err(e) => ControlRecord {
                probe: c.probe.clone(),
                verdict: "no-verdict".into(),
                detail: e.clone(),
            },
        })
        .collect();
    Report {
        schema: SCHEMA,
        host,
        dimensions: plan.dimensions.clone(),
        probes: plan.probes.iter().map(|p| p.name.clone()).collect(),
        timing: Timing {
            wall_s: outcome.wall.as_secs_f64(),
            cells: cells.len(),
        },
        cells,
        summary,
        controls,
        meta,
        run: Some(run::Run::new(outcome.interrupted)),
    }
}

fn observed_record(obs: &Observation) -> Option<Observed> {
    match obs {
        Observation::NotRun { .. } => None,
        Observation::Reported {
            report,
            denials,
            enforcement,
        } => Some(Observed {
            verdict: cell::verdict_name(report.verdict).into(),
            errno: report.errno,
            detail: report.detail.clone(),
            denials: denials.clone(),
            step: report.step.clone(),
            enforced: matches!(enforcement, cell::Enforcement::Enforced { .. }),
        }),
        Observation::NoVerdict {
            reason,
            output_tail,
        } => Some(Observed {
            verdict: "no-verdict".into(),
            errno: None,
            detail: if output_tail.is_empty() {
                reason.clone()
            } else {
                format!("{reason}; output: {output_tail}")
            },
            denials: Vec::new(),
            step: String::new(),
            enforced: false,
        }),
        Observation::ProfileRejected { message } => Some(Observed {
            verdict: "profile-rejected".into(),
            errno: None,
            detail: message.clone(),
            denials: Vec::new(),
            step: String::new(),
            enforced: true,
        }),
    }
}

/// Writes report.md, report.html and report.json into `dir` as one set
/// (report.json, the commit marker, last; see [`write`]).
pub fn write_all(report: &Report, dir: &Path) -> std::io::Result<()> {
    let files = [
        write::Rendered::new("report.md", markdown::render(report)),
        write::Rendered::new("report.html", html::render(report)),
        write::Rendered::new("report.json", json::render(report)),
    ];
    write::write_set(dir, &files, "report.json")
}
