//! Loads `tests/evidence/facts.toml`: facts about Seatbelt on real Macs,
//! each with its public source, quote and release, and what the model must
//! make of it. Unknown keys are errors, so a typo cannot drop a check.

use profile::model::{Arg, Decision, Request};
use serde::Deserialize;

pub const FACTS: &str = include_str!("facts.toml");

/// The capabilities every fact belongs to (issue 17's list).
pub const CAPABILITIES: [&str; 8] = [
    "keychain",
    "pty",
    "posix-ipc",
    "af-unix",
    "hid-tiocsti",
    "bare-process",
    "network",
    "precedence",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub fact: Vec<Fact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Two or more independent sources agree.
    Agreed,
    /// One source; nobody contradicts it.
    Single,
    /// Sources disagree; `disputed_by` and `builder_side` say how.
    Contested,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub capability: String,
    pub claim: String,
    pub source: String,
    pub also: Vec<String>,
    pub release: String,
    pub quote: String,
    pub status: Status,
    #[serde(default)]
    pub disputed_by: Vec<String>,
    pub builder_side: Option<String>,
    pub check: Option<Check>,
    pub precedence: Option<Precedence>,
    #[serde(default)]
    pub precedence_more: Vec<Precedence>,
}

/// What the built profile must decide for an option (see facts.toml).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub option: String,
    pub value: Option<String>,
    pub requests: Vec<RawRequest>,
}

/// A profile text and the decisions the model must reach on it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Precedence {
    pub profile: String,
    pub expect: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub op: String,
    pub path: Option<String>,
    pub ioctl: Option<u64>,
    pub global_name: Option<String>,
    pub iokit_class: Option<String>,
    pub ipc_name: Option<String>,
    pub sysctl_name: Option<String>,
    pub remote: Option<String>,
    pub decision: Option<String>,
}

impl RawRequest {
    /// The model request, `{home}` filled in; an error names a request
    /// with more than one argument.
    pub fn request(&self, home: &str) -> Result<Request, String> {
        let path = self.path.as_ref().map(|p| p.replace("{home}", home));
        let args: Vec<Arg> = [
            match (path, self.ioctl) {
                (Some(path), Some(command)) => Some(Arg::Ioctl { path, command }),
                (Some(p), None) => Some(Arg::Path(p)),
                (None, Some(_)) => return Err(format!("{}: ioctl without a path", self.op)),
                (None, None) => None,
            },
            self.global_name.clone().map(Arg::GlobalName),
            self.iokit_class.clone().map(Arg::IokitClass),
            self.ipc_name.clone().map(Arg::IpcName),
            self.sysctl_name.clone().map(Arg::SysctlName),
            self.remote.clone().map(Arg::Remote),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[Arg; 1]>::try_from(args) {
            Ok([arg]) => Ok(Request::with(&self.op, arg)),
            Err(v) if v.is_empty() => Ok(Request::bare(&self.op)),
            Err(_) => Err(format!("{}: more than one argument", self.op)),
        }
    }

    /// The expected decision of a precedence request.
    pub fn expected(&self) -> Result<Decision, String> {
        match self.decision.as_deref() {
            Some("allow") => Ok(Decision::Allow),
            Some("deny") => Ok(Decision::Deny),
            other => Err(format!(
                "{}: decision {other:?}, want allow or deny",
                self.op
            )),
        }
    }
}

pub fn load() -> Result<Facts, String> {
    toml::from_str(FACTS).map_err(|e| format!("facts.toml: {e}"))
}
