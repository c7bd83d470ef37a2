//! report.json: schema 2, pretty-printed, cells in plan order. Schema 1
//! reports (boolean configs, evidence as a sentence) are read too, for
//! `report merge` across beltcheck versions.

use super::{
    CellRecord, ConfigValue, ControlRecord, Host, Meta, Observed, Report, Summary, Timing,
};
use crate::matrix::cell::{Access, Enforcement, Evidence, LaunchRef, Status};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serialises");
    text.push('\n');
    text
}

/// Reads a report back (for `report merge`); the error names the problem.
pub fn parse(text: &str) -> Result<Report, String> {
    #[derive(Deserialize)]
    struct Version {
        schema: u32,
    }
    let version: Version = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match version.schema {
        1 => {
            let v1: V1Report = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Ok(v1.upgrade())
        }
        super::SCHEMA => serde_json::from_str(text).map_err(|e| e.to_string()),
        other => Err(format!(
            "schema {other} is not supported (expected 1 or {})",
            super::SCHEMA
        )),
    }
}

/// Schema 1, as beltcheck 0.1 wrote it.
#[derive(Deserialize)]
struct V1Report {
    host: Host,
    dimensions: Vec<String>,
    probes: Vec<String>,
    cells: Vec<V1Cell>,
    summary: Summary,
    timing: Timing,
    #[serde(default)]
    controls: Vec<ControlRecord>,
    #[serde(default)]
    meta: V1Meta,
}

#[derive(Deserialize, Default)]
struct V1Meta {
    expectations: String,
    profile: Option<String>,
}

#[derive(Deserialize)]
struct V1Cell {
    config: BTreeMap<String, bool>,
    probe: String,
    expected: Access,
    model: Option<Access>,
    observed: Option<V1Observed>,
    status: Status,
    reason: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    model_rule: Option<String>,
    #[serde(default)]
    model_reason: String,
}

#[derive(Deserialize)]
struct V1Observed {
    verdict: String,
    errno: Option<i64>,
    detail: String,
    denials: Vec<String>,
    #[serde(default)]
    step: String,
}

impl V1Report {
    fn upgrade(self) -> Report {
        let host = self.host;
        let cells = self
            .cells
            .into_iter()
            .map(|c| {
                let evidence = v1_evidence(&c, &host);
                CellRecord {
                    config: c
                        .config
                        .into_iter()
                        .map(|(k, v)| (k, ConfigValue::Bool(v)))
                        .collect(),
                    probe: c.probe,
                    expected: c.expected,
                    model: c.model,
                    observed: c.observed.map(|o| Observed {
                        verdict: o.verdict,
                        errno: o.errno,
                        detail: o.detail,
                        denials: o.denials,
                        step: o.step,
                    }),
                    status: c.status,
                    reason: c.reason,
                    evidence,
                    // Schema 1 has no divergence flag.
                    divergent: false,
                    outcome: None,
                    model_rule: c.model_rule,
                    model_reason: c.model_reason,
                }
            })
            .collect();
        Report {
            schema: super::SCHEMA,
            host,
            dimensions: self.dimensions,
            probes: self.probes,
            rules: BTreeMap::new(),
            cells,
            summary: self.summary,
            timing: self.timing,
            launches: 0,
            distinct_launches: 0,
            repeat: 1,
            run: None,
            controls: self.controls,
            meta: Meta {
                expectations: self.meta.expectations,
                profile: self.meta.profile,
                coverage: "full".into(),
            },
        }
    }
}

/// Schema 1's evidence sentence as the typed form.
fn v1_evidence(c: &V1Cell, host: &Host) -> Evidence {
    // Schema 2 keeps an inconclusive cell's evidence inconclusive, even
    // where schema 1 named the launch it saw.
    if c.status.is_inconclusive() {
        let reason = c
            .evidence
            .strip_prefix("inconclusive: ")
            .unwrap_or(&c.reason);
        return Evidence::Inconclusive {
            reason: reason.to_string(),
        };
    }
    if c.evidence.starts_with("observed on ") {
        return Evidence::Observed {
            backend: host.backend.clone(),
            release: host.release(),
            enforcement: Enforcement::Full,
            launch: LaunchRef {
                id: 0,
                shared_by: 1,
                runs: 1,
            },
        };
    }
    Evidence::Predicted {
        rule: c.model_rule.clone(),
    }
}
