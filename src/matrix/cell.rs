//! A cell's status: the one place that decides pass, fail or inconclusive.
//!
//! - fail: the spec (expected) differs from the model, or from what the OS
//!   did on an enforcing backend.
//! - pass: the spec, the model and an enforced observation all agree.
//! - inconclusive (always with a reason): anything less than that — no
//!   enforcement, a failed control run, a probe error or timeout, a model
//!   that cannot decide, a dimension with no meaning on the backend. Never a
//!   pass without enforcement.

use probes::{ProbeReport, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Inconclusive,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Allow or deny: the two answers the spec and the model can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Allow,
    Deny,
}

impl Access {
    pub fn from_allowed(allowed: bool) -> Access {
        if allowed {
            Access::Allow
        } else {
            Access::Deny
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Access::Allow => "allow",
            Access::Deny => "deny",
        }
    }
}

/// The model's prediction for a probe's footprint under a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOutcome {
    /// `None` when the model cannot decide (reason says why).
    pub decision: Option<Access>,
    /// The deciding rule for the first request that settled the answer.
    pub rule: Option<String>,
    pub reason: String,
}

/// What running the probe under the sandbox produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The probe was not started in the sandbox, and why.
    NotRun { reason: String },
    /// The probe printed a verdict.
    Reported {
        report: ProbeReport,
        denials: Vec<String>,
        enforcement: Enforcement,
    },
    /// It ran but gave no verdict (timeout, crash, garbage output).
    NoVerdict { reason: String, output_tail: String },
    /// The enforcing backend refused the profile itself (e.g. sandbox-exec
    /// exit 65): the config cannot be used on this release, which is a
    /// failure, never an inconclusive.
    ProfileRejected { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// A sandbox applied (backend name and release, for the evidence line).
    Enforced { evidence: String },
    /// Nothing was enforced (nested sandbox, backend `none`), and why.
    NotEnforced { reason: String },
}

/// Everything the status depends on.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub expected: Access,
    pub model: &'a ModelOutcome,
    pub observation: &'a Observation,
    /// Set when the expectation hinges on a dimension the backend cannot
    /// express: the observation then says nothing about the spec.
    pub meaningless: Option<String>,
}

/// The status and its reason.
pub fn judge(inputs: &Inputs<'_>) -> (Status, String) {
    let expected = inputs.expected;
    let model = inputs.model;
    if let Some(m) = model.decision {
        if m != expected {
            let rule = model
                .rule
                .as_deref()
                .map(|r| format!(" by {r}"))
                .unwrap_or_default();
            return (
                Status::Fail,
                format!(
                    "expected {}, model predicts {}{rule}: {}",
                    expected.name(),
                    m.name(),
                    model.reason
                ),
            );
        }
    }
    if let Observation::ProfileRejected { message } = inputs.observation {
        return (
            Status::Fail,
            format!("the backend refused the profile: {message}"),
        );
    }
    let observed = enforced_verdict(inputs.observation);
    if let (Some((verdict, report, evidence)), None) = (observed, &inputs.meaningless) {
        if let Some(seen) = decisive(verdict) {
            if seen != expected {
                return (
                    Status::Fail,
                    format!(
                        "expected {}, observed {} ({evidence}) at step {:?}: {}",
                        expected.name(),
                        verdict_name(verdict),
                        report.step,
                        report.detail
                    ),
                );
            }
        }
    }
    let model_note = match model.decision {
        Some(_) => "model agrees".to_string(),
        None => format!("model cannot decide: {}", model.reason),
    };
    if let Some(why) = &inputs.meaningless {
        return (Status::Inconclusive, format!("{why}; {model_note}"));
    }
    match inputs.observation {
        Observation::NotRun { reason } => (Status::Inconclusive, format!("{reason}; {model_note}")),
        Observation::NoVerdict { reason, .. } => {
            (Status::Inconclusive, format!("{reason}; {model_note}"))
        }
        Observation::ProfileRejected { message } => (Status::Fail, message.clone()),
        Observation::Reported {
            enforcement: Enforcement::NotEnforced { reason },
            ..
        } => (
            Status::Inconclusive,
            format!("not enforced: {reason}; {model_note}"),
        ),
        Observation::Reported {
            report,
            enforcement: Enforcement::Enforced { evidence },
            ..
        } => {
            if decisive(report.verdict).is_none() {
                return (
                    Status::Inconclusive,
                    format!(
                        "probe {} at step {:?}: {}; {model_note}",
                        verdict_name(report.verdict),
                        report.step,
                        report.detail
                    ),
                );
            }
            if model.decision.is_none() {
                return (
                    Status::Inconclusive,
                    format!(
                        "observed {} ({evidence}); {model_note}",
                        verdict_name(report.verdict)
                    ),
                );
            }
            (
                Status::Pass,
                format!(
                    "observed {} ({evidence}); model agrees",
                    verdict_name(report.verdict)
                ),
            )
        }
    }
}

fn enforced_verdict(obs: &Observation) -> Option<(Verdict, &ProbeReport, &str)> {
    match obs {
        Observation::Reported {
            report,
            enforcement: Enforcement::Enforced { evidence },
            ..
        } => Some((report.verdict, report, evidence)),
        _ => None,
    }
}

/// Allowed and denied settle a cell; error and unsupported do not.
fn decisive(v: Verdict) -> Option<Access> {
    match v {
        Verdict::Allowed => Some(Access::Allow),
        Verdict::Denied => Some(Access::Deny),
        Verdict::Error | Verdict::Unsupported => None,
    }
}

pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Error => "error",
        Verdict::Unsupported => "unsupported",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(d: Option<Access>) -> ModelOutcome {
        ModelOutcome {
            decision: d,
            rule: None,
            reason: "r".into(),
        }
    }

    fn reported(v: Verdict, enforced: bool) -> Observation {
        let enforcement = if enforced {
            Enforcement::Enforced {
                evidence: "linux 6.1".into(),
            }
        } else {
            Enforcement::NotEnforced {
                reason: "backend none".into(),
            }
        };
        Observation::Reported {
            report: ProbeReport {
                probe: "sem".into(),
                verdict: v,
                errno: None,
                step: "sem_open".into(),
                detail: "d".into(),
                duration_us: 1,
            },
            denials: vec![],
            enforcement,
        }
    }

    fn status(
        expected: Access,
        m: Option<Access>,
        obs: Observation,
        meaningless: Option<&str>,
    ) -> Status {
        let model = model(m);
        judge(&Inputs {
            expected,
            model: &model,
            observation: &obs,
            meaningless: meaningless.map(String::from),
        })
        .0
    }

    use Access::*;
    use Verdict::*;

    #[test]
    fn pass_needs_all_three() {
        assert_eq!(
            status(Allow, Some(Allow), reported(Allowed, true), None),
            Status::Pass
        );
        assert_eq!(
            status(Deny, Some(Deny), reported(Denied, true), None),
            Status::Pass
        );
    }

    #[test]
    fn model_disagreement_fails_even_without_enforcement() {
        let not_run = Observation::NotRun {
            reason: "no backend".into(),
        };
        assert_eq!(status(Allow, Some(Deny), not_run, None), Status::Fail);
        assert_eq!(
            status(Deny, Some(Allow), reported(Denied, false), Some("x")),
            Status::Fail
        );
    }

    #[test]
    fn observed_disagreement_fails_only_when_enforced_and_meaningful() {
        assert_eq!(
            status(Allow, Some(Allow), reported(Denied, true), None),
            Status::Fail
        );
        assert_eq!(
            status(Allow, None, reported(Denied, true), None),
            Status::Fail
        );
        assert_eq!(
            status(Allow, Some(Allow), reported(Denied, false), None),
            Status::Inconclusive
        );
        assert_eq!(
            status(Allow, Some(Allow), reported(Denied, true), Some("gui")),
            Status::Inconclusive
        );
    }

    #[test]
    fn never_pass_without_a_decisive_enforced_observation() {
        let not_run = Observation::NotRun {
            reason: "control: unsupported".into(),
        };
        assert_eq!(
            status(Allow, Some(Allow), not_run, None),
            Status::Inconclusive
        );
        assert_eq!(
            status(Allow, Some(Allow), reported(Allowed, false), None),
            Status::Inconclusive
        );
        assert_eq!(
            status(Allow, Some(Allow), reported(Error, true), None),
            Status::Inconclusive
        );
        assert_eq!(
            status(Allow, Some(Allow), reported(Unsupported, true), None),
            Status::Inconclusive
        );
        assert_eq!(
            status(Allow, None, reported(Allowed, true), None),
            Status::Inconclusive
        );
        let hung = Observation::NoVerdict {
            reason: "timeout".into(),
            output_tail: String::new(),
        };
        assert_eq!(status(Deny, Some(Deny), hung, None), Status::Inconclusive);
    }

    #[test]
    fn a_refused_profile_fails() {
        let refused = Observation::ProfileRejected {
            message: "line 3: unbound variable".into(),
        };
        assert_eq!(status(Deny, Some(Deny), refused, None), Status::Fail);
    }

    #[test]
    fn reasons_say_why() {
        let m = model(Some(Deny));
        let obs = Observation::NotRun {
            reason: "not enforced: backend none".into(),
        };
        let (_, reason) = judge(&Inputs {
            expected: Deny,
            model: &m,
            observation: &obs,
            meaningless: None,
        });
        assert_eq!(reason, "not enforced: backend none; model agrees");
    }
}
