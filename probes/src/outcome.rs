//! What a probe body returns before it becomes a [`crate::ProbeReport`].

use crate::report::Verdict;

/// Every step succeeded; `step` is the last one, `detail` what was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Success {
    pub step: &'static str,
    pub detail: String,
}

/// A step failed. `code` is the raw OS code (see [`crate::classify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub verdict: Verdict,
    pub code: Option<i64>,
    pub step: &'static str,
    pub detail: String,
}

impl Failure {
    /// A failure without an OS code (e.g. a mismatch the probe detected).
    pub fn plain(verdict: Verdict, step: &'static str, detail: impl Into<String>) -> Self {
        Failure {
            verdict,
            code: None,
            step,
            detail: detail.into(),
        }
    }
}

/// The result of one probe body.
pub type Outcome = Result<Success, Failure>;

/// Shorthand for a successful outcome.
pub fn allowed(step: &'static str, detail: impl Into<String>) -> Outcome {
    Ok(Success {
        step,
        detail: detail.into(),
    })
}
