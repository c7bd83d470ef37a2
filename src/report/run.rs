//! Which run a report comes from and whether it ran to the end.
//!
//! Every file of one report set (`report.json`, `.md`, `.html`, ...) is
//! rendered from one [`Report`](super::Report) and so carries the same
//! [`Run::id`]; `report.json` is renamed into place last (see
//! [`super::write`]), so the id in it names the set that is complete on
//! disk. A run stopped by a signal is [`Completion::Partial`], and each
//! rendering says so at its top ([`markdown_banner`], [`html_banner`]).

use crate::matrix::fixtures::interrupt;
use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// `"run": {"id": "...", "state": "complete"}` or `{"id": "...", "state":
/// "partial", "reason": "interrupted by SIGHUP ..."}` in report.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// `20261205T091530Z-4242-9f3a1c07`: UTC start of rendering, pid, and
    /// 32 random bits; unique per run, sortable by time.
    pub id: String,
    #[serde(flatten)]
    pub completion: Completion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Completion {
    /// Every planned cell ran (or was decided without running).
    Complete,
    /// Stopped early: cells that did not run are inconclusive ("not run:
    /// interrupted").
    Partial { reason: String },
}

impl Run {
    /// A fresh id, complete unless `interrupted`; the reason names the
    /// signal that stopped the run.
    pub fn new(interrupted: bool) -> Run {
        let completion = if interrupted {
            let by = interrupt::received()
                .map(|s| format!(" by {s}"))
                .unwrap_or_default();
            Completion::Partial {
                reason: format!("interrupted{by} before every cell ran"),
            }
        } else {
            Completion::Complete
        };
        Run {
            id: new_id(),
            completion,
        }
    }

    pub fn is_partial(&self) -> bool {
        matches!(self.completion, Completion::Partial { .. })
    }
}

/// The top of report.md: the run id, and for a partial run a warning first.
pub fn markdown_banner(run: Option<&Run>) -> String {
    match run {
        None => String::new(),
        Some(Run {
            id,
            completion: Completion::Complete,
        }) => format!("Run `{id}`, complete.\n\n"),
        Some(Run {
            id,
            completion: Completion::Partial { reason },
        }) => format!(
            "> **PARTIAL REPORT**: {}. Cells that did not run are inconclusive. Run `{id}`.\n\n",
            super::escape::markdown(reason)
        ),
    }
}

/// The top of report.html, as [`markdown_banner`].
pub fn html_banner(run: Option<&Run>) -> String {
    use super::html::esc;
    match run {
        None => String::new(),
        Some(Run {
            id,
            completion: Completion::Complete,
        }) => format!("<p>Run <code>{}</code>, complete.</p>\n", esc(id)),
        Some(Run {
            id,
            completion: Completion::Partial { reason },
        }) => format!(
            "<p class=\"fail\"><b>PARTIAL REPORT</b>: {}. Cells that did not run are inconclusive. Run <code>{}</code>.</p>\n",
            esc(reason),
            esc(id)
        ),
    }
}

/// `YYYYMMDDTHHMMSSZ-PID-RANDOM`.
fn new_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    // RandomState is seeded from the OS's randomness once per process.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u32;
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z-{}-{random:08x}",
        t / 3600,
        t / 60 % 60,
        t % 60,
        std::process::id()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
    }

    #[test]
    fn ids_differ_and_json_names_the_state() {
        assert_ne!(new_id(), new_id());
        let run = Run {
            id: "x".into(),
            completion: Completion::Partial {
                reason: "interrupted by SIGHUP".into(),
            },
        };
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["state"], "partial");
        assert_eq!(json["reason"], "interrupted by SIGHUP");
        assert_eq!(serde_json::from_value::<Run>(json).unwrap(), run);
        assert!(markdown_banner(Some(&run)).starts_with("> **PARTIAL REPORT**"));
        assert!(html_banner(Some(&run)).contains("PARTIAL REPORT"));
    }
}
