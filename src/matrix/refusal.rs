//! A probe error that the sandbox's own log explains is a denial.
//!
//! Security.framework reports a Seatbelt refusal as an `OSStatus`, and which
//! code comes back depends on where the refused request was (securityd's
//! mach service, the keychain file, a preference read): -25291
//! errSecNotAvailable, -25308 errSecInteractionNotAllowed, -34018 and others
//! (see `probes::classify::codes`), none of which means "sandbox" alone.
//! The probe therefore says `error`. When the denial log holds a Sandbox
//! `deny(1)` line for that probe's pid, the error is the sandbox's doing:
//! the cell counts it as denied and keeps the line as its evidence.

use super::cell::Observation;
use probes::Verdict;
use runner::launch::denials::refusal_line;

/// Turns a reported `error` with an OS code into `denied` when `denials`
/// (already attributed to this cell's pid) hold a Sandbox refusal. Returns
/// whether the observation changed.
pub fn confirm(obs: &mut Observation) -> bool {
    let Observation::Reported {
        report, denials, ..
    } = obs
    else {
        return false;
    };
    if report.verdict != Verdict::Error || report.errno.is_none() {
        return false;
    }
    let Some(line) = refusal_line(denials) else {
        return false;
    };
    report.detail = format!(
        "denied: the sandbox logged \"{line}\" for this probe (probe said error: {})",
        report.detail
    );
    report.verdict = Verdict::Denied;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::cell::{Enforcement, Sandboxing};
    use probes::ProbeReport;

    fn reported(verdict: Verdict, errno: Option<i64>, denials: &[&str]) -> Observation {
        Observation::Reported {
            report: ProbeReport {
                probe: "keychain".into(),
                verdict,
                errno,
                step: "SecItemAdd".into(),
                detail: "beltcheck.probe.1: OSStatus -25291".into(),
                duration_us: 1,
                stage: None,
            },
            denials: denials.iter().map(|d| d.to_string()).collect(),
            sandboxing: Sandboxing::Enforced {
                backend: "seatbelt".into(),
                release: "macos 26".into(),
                enforcement: Enforcement::Full,
            },
        }
    }

    const DENY: &str = "Sandbox: beltcheck-probe(77) deny(1) mach-lookup com.apple.SecurityServer";

    #[test]
    fn an_osstatus_error_with_a_logged_deny_is_denied_with_the_line() {
        let mut obs = reported(Verdict::Error, Some(-25291), &[DENY]);
        assert!(confirm(&mut obs));
        let Observation::Reported { report, .. } = &obs else {
            unreachable!()
        };
        assert_eq!(report.verdict, Verdict::Denied);
        assert!(report.detail.contains(DENY), "{}", report.detail);
        assert!(
            report.detail.contains("OSStatus -25291"),
            "{}",
            report.detail
        );
        assert_eq!(report.errno, Some(-25291), "the raw code stays");
    }

    #[test]
    fn nothing_changes_without_a_deny_line_or_an_os_code() {
        for mut obs in [
            reported(Verdict::Error, Some(-25291), &[]),
            reported(Verdict::Error, Some(-25291), &["own report, no refusal"]),
            // A timeout has no OS code: the log cannot say what it was.
            reported(Verdict::Error, None, &[DENY]),
            reported(Verdict::Allowed, None, &[DENY]),
            reported(Verdict::Unsupported, Some(78), &[DENY]),
        ] {
            let before = obs.clone();
            assert!(!confirm(&mut obs));
            assert_eq!(obs, before);
        }
    }
}
