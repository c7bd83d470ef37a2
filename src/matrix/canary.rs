//! Telling "this profile kills every process" from "this probe crashed".
//!
//! A profile can kill a process before its `main` runs (on macOS 26 a
//! profile without `(allow file-read* (literal "/"))` aborts every process
//! at start). Without a check, that shows up as one "crashed (signal 6)" per
//! cell. So the first time a probe dies by a signal under a config, the
//! harness runs the probe binary once in its do-nothing mode
//! (`beltcheck-probe --canary`: no work, no output) under the same profile.
//! It is the probe binary and not `/usr/bin/true` because a strict profile
//! need not allow executing anything else. If the canary dies by a signal
//! too, every crashed cell of that config gets one and the same reason,
//! [`KILLS_EVERY_PROCESS`], and the report groups them as one finding.

use super::adapter::End;
use super::cell::Observation;
use std::sync::OnceLock;

/// The argument that puts `beltcheck-probe` in its do-nothing mode.
pub const CANARY_ARG: &str = "--canary";

/// The start of the reason given to every crashed cell of such a config.
pub const KILLS_EVERY_PROCESS: &str = "profile kills every process";

/// The signal a launch died by. A launcher that runs the workload under a
/// parent (bwrap on Linux) reports that death as exit 128+N, the shell's
/// convention; beltcheck-probe itself never exits above 2, so such an exit
/// is read as the signal too.
pub fn died_by_signal(end: &End) -> Option<i32> {
    match *end {
        End::Signaled(signal) => Some(signal),
        End::Exited(code) if (129..=128 + 64).contains(&code) => Some(code - 128),
        _ => None,
    }
}

/// What the canary run under one config showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canary {
    /// It died by this signal too: the profile kills any process.
    Killed(i32),
    /// It did not die by a signal: the probe's crash is its own.
    Lived,
}

/// One lazily-run canary per config, shared by the cells of that config.
#[derive(Debug)]
pub struct Canaries {
    slots: Vec<OnceLock<Canary>>,
}

impl Canaries {
    /// Canaries for `configs` configs, none run yet.
    pub fn new(configs: usize) -> Canaries {
        Canaries {
            slots: (0..configs).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Whether `config` kills every process, running `launch_canary` the
    /// first time a cell of that config asks (at most once per config, also
    /// when cells ask from several threads at once).
    pub fn check(&self, config: usize, launch_canary: impl FnOnce() -> End) -> &Canary {
        self.slots[config].get_or_init(|| match died_by_signal(&launch_canary()) {
            Some(signal) => Canary::Killed(signal),
            None => Canary::Lived,
        })
    }
}

/// The reason for a cell whose probe died by `signal` under a config whose
/// canary showed `canary`; `None` keeps the probe's own crash reason.
pub fn crash_reason(canary: &Canary) -> Option<String> {
    match canary {
        Canary::Killed(signal) => Some(format!(
            "{KILLS_EVERY_PROCESS}: beltcheck-probe {CANARY_ARG}, which does nothing, died by signal {signal} under the same profile (every probe crash of this config is this one finding)"
        )),
        Canary::Lived => None,
    }
}

/// The observation of a cell whose probe died by a signal without a
/// verdict: the config's canary (run by `launch_canary` if not yet run)
/// decides whether the crash is the probe's or the profile's. Any other
/// observation is returned as it is.
pub fn explain(
    canaries: &Canaries,
    config: usize,
    obs: Observation,
    launch_canary: impl FnOnce() -> End,
) -> Observation {
    let Observation::NoVerdict { output_tail, .. } = &obs else {
        return obs;
    };
    match crash_reason(canaries.check(config, launch_canary)) {
        Some(reason) => Observation::NoVerdict {
            reason,
            output_tail: output_tail.clone(),
        },
        None => obs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_once_per_config_even_when_many_cells_crash() {
        let canaries = Canaries::new(2);
        let runs = AtomicUsize::new(0);
        let launch = || {
            runs.fetch_add(1, Ordering::SeqCst);
            End::Signaled(6)
        };
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| canaries.check(0, launch));
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(canaries.check(0, launch), &Canary::Killed(6));
        assert_eq!(canaries.check(1, || End::Exited(0)), &Canary::Lived);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn explain_rewrites_only_verdictless_crashes() {
        let crashed = || Observation::NoVerdict {
            reason: "probe crashed (signal 6) without a verdict".into(),
            output_tail: "abort".into(),
        };
        let c = Canaries::new(2);
        let Observation::NoVerdict {
            reason,
            output_tail,
        } = explain(&c, 0, crashed(), || End::Signaled(6))
        else {
            panic!("still no verdict");
        };
        assert!(reason.starts_with(KILLS_EVERY_PROCESS));
        assert_eq!(output_tail, "abort");
        assert_eq!(explain(&c, 1, crashed(), || End::Exited(0)), crashed());
        let not_run = Observation::ProfileRejected {
            message: "x".into(),
        };
        assert_eq!(explain(&c, 1, not_run.clone(), || unreachable!()), not_run);
    }

    #[test]
    fn only_a_killed_canary_replaces_the_crash_reason() {
        let reason = crash_reason(&Canary::Killed(6)).unwrap();
        assert!(reason.starts_with(KILLS_EVERY_PROCESS), "{reason}");
        assert!(reason.contains("signal 6"), "{reason}");
        assert_eq!(crash_reason(&Canary::Lived), None);
        // A canary that exits (even non-zero) or hangs is not a kill.
        let c = Canaries::new(1);
        assert_eq!(
            c.check(0, || End::TimedOut(std::time::Duration::from_secs(1))),
            &Canary::Lived
        );
    }

    #[test]
    fn a_signal_death_reported_as_exit_128_plus_n_counts() {
        assert_eq!(died_by_signal(&End::Signaled(11)), Some(11));
        assert_eq!(died_by_signal(&End::Exited(134)), Some(6));
        assert_eq!(died_by_signal(&End::Exited(2)), None);
        assert_eq!(died_by_signal(&End::Exited(128)), None);
        assert_eq!(died_by_signal(&End::Exited(255)), None);
    }
}
