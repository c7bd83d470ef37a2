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
    /// What the sandbox's exec stage said it applied (the Linux backend's
    /// `BELTCHECK_STAGE_STATUS`, e.g. `landlock=partially_enforced ...`),
    /// so the harness can tell full from partial enforcement. Absent
    /// outside the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// The variable the Linux exec stage sets for the workload (the same name
/// as `runner::stage::STATUS_ENV`; probes do not depend on the runner).
pub const STAGE_STATUS_ENV: &str = "BELTCHECK_STAGE_STATUS";

/// The stage's status line, when running under the stage.
pub fn stage_status() -> Option<String> {
    std::env::var(STAGE_STATUS_ENV).ok()
}
