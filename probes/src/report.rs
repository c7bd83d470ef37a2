//! The probe's verdict and its JSON form (shared with the harness).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every step succeeded.
    Allowed,
    /// The OS refused for permission reasons (EPERM, EACCES, Security/IOKit
    /// equivalents).
    Denied,
    /// Any other failure (ENOENT, timeout, bad argument).
    Error,
    /// The capability does not exist on this OS or host.
    Unsupported,
}

/// Exactly the object `beltcheck-probe` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub probe: String,
    pub verdict: Verdict,
    pub errno: Option<i64>,
    pub step: String,
    pub detail: String,
    pub duration_us: u64,
}
