//! A model of Seatbelt's decision procedure over the parsed AST.

use serde::{Deserialize, Serialize};

/// One request to decide: an operation and its argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    pub op: String,
    pub arg: Option<Arg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Arg {
    Path(String),
    GlobalName(String),
    IokitClass(String),
    IpcName(String),
    SysctlName(String),
}

/// The model's answer. `Unknown` is never folded into allow or deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
    Unknown,
}

/// The rule that decided, when one did (none when a default decided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub line: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub decision: Decision,
    pub rule: Option<RuleRef>,
    pub reason: String,
}
