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
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod run;
pub mod write;

use crate::matrix::cell::{self, Access, Evidence, Observation, Status, StatusKind};
use crate::matrix::execute::Outcome;
use crate::matrix::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use host::Host;

/// The schema version written in every report. Schema 1 (untyped evidence,
/// boolean configs) is still read by `report merge`.
pub const SCHEMA: u32 = 2;

/// `report.json` (schema 2, docs/matrix.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub host: Host,
    pub dimensions: Vec<String>,
    pub probes: Vec<String>,
    /// Each probe's `allowed_when`, as the spec states it.
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
    pub cells: Vec<CellRecord>,
    pub summary: Summary,
    pub timing: Timing,
    /// Sandboxed launches made (distinct launches times `repeat`).
    #[serde(default)]
    pub launches: usize,
    /// Distinct (policy, probe, arguments) launched; cells sharing one say
    /// so in their evidence.
    #[serde(default)]
    pub distinct_launches: usize,
    /// Runs of each distinct launch (`--repeat`).
    #[serde(default = "one")]
    pub repeat: usize,
    #[serde(default)]
    pub controls: Vec<ControlRecord>,
    #[serde(default)]
    pub meta: Meta,
    /// The run id every file of the set carries, and whether the run was
    /// complete (absent in reports written before it existed).
    #[serde(default)]
    pub run: Option<run::Run>,
}

fn one() -> usize {
    1
}

/// A dimension's value in one config: a switch, or a named choice (e.g.
/// `baseline = "permissive"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Bool(bool),
    Text(String),
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Bool(b) => write!(f, "{b}"),
            ConfigValue::Text(t) => f.write_str(t),
        }
    }
}

/// One config: each dimension's value.
pub type ConfigValues = BTreeMap<String, ConfigValue>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRecord {
    pub config: ConfigValues,
    pub probe: String,
    pub expected: Access,
    /// `null` when the model cannot decide.
    pub model: Option<Access>,
    /// `null` when the probe was not run in the sandbox (see `evidence`).
    pub observed: Option<Observed>,
    pub status: Status,
    /// One sentence for people.
    pub reason: String,
    /// What the status rests on (typed; see docs/matrix.md).
    pub evidence: Evidence,
    /// An enforced observation and the model disagree.
    #[serde(default)]
    pub divergent: bool,
    /// What the OS did (`null`: nothing enforced and decisive was seen).
    #[serde(default)]
    pub outcome: Option<Access>,
    #[serde(default)]
    pub model_rule: Option<String>,
    #[serde(default)]
    pub model_reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// allowed | denied | error | unsupported, or `no-verdict` when the
    /// probe ran but printed none (hung, crashed), or `profile-rejected`.
    pub verdict: String,
    pub errno: Option<i64>,
    pub detail: String,
    pub denials: Vec<String>,
    #[serde(default)]
    pub step: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
}

impl Summary {
    fn add(&mut self, status: Status) {
        match status.kind() {
            StatusKind::Pass => self.pass += 1,
            StatusKind::Fail => self.fail += 1,
            StatusKind::Inconclusive => self.inconclusive += 1,
        }
    }
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

/// Where the spec and profile came from, and how the configs were chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub expectations: String,
    pub profile: Option<String>,
    /// `full` (every combination) or `2-wise`/`3-wise` (a covering array).
    #[serde(default)]
    pub coverage: String,
}

impl Meta {
    /// How the configs were chosen, in words (schema 1 reports carry no
    /// coverage: they were always full).
    pub fn coverage_text(&self) -> String {
        match self.coverage.as_str() {
            "" | "full" => "full enumeration".into(),
            t => format!("{t} covering array"),
        }
    }
}

impl Report {
    pub fn failed(&self) -> bool {
        self.summary.fail > 0
    }

    /// The config of a cell named by its options (see [`config_name`]).
    pub fn config_label(&self, config: &ConfigValues) -> String {
        config_name(&self.dimensions, config)
    }
}

/// A config named by the options it turns on, in dimension order: each
/// switch that is on by its name, each named choice as `name=value`;
/// `defaults` when nothing is on.
pub fn config_name(dimensions: &[String], config: &ConfigValues) -> String {
    if dimensions.is_empty() {
        return "(single cell)".into();
    }
    let on: Vec<String> = dimensions
        .iter()
        .filter_map(|d| match config.get(d) {
            Some(ConfigValue::Bool(true)) => Some(d.clone()),
            Some(ConfigValue::Text(t)) => Some(format!("{d}={t}")),
            Some(ConfigValue::Bool(false)) | None => None,
        })
        .collect();
    if on.is_empty() {
        "defaults".into()
    } else {
        on.join(" ")
    }
}

/// A `name=value` listing of every dimension (stable across reports: the
/// key rows are merged by).
pub fn config_label(dimensions: &[String], config: &ConfigValues) -> String {
    if dimensions.is_empty() {
        return "(single cell)".into();
    }
    dimensions
        .iter()
        .map(|d| match config.get(d) {
            Some(v) => format!("{d}={v}"),
            None => format!("{d}=false"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One probe's line in the summary that leads a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSummary {
    pub probe: String,
    /// `allowed_when`, as the spec states it (empty when unknown).
    pub rule: String,
    pub summary: Summary,
    /// Cells with an enforced, decisive observation.
    pub observed: usize,
    /// Options whose flip (all else equal) changed what the OS did (or,
    /// where nothing was observed, what the model predicted).
    pub changed_by: Vec<String>,
}

/// The per-probe summary, in probe order.
pub fn probe_summaries(r: &Report) -> Vec<ProbeSummary> {
    r.probes
        .iter()
        .map(|p| {
            let cells: Vec<&CellRecord> = r.cells.iter().filter(|c| &c.probe == p).collect();
            let mut summary = Summary::default();
            cells.iter().for_each(|c| summary.add(c.status));
            ProbeSummary {
                probe: p.clone(),
                rule: r.rules.get(p).cloned().unwrap_or_default(),
                summary,
                observed: cells.iter().filter(|c| c.outcome.is_some()).count(),
                changed_by: changed_by(&r.dimensions, &cells),
            }
        })
        .collect()
}

fn changed_by(dimensions: &[String], cells: &[&CellRecord]) -> Vec<String> {
    let answer = |c: &CellRecord| c.outcome.or(c.model);
    dimensions
        .iter()
        .filter(|d| {
            cells.iter().any(|a| {
                cells.iter().any(|b| {
                    a.config.get(*d) != b.config.get(*d)
                        && a.config
                            .iter()
                            .all(|(k, v)| k == *d || b.config.get(k) == Some(v))
                        && answer(a).is_some()
                        && answer(b).is_some()
                        && answer(a) != answer(b)
                })
            })
        })
        .cloned()
        .collect()
}

/// Turns a run into its report.
pub fn from_outcome(plan: &Plan, outcome: &Outcome, host: Host, meta: Meta) -> Report {
    let mut summary = Summary::default();
    let cells: Vec<CellRecord> = outcome
        .cells
        .iter()
        .map(|c| {
            let j = &c.judgement;
            summary.add(j.status);
            let config = plan
                .dimensions
                .iter()
                .cloned()
                .zip(
                    plan.assignments[c.index.config]
                        .iter()
                        .map(|&b| ConfigValue::Bool(b)),
                )
                .collect();
            CellRecord {
                config,
                probe: plan.probes[c.index.probe].name.clone(),
                expected: c.expected,
                model: c.model.decision,
                observed: j.observation.as_ref().map(observed_record),
                status: j.status,
                reason: j.reason.clone(),
                evidence: j.evidence.clone(),
                divergent: j.divergent,
                outcome: j.seen,
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
        rules: plan
            .probes
            .iter()
            .map(|p| (p.name.clone(), p.source.clone()))
            .collect(),
        timing: Timing {
            wall_s: outcome.wall.as_secs_f64(),
            cells: cells.len(),
        },
        cells,
        summary,
        launches: outcome.launches,
        distinct_launches: outcome.distinct_launches,
        repeat: outcome.repeat,
        controls,
        meta,
        run: Some(run::Run::new(outcome.interrupted)),
    }
}

fn observed_record(obs: &Observation) -> Observed {
    match obs {
        Observation::Reported {
            report, denials, ..
        } => Observed {
            verdict: cell::verdict_name(report.verdict).into(),
            errno: report.errno,
            detail: report.detail.clone(),
            denials: denials.clone(),
            step: report.step.clone(),
        },
        Observation::NoVerdict {
            reason,
            output_tail,
        } => Observed {
            verdict: "no-verdict".into(),
            errno: None,
            detail: if output_tail.is_empty() {
                reason.clone()
            } else {
                format!("{reason}; output: {output_tail}")
            },
            denials: Vec::new(),
            step: String::new(),
        },
        Observation::ProfileRejected { message } => Observed {
            verdict: "profile-rejected".into(),
            errno: None,
            detail: message.clone(),
            denials: Vec::new(),
            step: String::new(),
        },
    }
}

/// Writes report.md, report.html, report.xml (JUnit) and report.json into
/// `dir` as one set (report.json, the commit marker, last; see [`write`]).
pub fn write_all(report: &Report, dir: &Path) -> std::io::Result<()> {
    let files = [
        write::Rendered::new("report.md", markdown::render(report)),
        write::Rendered::new("report.html", html::render(report)),
        write::Rendered::new("report.xml", junit::render(report)),
        write::Rendered::new("report.json", json::render(report)),
    ];
    write::write_set(dir, &files, "report.json")
}
