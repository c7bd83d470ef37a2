//! A cell's status and its evidence: the one place that decides them.
//!
//! [`judge`] maps what is known about a cell (the spec's answer, the model's
//! prediction, the config's profile, the control run, a backend limitation,
//! and the sandboxed runs) to a [`Status`] and the [`Evidence`] it rests on.
//! [`why_not_launch`] says when a launch would tell nothing, with the same
//! rules. Nothing outside this module can construct a [`Status`] (its field
//! is private), so renderers and the executor only carry and show it:
//!
//! ```compile_fail
//! use beltcheck::matrix::cell::{Status, StatusKind};
//! let forged = Status(StatusKind::Pass);
//! ```
//!
//! - fail: the spec (expected) differs from the model, or from what the OS
//!   did on an enforcing backend, or a profile was refused.
//! - pass: the spec, the model and an enforced observation all agree.
//! - inconclusive (always with a reason): anything less than that. Never a
//!   pass without enforcement.

use probes::{ProbeReport, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a status can be (read it with [`Status::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    Pass,
    Fail,
    Inconclusive,
}

/// A cell's status. Only [`judge`] makes one (reports read them back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Status(StatusKind);

impl Status {
    pub fn kind(self) -> StatusKind {
        self.0
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            StatusKind::Pass => "pass",
            StatusKind::Fail => "fail",
            StatusKind::Inconclusive => "inconclusive",
        }
    }

    pub fn is_pass(self) -> bool {
        self.0 == StatusKind::Pass
    }

    pub fn is_fail(self) -> bool {
        self.0 == StatusKind::Fail
    }

    pub fn is_inconclusive(self) -> bool {
        self.0 == StatusKind::Inconclusive
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

    /// The past tense a report shows for what the OS did.
    pub fn done(self) -> &'static str {
        match self {
            Access::Allow => "allowed",
            Access::Deny => "denied",
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

/// How completely a sandbox held, as the backend states it (rust-landlock's
/// `RulesetStatus`: fully or partially enforced; Seatbelt is all or
/// nothing).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "lowercase")]
pub enum Enforcement {
    Full,
    /// Some of the requested restrictions are not in force (e.g. a kernel
    /// whose Landlock ABI lacks scoping); `detail` is the backend's word.
    Partial {
        detail: String,
    },
}

impl Enforcement {
    /// From the stage's status line (`landlock=partially_enforced ...`).
    /// No line (Seatbelt, or a stage that said nothing) is full: a backend
    /// that could not enforce refuses to run instead.
    pub fn from_stage_status(status: Option<&str>) -> Enforcement {
        match status {
            Some(s) if s.contains("landlock=partially_enforced") => Enforcement::Partial {
                detail: s.to_string(),
            },
            _ => Enforcement::Full,
        }
    }
}

/// Whether a sandbox applied to a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandboxing {
    /// A sandbox applied: the backend, the OS release it is evidence about,
    /// and how fully.
    Enforced {
        backend: String,
        release: String,
        enforcement: Enforcement,
    },
    /// Nothing was enforced (nested sandbox, backend `none`), and why.
    NotEnforced { reason: String },
}

/// What one sandboxed run of the probe produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The probe printed a verdict.
    Reported {
        report: ProbeReport,
        denials: Vec<String>,
        sandboxing: Sandboxing,
    },
    /// It ran but gave no verdict (timeout, crash, garbage output).
    NoVerdict { reason: String, output_tail: String },
    /// The enforcing backend refused the profile itself (e.g. sandbox-exec
    /// exit 65): the config cannot be used on this release.
    ProfileRejected { message: String },
}

/// A probe's run outside any sandbox: the report, or why there is none.
#[derive(Debug, Clone)]
pub struct Control {
    pub probe: String,
    pub result: Result<ProbeReport, String>,
}

impl Control {
    fn allowed(&self) -> bool {
        matches!(&self.result, Ok(r) if r.verdict == Verdict::Allowed)
    }

    fn describe(&self) -> String {
        match &self.result {
            Ok(r) => format!(
                "control run (unsandboxed): {} at step {:?}: {}",
                verdict_name(r.verdict),
                r.step,
                r.detail
            ),
            Err(e) => format!("control run (unsandboxed): {e}"),
        }
    }
}

/// Why an observation on this backend says nothing about this cell: a
/// config key the cell speaks to (a dimension its expectation hinges on, or
/// what its probe observes) is set to a value the backend's policy cannot
/// enforce, as the policy itself says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limitation {
    Unenforceable {
        backend: String,
        key: String,
        reason: String,
    },
}

impl fmt::Display for Limitation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limitation::Unenforceable {
                backend,
                key,
                reason,
            } => write!(f, "backend {backend} cannot enforce {key} as set: {reason}"),
        }
    }
}

/// Whether the config's profile exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileState {
    Built,
    /// The builder refused or panicked: a builder bug.
    Refused {
        message: String,
    },
}

/// Whether the backend can enforce the cell's profile at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendState {
    Enforcing,
    Unavailable {
        reason: String,
    },
    /// A raw SBPL profile on a backend that is not Seatbelt.
    CannotEnforceRawProfile {
        backend: String,
    },
}

/// Whether Ctrl-C has stopped new launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    Going,
    Interrupted,
}

/// Why a cell's probe is not launched under the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLaunched(String);

impl fmt::Display for NotLaunched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What decides whether a launch can tell anything.
#[derive(Debug, Clone)]
pub struct LaunchFacts<'a> {
    pub run: Run,
    pub control: &'a Control,
    pub backend: &'a BackendState,
    pub profile: &'a ProfileState,
    pub limitation: Option<&'a Limitation>,
}

/// Why launching this cell's probe would tell nothing, if it would not.
pub fn why_not_launch(f: &LaunchFacts<'_>) -> Option<NotLaunched> {
    let why = |s: String| Some(NotLaunched(s));
    if f.run == Run::Interrupted {
        return why("not run: interrupted (Ctrl-C)".into());
    }
    if !f.control.allowed() {
        return why(f.control.describe());
    }
    match f.backend {
        BackendState::Enforcing => {}
        BackendState::Unavailable { reason } => return why(format!("not enforced: {reason}")),
        BackendState::CannotEnforceRawProfile { backend } => {
            return why(format!(
                "not enforced: backend {backend} cannot enforce a raw SBPL profile"
            ))
        }
    }
    if let ProfileState::Refused { message } = f.profile {
        return why(format!("no profile: {message}"));
    }
    f.limitation.map(|l| NotLaunched(l.to_string()))
}

/// Which launch a cell's observation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LaunchRef {
    /// The distinct launch's number in this report.
    pub id: usize,
    /// How many cells share it (same policy, probe and arguments).
    pub shared_by: usize,
    /// How many times it ran (`--repeat`).
    pub runs: usize,
}

/// A cell's sandboxed launch: not made (and why), or its runs.
#[derive(Debug, Clone)]
pub enum Launch {
    NotLaunched(NotLaunched),
    Launched {
        launch: LaunchRef,
        /// One per repeat, at least one.
        runs: Vec<Observation>,
    },
}

/// Whether the probe's arguments name paths the harness created (so ENOENT
/// inside the sandbox means the backend hid them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixturePaths {
    Referenced,
    None,
}

/// Who refused a profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum Refuser {
    Builder,
    Backend { backend: String, release: String },
}

/// What a cell's answer rests on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// The probe ran under an enforcing backend on this release.
    Observed {
        backend: String,
        release: String,
        enforcement: Enforcement,
        launch: LaunchRef,
    },
    /// Only the model's prediction (it disagreed with the spec).
    Predicted { rule: Option<String> },
    /// The profile was refused before anything could be observed.
    Refused { refuser: Refuser, message: String },
    /// Nothing settles the cell, and why.
    Inconclusive { reason: String },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Observed {
                backend,
                release,
                enforcement,
                launch,
            } => {
                write!(f, "observed on {backend} on {release}")?;
                match enforcement {
                    Enforcement::Full => f.write_str(", fully enforced")?,
                    Enforcement::Partial { detail } => {
                        write!(f, ", partially enforced ({detail})")?
                    }
                }
                if launch.shared_by > 1 {
                    write!(
                        f,
                        "; launch #{} shared by {} cells",
                        launch.id, launch.shared_by
                    )?;
                }
                if launch.runs > 1 {
                    write!(f, "; {} runs agreed", launch.runs)?;
                }
                Ok(())
            }
            Evidence::Predicted { rule: Some(r) } => write!(f, "predicted by the model ({r})"),
            Evidence::Predicted { rule: None } => f.write_str("predicted by the model"),
            Evidence::Refused {
                refuser: Refuser::Builder,
                message,
            } => write!(f, "refused by the builder: {message}"),
            Evidence::Refused {
                refuser: Refuser::Backend { backend, release },
                message,
            } => write!(f, "refused by {backend} on {release}: {message}"),
            Evidence::Inconclusive { reason } => write!(f, "inconclusive: {reason}"),
        }
    }
}

/// Everything the status depends on.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub expected: Access,
    pub model: &'a ModelOutcome,
    pub profile: &'a ProfileState,
    pub launch: &'a Launch,
    pub fixtures: FixturePaths,
}

/// A decided cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub status: Status,
    pub evidence: Evidence,
    /// One sentence for people.
    pub reason: String,
    /// The first run as the cell reads it (a hidden fixture path reads as
    /// denied); `None` when not launched.
    pub observation: Option<Observation>,
    /// An enforced observation and a decided model disagree: a finding
    /// about the OS (or the model), whatever the spec says.
    pub divergent: bool,
    /// What the OS did, from an enforced decisive first run.
    pub seen: Option<Access>,
}

/// The status of a cell and its evidence.
pub fn judge(inputs: &Inputs<'_>) -> Judgement {
    let runs: Vec<Observation> = match inputs.launch {
        Launch::NotLaunched(_) => Vec::new(),
        Launch::Launched { runs, .. } => runs
            .iter()
            .map(|o| interpret(o.clone(), inputs.fixtures))
            .collect(),
    };
    let (status, evidence, reason) = decide(inputs, &runs);
    let seen = runs.first().and_then(|o| enforced(o, ONE_RUN)).map(|s| s.0);
    let divergent = matches!((seen, inputs.model.decision), (Some(s), Some(m)) if s != m);
    Judgement {
        status: Status(status),
        evidence,
        reason,
        observation: runs.into_iter().next(),
        divergent,
        seen,
    }
}

type Decided = (StatusKind, Evidence, String);

/// A placeholder launch for questions that do not need one.
const ONE_RUN: LaunchRef = LaunchRef {
    id: 0,
    shared_by: 1,
    runs: 1,
};

fn inconclusive(reason: String) -> Decided {
    (
        StatusKind::Inconclusive,
        Evidence::Inconclusive {
            reason: reason.clone(),
        },
        reason,
    )
}

fn decide(inputs: &Inputs<'_>, runs: &[Observation]) -> Decided {
    let expected = inputs.expected;
    let model = inputs.model;
    if let ProfileState::Refused { message } = inputs.profile {
        // A config the builder cannot build is a builder bug.
        return (
            StatusKind::Fail,
            Evidence::Refused {
                refuser: Refuser::Builder,
                message: message.clone(),
            },
            message.clone(),
        );
    }
    let seen = match inputs.launch {
        Launch::Launched { launch, .. } => runs.first().and_then(|o| enforced(o, *launch)),
        Launch::NotLaunched(_) => None,
    };
    if let Some(m) = model.decision.filter(|m| *m != expected) {
        let rule = model
            .rule
            .as_deref()
            .map(|r| format!(" by {r}"))
            .unwrap_or_default();
        let reason = format!(
            "expected {}, model predicts {}{rule}: {}",
            expected.name(),
            m.name(),
            model.reason
        );
        let evidence = match seen {
            Some((_, evidence)) => evidence,
            None => Evidence::Predicted {
                rule: model.rule.clone(),
            },
        };
        return (StatusKind::Fail, evidence, reason);
    }
    if let Some(message) = runs.iter().find_map(rejected) {
        let refuser = match &seen {
            Some((
                _,
                Evidence::Observed {
                    backend, release, ..
                },
            )) => Refuser::Backend {
                backend: backend.clone(),
                release: release.clone(),
            },
            _ => Refuser::Backend {
                backend: "the backend".into(),
                release: "this host".into(),
            },
        };
        return (
            StatusKind::Fail,
            Evidence::Refused {
                refuser,
                message: message.to_string(),
            },
            format!("the backend refused the profile: {message}"),
        );
    }
    let model_note = match model.decision {
        Some(_) => "model agrees".to_string(),
        None => format!("model cannot decide: {}", model.reason),
    };
    let (launch, first) = match (inputs.launch, runs.first()) {
        (Launch::NotLaunched(why), _) => return inconclusive(format!("{why}; {model_note}")),
        (Launch::Launched { launch, .. }, Some(first)) => (*launch, first),
        (Launch::Launched { .. }, None) => {
            return inconclusive(format!("not run: no launch recorded; {model_note}"))
        }
    };
    if let Some(flaky) = disagreement(runs) {
        return inconclusive(format!("flaky: {flaky}; {model_note}"));
    }
    let report = match first {
        Observation::NoVerdict { reason, .. } => {
            return inconclusive(format!("{reason}; {model_note}"))
        }
        Observation::ProfileRejected { .. } => unreachable!("handled above"),
        Observation::Reported {
            sandboxing: Sandboxing::NotEnforced { reason },
            ..
        } => return inconclusive(format!("not enforced: {reason}; {model_note}")),
        Observation::Reported { report, .. } => report,
    };
    let Some((access, evidence)) = enforced(first, launch) else {
        return inconclusive(format!(
            "probe {} at step {:?}: {}; {model_note}",
            verdict_name(report.verdict),
            report.step,
            report.detail
        ));
    };
    if access != expected {
        let reason = format!(
            "expected {}, observed {} ({evidence}) at step {:?}: {}",
            expected.name(),
            access.done(),
            report.step,
            report.detail
        );
        return (StatusKind::Fail, evidence, reason);
    }
    if model.decision.is_none() {
        return inconclusive(format!(
            "observed {} ({evidence}); {model_note}",
            access.done()
        ));
    }
    let reason = format!("observed {} ({evidence}); model agrees", access.done());
    (StatusKind::Pass, evidence, reason)
}

/// An enforced, decisive observation and its evidence.
fn enforced(obs: &Observation, launch: LaunchRef) -> Option<(Access, Evidence)> {
    let Observation::Reported {
        report,
        sandboxing:
            Sandboxing::Enforced {
                backend,
                release,
                enforcement,
            },
        ..
    } = obs
    else {
        return None;
    };
    let access = decisive(report.verdict)?;
    Some((
        access,
        Evidence::Observed {
            backend: backend.clone(),
            release: release.clone(),
            enforcement: enforcement.clone(),
            launch,
        },
    ))
}

fn rejected(obs: &Observation) -> Option<&str> {
    match obs {
        Observation::ProfileRejected { message } => Some(message),
        _ => None,
    }
}

/// Runs of one launch that did not all end the same way, described.
fn disagreement(runs: &[Observation]) -> Option<String> {
    let outcome = |o: &Observation| match o {
        Observation::Reported { report, .. } => verdict_name(report.verdict),
        Observation::NoVerdict { .. } => "no verdict",
        Observation::ProfileRejected { .. } => "profile rejected",
    };
    let first = outcome(runs.first()?);
    if runs.iter().all(|o| outcome(o) == first) {
        return None;
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for o in runs {
        let name = outcome(o);
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
    Some(format!(
        "{} runs of the same launch disagree ({})",
        runs.len(),
        parts.join(", ")
    ))
}

/// A harness-created path the probe cannot find inside an enforcing sandbox
/// was hidden from it (the Linux backend leaves unlisted paths out of the
/// view): the cell reads that as denied, and the detail says so.
fn interpret(obs: Observation, fixtures: FixturePaths) -> Observation {
    match obs {
        Observation::Reported {
            mut report,
            denials,
            sandboxing: sandboxing @ Sandboxing::Enforced { .. },
        } if report.verdict == Verdict::Error
            && report.errno == Some(i64::from(libc::ENOENT))
            && fixtures == FixturePaths::Referenced =>
        {
            report.verdict = Verdict::Denied;
            report.detail = format!(
                "hidden: the harness-created path exists outside but not inside the sandbox (probe said error: {})",
                report.detail
            );
            Observation::Reported {
                report,
                denials,
                sandboxing,
            }
        }
        other => other,
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

    fn report(v: Verdict) -> ProbeReport {
        ProbeReport {
            probe: "sem".into(),
            verdict: v,
            errno: None,
            step: "sem_open".into(),
            detail: "d".into(),
            duration_us: 1,
            stage: None,
        }
    }

    fn enforced_full() -> Sandboxing {
        Sandboxing::Enforced {
            backend: "linux".into(),
            release: "linux 6.1".into(),
            enforcement: Enforcement::Full,
        }
    }

    fn reported(v: Verdict, enforced: bool) -> Observation {
        let sandboxing = if enforced {
            enforced_full()
        } else {
            Sandboxing::NotEnforced {
                reason: "backend none".into(),
            }
        };
        Observation::Reported {
            report: report(v),
            denials: vec![],
            sandboxing,
        }
    }

    const ONE: LaunchRef = LaunchRef {
        id: 1,
        shared_by: 1,
        runs: 1,
    };

    fn launched(runs: Vec<Observation>) -> Launch {
        Launch::Launched {
            launch: LaunchRef {
                runs: runs.len(),
                ..ONE
            },
            runs,
        }
    }

    fn not_launched(why: &str) -> Launch {
        Launch::NotLaunched(NotLaunched(why.into()))
    }

    fn judged(expected: Access, m: Option<Access>, launch: Launch) -> Judgement {
        let model = model(m);
        judge(&Inputs {
            expected,
            model: &model,
            profile: &ProfileState::Built,
            launch: &launch,
            fixtures: FixturePaths::None,
        })
    }

    fn status(expected: Access, m: Option<Access>, obs: Observation) -> StatusKind {
        judged(expected, m, launched(vec![obs])).status.kind()
    }

    use Access::*;
    use StatusKind::{Fail, Inconclusive, Pass};
    use Verdict::*;

    #[test]
    fn pass_needs_all_three() {
        assert_eq!(status(Allow, Some(Allow), reported(Allowed, true)), Pass);
        assert_eq!(status(Deny, Some(Deny), reported(Denied, true)), Pass);
        let j = judged(Deny, Some(Deny), launched(vec![reported(Denied, true)]));
        assert!(
            matches!(&j.evidence, Evidence::Observed { enforcement: Enforcement::Full, launch, .. } if *launch == ONE),
            "{:?}",
            j.evidence
        );
    }

    #[test]
    fn model_disagreement_fails_even_without_enforcement() {
        let j = judged(Allow, Some(Deny), not_launched("no backend"));
        assert_eq!(j.status.kind(), Fail);
        assert_eq!(j.evidence, Evidence::Predicted { rule: None });
        assert_eq!(status(Deny, Some(Allow), reported(Denied, false)), Fail);
    }

    #[test]
    fn observed_disagreement_fails_only_when_enforced() {
        assert_eq!(status(Allow, Some(Allow), reported(Denied, true)), Fail);
        assert_eq!(status(Allow, None, reported(Denied, true)), Fail);
        assert_eq!(
            status(Allow, Some(Allow), reported(Denied, false)),
            Inconclusive
        );
    }

    #[test]
    fn never_pass_without_a_decisive_enforced_observation() {
        let j = judged(Allow, Some(Allow), not_launched("control: unsupported"));
        assert_eq!(j.status.kind(), Inconclusive);
        assert_eq!(
            j.evidence,
            Evidence::Inconclusive {
                reason: "control: unsupported; model agrees".into()
            }
        );
        for (v, enforced) in [(Allowed, false), (Error, true), (Unsupported, true)] {
            assert_eq!(
                status(Allow, Some(Allow), reported(v, enforced)),
                Inconclusive,
                "{v:?}"
            );
        }
        assert_eq!(status(Allow, None, reported(Allowed, true)), Inconclusive);
        let hung = Observation::NoVerdict {
            reason: "timeout".into(),
            output_tail: String::new(),
        };
        assert_eq!(status(Deny, Some(Deny), hung), Inconclusive);
    }

    #[test]
    fn refused_profiles_fail() {
        let refused = Observation::ProfileRejected {
            message: "line 3: unbound variable".into(),
        };
        assert_eq!(status(Deny, Some(Deny), refused), Fail);
        let m = model(Some(Deny));
        let j = judge(&Inputs {
            expected: Deny,
            model: &m,
            profile: &ProfileState::Refused {
                message: "builder refused".into(),
            },
            launch: &not_launched("no profile"),
            fixtures: FixturePaths::None,
        });
        assert_eq!(j.status.kind(), Fail);
        assert!(matches!(
            j.evidence,
            Evidence::Refused {
                refuser: Refuser::Builder,
                ..
            }
        ));
    }

    #[test]
    fn partial_enforcement_is_carried() {
        let obs = Observation::Reported {
            report: report(Denied),
            denials: vec![],
            sandboxing: Sandboxing::Enforced {
                backend: "linux".into(),
                release: "linux 5.15".into(),
                enforcement: Enforcement::from_stage_status(Some(
                    "landlock=partially_enforced abi=3 rules=9; seccomp=6 rules",
                )),
            },
        };
        let j = judged(Deny, Some(Deny), launched(vec![obs]));
        assert_eq!(j.status.kind(), Pass);
        assert!(
            j.evidence.to_string().contains("partially enforced"),
            "{}",
            j.evidence
        );
        assert_eq!(
            Enforcement::from_stage_status(Some("landlock=fully_enforced abi=6")),
            Enforcement::Full
        );
    }

    #[test]
    fn disagreeing_repeats_are_flaky() {
        let j = judged(
            Deny,
            Some(Deny),
            launched(vec![
                reported(Denied, true),
                reported(Allowed, true),
                reported(Denied, true),
            ]),
        );
        assert_eq!(j.status.kind(), Inconclusive);
        assert!(
            j.reason
                .contains("flaky: 3 runs of the same launch disagree (2 denied, 1 allowed)"),
            "{}",
            j.reason
        );
        let agreeing = judged(
            Deny,
            Some(Deny),
            launched(vec![reported(Denied, true), reported(Denied, true)]),
        );
        assert_eq!(agreeing.status.kind(), Pass);
        assert!(agreeing.evidence.to_string().contains("2 runs agreed"));
    }

    #[test]
    fn a_hidden_fixture_reads_as_denied() {
        let mut r = report(Error);
        r.errno = Some(i64::from(libc::ENOENT));
        let obs = Observation::Reported {
            report: r,
            denials: vec![],
            sandboxing: enforced_full(),
        };
        let m = model(Some(Deny));
        let launch = launched(vec![obs]);
        let mut inputs = Inputs {
            expected: Deny,
            model: &m,
            profile: &ProfileState::Built,
            launch: &launch,
            fixtures: FixturePaths::Referenced,
        };
        let j = judge(&inputs);
        assert_eq!(j.status.kind(), Pass, "{}", j.reason);
        let Some(Observation::Reported { report, .. }) = &j.observation else {
            panic!("{:?}", j.observation)
        };
        assert_eq!(report.verdict, Denied);
        assert!(report.detail.starts_with("hidden: "), "{}", report.detail);
        inputs.fixtures = FixturePaths::None;
        assert_eq!(judge(&inputs).status.kind(), Inconclusive);
    }

    #[test]
    fn launch_is_skipped_with_the_reason() {
        let control = Control {
            probe: "hid".into(),
            result: Ok(report(Unsupported)),
        };
        let ok = Control {
            probe: "sem".into(),
            result: Ok(report(Allowed)),
        };
        let facts = |control, backend, limitation| LaunchFacts {
            run: Run::Going,
            control,
            backend,
            profile: &ProfileState::Built,
            limitation,
        };
        let why = why_not_launch(&facts(&control, &BackendState::Enforcing, None)).unwrap();
        assert!(why
            .to_string()
            .starts_with("control run (unsandboxed): unsupported"));
        assert_eq!(
            why_not_launch(&facts(&ok, &BackendState::Enforcing, None)),
            None
        );
        let gap = Limitation::Unenforceable {
            backend: "linux".into(),
            key: "gui_access".into(),
            reason: "no GUI on Linux".into(),
        };
        assert_eq!(
            why_not_launch(&facts(&ok, &BackendState::Enforcing, Some(&gap)))
                .unwrap()
                .to_string(),
            "backend linux cannot enforce gui_access as set: no GUI on Linux"
        );
        let raw = BackendState::CannotEnforceRawProfile {
            backend: "linux".into(),
        };
        assert!(why_not_launch(&facts(&ok, &raw, None))
            .unwrap()
            .to_string()
            .contains("cannot enforce a raw SBPL profile"));
    }
}
